"""Keras logs: the CSVLogger file and a dumped ``History``.

* CSVLogger (``training.log`` by default): header ``epoch`` then the metric
  keys in sorted order; ``lr`` in tf.keras 2.x, ``learning_rate`` in Keras 3;
  CRLF line ends (csv.writer's default); ``NA`` for a missing value. The step
  axis of these runs is the epoch index as Keras writes it (0-based).
* ``json.dump(model.fit(...).history)``: a dict of metric -> per-epoch list
  (``acc`` or ``accuracy``, ``lr`` or ``learning_rate``; multi-output models
  prefix the output name, ``LMOutput_loss``). Entries may be null.
* ``pd.DataFrame(history.history).to_json()`` (columns of ``{"0": x, ...}``) is
  read as the same dict of lists.
* A pickled History dict is read only with ``allow_pickle=True``: unpickling
  runs arbitrary code, so it is never the default.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from .base import LogReadError, RunData, frame_from_columns
from .csvlog import read_wide_csv, wide_to_long

__all__ = ["looks_like_history", "read_keras_csv", "read_keras_history", "read_keras_pickle"]

MAX_JSON_BYTES = 256 << 20


def read_keras_csv(path: Path) -> RunData:
    df = read_wide_csv(path)
    if "epoch" not in df.columns:
        raise LogReadError(path, "Keras CSVLogger file without an 'epoch' column")
    frame, warnings = wide_to_long(path, df, step_from_epoch=True)
    if frame.height == 0:
        raise LogReadError(path, "no metric values (header only?)")
    return RunData(source="keras_csv", frame=frame, files=[str(path)], warnings=warnings)


def _number(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)  # "NaN", "Infinity" survive a JSON round trip as strings sometimes
        except ValueError:
            return None
    if isinstance(x, list) and len(x) == 1:
        return _number(x[0])
    return None


def _index_dict_to_list(v: Any) -> Any:
    """pandas' DataFrame.to_json() writes each column as {"0": x, "1": y, ...}."""
    if isinstance(v, dict) and v and all(isinstance(k, str) and k.isdigit() for k in v):
        return [v[k] for k in sorted(v, key=int)]
    return v


def normalize_history(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _index_dict_to_list(v) for k, v in obj.items()}
    return obj


def looks_like_history(obj: Any) -> bool:
    """A dict of metric name -> list of numbers, with at least one loss-like key."""
    obj = normalize_history(obj)
    if not isinstance(obj, dict) or not obj:
        return False
    lists = [k for k, v in obj.items() if isinstance(k, str) and isinstance(v, list)]
    if not lists:
        return False
    if not any("loss" in k.lower() or "acc" in k.lower() for k in lists):
        return False
    return all(isinstance(v, list) for v in obj.values())


def history_to_run(path: Path, hist: dict, source: str) -> RunData:
    tags: list[str] = []
    steps: list[int] = []
    values: list[float] = []
    skipped = []
    for key in sorted(hist):
        seq = hist[key]
        if not isinstance(seq, list):
            skipped.append(str(key))
            continue
        for i, x in enumerate(seq):
            v = _number(x)
            if v is None:
                continue
            tags.append(str(key))
            steps.append(i)
            values.append(v)
    if not values:
        raise LogReadError(path, "Keras History holds no numeric values")
    epochs = np.asarray(steps, dtype=np.float64)
    frame = frame_from_columns(tags, steps, values, epoch=epochs)
    warnings = [f"{path.name}: non-list keys left out: {', '.join(skipped[:5])}"] if skipped else []
    return RunData(source=source, frame=frame, files=[str(path)], warnings=warnings)


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


def read_keras_history(path: Path, obj: Any = None) -> RunData:
    obj = load_json(path) if obj is None else obj
    if isinstance(obj, dict) and isinstance(obj.get("history"), dict):
        obj = obj["history"]  # {"history": {...}, "params": {...}} dumps
    obj = normalize_history(obj)
    if not looks_like_history(obj):
        raise LogReadError(path, "not a Keras History dump (expected a dict of metric -> list)")
    return history_to_run(path, obj, "keras_history")


def read_keras_pickle(path: Path, allow_pickle: bool = False) -> RunData:
    if not allow_pickle:
        raise LogReadError(path, "pickled history not read: unpickling runs code; pass --allow-pickle if you trust it")
    try:
        with open(path, "rb") as fh:
            obj = pickle.load(fh)  # noqa: S301 - the user opted in with --allow-pickle
    except Exception as exc:
        raise LogReadError(path, f"cannot unpickle: {type(exc).__name__}: {exc}") from None
    obj = getattr(obj, "history", obj)
    if not looks_like_history(obj):
        raise LogReadError(path, "pickle does not hold a Keras History dict")
    return history_to_run(path, obj, "keras_history")
