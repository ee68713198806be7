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

import io
import json
import math
import pickle
from pathlib import Path
from typing import Any

from .base import LogReadError, RunData
from .csvlog import read_table_runs, read_wide_csv
from .files import read_bytes
from .history import find_history, history_to_runs, looks_like_history
from .numbers import json_int

__all__ = ["looks_like_history", "read_keras_csv", "read_keras_history", "read_keras_pickle"]

def read_keras_csv(path: Path) -> list[RunData]:
    damage: list[tuple[str, str]] = []
    notes: list[str] = []
    df = read_wide_csv(path, damage, notes)
    if "epoch" not in df.columns:
        raise LogReadError(path, "Keras CSVLogger file without an 'epoch' column")
    # CSVLogger(append=True) appends the next fit's rows under the same header.
    runs = [
        r for r in read_table_runs(path, df, "keras_csv", step_from_epoch=True, damage=damage, notes=notes) if r.frame.height
    ]
    if not runs:
        raise LogReadError(path, "no metric values (header only?)")
    return runs


def _parse_constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def load_json(path: Path, kind: str = "json") -> Any:
    """A JSON document through the safe opener (size cap, regular files only): integers of
    more than 18 digits become floats, NaN/Infinity are read; every failure is a LogReadError."""
    data = read_bytes(path, kind)
    try:
        return json.loads(data.decode("utf-8-sig"), parse_constant=_parse_constant, parse_int=json_int)
    except UnicodeDecodeError:
        raise LogReadError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise LogReadError(path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise LogReadError(path, "JSON nested too deeply") from None
    except (ValueError, OverflowError) as exc:
        raise LogReadError(path, f"invalid JSON: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None
    except MemoryError:
        raise LogReadError(path, "out of memory while parsing the JSON") from None


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
    # Read whole (capped) and unpickled from memory by the pure-Python unpickler: a damaged
    # length field meets the end of the data instead of asking the file for gigabytes, and a
    # damaged memo index (LONG_BINPUT 2**32) fills a dict entry where the C unpickler
    # would allocate and zero a table of that many slots.
    data = read_bytes(path, "pickle")
    try:
        obj = pickle._Unpickler(io.BytesIO(data)).load()  # noqa: S301 - the user opted in with --allow-pickle
    except (Exception, RecursionError) as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise LogReadError(path, f"cannot unpickle: {type(exc).__name__}: {msg}") from None
    obj = getattr(obj, "history", obj)
    hist = find_history(obj)
    if hist is None:
        raise LogReadError(path, "pickle does not hold a Keras History dict")
    return history_to_runs(path, hist, "keras_history")
