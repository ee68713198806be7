"""PyTorch Lightning's CSVLogger: ``lightning_logs/version_N/metrics.csv``.

Rows are sparse: a row per ``log()`` call moment, with ``epoch`` and ``step``
columns and empty cells for everything not logged then. Names carry
``_step`` / ``_epoch`` suffixes when a metric is logged both ways;
LearningRateMonitor writes ``lr-Adam`` (``lr-Adam/pg1`` per group) on rows of
their own, often with an empty ``epoch``. ``hparams.yaml`` beside the file
holds the hyperparameters; it is read with the bounded safe loader of
:mod:`lrreport.ingest.yamlload` only.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

from .base import LogReadError, RunData
from .csvlog import add_damage, read_wide_csv, wide_to_long
from .yamlload import read_yaml, refused_warning

__all__ = ["flatten_hparams", "read_hparams_yaml", "read_lightning_csv"]


#: hparams.yaml is flattened to at most this many keys and this depth: YAML aliases can
#: make a small file expand exponentially (a "billion laughs" file), which must not hang us.
MAX_HPARAMS, MAX_DEPTH, MAX_TEXT = 1000, 6, 200
_short = reprlib.Repr()
_short.maxlevel, _short.maxlist, _short.maxdict, _short.maxstring, _short.maxother = 2, 6, 6, MAX_TEXT, MAX_TEXT


def _flatten(d: dict, prefix: str = "", out: dict[str, Any] | None = None, depth: int = 0) -> dict[str, Any]:
    out = {} if out is None else out
    for k, v in d.items():
        if len(out) >= MAX_HPARAMS:
            break
        key = f"{prefix}{k}"
        if isinstance(v, dict) and depth < MAX_DEPTH:
            _flatten(v, f"{key}.", out, depth + 1)
        elif isinstance(v, (int, float, bool)) or v is None:
            out[key] = v
        elif isinstance(v, str):
            out[key] = v[:MAX_TEXT]
        else:
            out[key] = _short.repr(v)
    return out


def flatten_hparams(d: dict) -> dict[str, Any]:
    """A nested config as flat dotted keys (``optimizer.lr``), bounded in size and depth."""
    return _flatten(d)


def read_hparams_yaml(path: Path) -> tuple[dict[str, Any], list[str]]:
    """A run's hparams.yaml through the bounded loader (:mod:`lrreport.ingest.yamlload`):
    (flat hyperparameters, warnings). Never raises: the run is read without them."""
    refused: list[str] = []
    try:
        obj = read_yaml(path, refused)
    except LogReadError as exc:
        return {}, [f"{path.name}: hyperparameters not read ({exc.reason})"]
    if not isinstance(obj, dict):
        return {}, refused_warning(path.name, refused)
    return _flatten(obj), refused_warning(path.name, refused)


def read_lightning_csv(path: Path) -> RunData:
    damage: list[tuple[str, str]] = []
    notes: list[str] = []
    df = read_wide_csv(path, damage, notes)
    if "step" not in [c.lower() for c in df.columns]:
        raise LogReadError(path, "Lightning metrics.csv without a 'step' column")
    frame, warnings = wide_to_long(path, df, damage=damage)
    warnings = notes + warnings
    if frame.height == 0:
        raise LogReadError(path, "no metric values (header only?)")
    hparams: dict[str, Any] = {}
    files = [str(path)]
    hp = path.parent / "hparams.yaml"
    if hp.is_file():
        hparams, w = read_hparams_yaml(hp)
        warnings += w
        files.append(str(hp))
    run = RunData(source="lightning_csv", frame=frame, files=files, hparams=hparams, warnings=warnings)
    add_damage(path, [run], damage)
    return run
