"""PyTorch Lightning's CSVLogger: ``lightning_logs/version_N/metrics.csv``.

Rows are sparse: a row per ``log()`` call moment, with ``epoch`` and ``step``
columns and empty cells for everything not logged then. Names carry
``_step`` / ``_epoch`` suffixes when a metric is logged both ways;
LearningRateMonitor writes ``lr-Adam`` (``lr-Adam/pg1`` per group) on rows of
their own, often with an empty ``epoch``. ``hparams.yaml`` beside the file
holds the hyperparameters; it is read with ``yaml.safe_load`` only.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

from .base import LogReadError, RunData
from .csvlog import read_wide_csv, wide_to_long

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
    try:
        with open(path, encoding="utf-8") as fh:
            obj = yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {}, [f"{path.name}: hyperparameters not read ({first})"]
    if not isinstance(obj, dict):
        return {}, []
    return _flatten(obj), []


def read_lightning_csv(path: Path) -> RunData:
    df = read_wide_csv(path)
    if "step" not in [c.lower() for c in df.columns]:
        raise LogReadError(path, "Lightning metrics.csv without a 'step' column")
    frame, warnings = wide_to_long(path, df)
    if frame.height == 0:
        raise LogReadError(path, "no metric values (header only?)")
    hparams: dict[str, Any] = {}
    files = [str(path)]
    hp = path.parent / "hparams.yaml"
    if hp.is_file():
        hparams, w = read_hparams_yaml(hp)
        warnings += w
        files.append(str(hp))
    return RunData(source="lightning_csv", frame=frame, files=files, hparams=hparams, warnings=warnings)
