"""Keras logs: the CSVLogger file and a dumped ``History``.

* CSVLogger (``training.log`` by default): header ``epoch`` then the metric
  keys in sorted order; ``lr`` in tf.keras 2.x, ``learning_rate`` in Keras 3;
  CRLF line ends (csv.writer's default); ``NA`` for a missing value. The step
  axis of these runs is the epoch index as Keras writes it (0-based).
* ``json.dump(model.fit(...).history)``: a dict of metric -> per-epoch list
  (``acc`` or ``accuracy``, ``lr`` or ``learning_rate``; multi-output models
  prefix the output name, ``LMOutput_loss``). Entries may be null. Read by
  :mod:`lrreport.ingest.history`, with pandas' ``to_json`` layouts and the
  home-made dicts like it.
* A pickled History dict is read only with ``allow_pickle=True``: unpickling
  runs arbitrary code, so it is never the default.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

from .base import LogReadError, RunData
from .csvlog import read_table_runs, read_wide_csv
from .history import find_history, history_to_runs, looks_like_history

__all__ = ["looks_like_history", "read_keras_csv", "read_keras_history", "read_keras_pickle"]

MAX_JSON_BYTES = 256 << 20


def read_keras_csv(path: Path) -> list[RunData]:
    df = read_wide_csv(path)
    if "epoch" not in df.columns:
        raise LogReadError(path, "Keras CSVLogger file without an 'epoch' column")
    # CSVLogger(append=True) appends the next fit's rows under the same header.
    runs = [r for r in read_table_runs(path, df, "keras_csv", step_from_epoch=True) if r.frame.height]
    if not runs:
        raise LogReadError(path, "no metric values (header only?)")
    return runs


def _parse_constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def load_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise LogReadError(path, f"{size / 2**20:.0f} MiB is too large for a JSON training log")
        with open(path, "rb") as fh:
            data = fh.read()
        return json.loads(data.decode("utf-8-sig"), parse_constant=_parse_constant)
    except LogReadError:
        raise
    except UnicodeDecodeError:
        raise LogReadError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise LogReadError(path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise LogReadError(path, "JSON nested too deeply") from None
    except OSError as exc:
        raise LogReadError(path, f"cannot read: {exc.strerror or exc}") from None


def read_keras_history(path: Path, obj: Any = None) -> list[RunData]:
    """A history JSON (see :mod:`lrreport.ingest.history` for every layout read)."""
    obj = load_json(path) if obj is None else obj
    hist = find_history(obj)
    if hist is None:
        raise LogReadError(path, "not a training history (expected metric -> per-epoch lists, one named like a loss or accuracy)")
    return history_to_runs(path, hist)


def read_keras_pickle(path: Path, allow_pickle: bool = False) -> list[RunData]:
    if not allow_pickle:
        raise LogReadError(path, "pickled history not read: unpickling runs code; pass --allow-pickle if you trust it")
    try:
        with open(path, "rb") as fh:
            obj = pickle.load(fh)  # noqa: S301 - the user opted in with --allow-pickle
    except Exception as exc:
        raise LogReadError(path, f"cannot unpickle: {type(exc).__name__}: {exc}") from None
    obj = getattr(obj, "history", obj)
    hist = find_history(obj)
    if hist is None:
        raise LogReadError(path, "pickle does not hold a Keras History dict")
    return history_to_runs(path, hist, "keras_history")
