"""Per-epoch histories saved as JSON: Keras' ``History`` and the home-made dicts like it.

Layouts read (seen from Keras 2.x/3.x ``model.fit(...).history``, pandas 1.x-3.x
``to_json``, and hand-written PyTorch loops that ``json.dump`` their own dict):

* ``{"loss": [...], "val_loss": [...], "lr": [...]}``: metric -> one value per
  epoch (nulls and ``NaN``/``Infinity`` allowed); epoch k is list index k;
* pandas ``DataFrame(history).to_json()`` with orient ``columns`` (the default:
  ``{"loss": {"0": x, ...}}``), ``index``, ``records``, ``split`` or ``table``,
  and a plain list of per-epoch dicts;
* metadata beside the lists: strings (a timestamp), lists that are not one
  value per epoch (class names, ``phase_starts``) are left out and named in the
  run's warnings; a number named like a metric (``test_accuracy``) is one point
  at the last epoch; other scalars (``batch_size``, ``lr``) are hyperparameters;
* a nested ``{"config": {...}, "history": {...}}`` or Keras' own
  ``{"history": {...}, "params": {...}}``: the settings become the run's
  hyperparameters (flattened to dotted keys);
* an ``epoch``/``epochs`` list numbers the epochs when there is one;
* one dict of lists per split (``{"train": {"loss": [...]}, "val": {"loss": [...]}}``)
  is read as ``train/loss``, ``val/loss``;
* a second training phase saved under a prefix (``fine_tune_loss``,
  ``fine_tune_val_loss`` beside ``loss``, ``val_loss``) is read as a run of its
  own, ``<file>#fine_tune``: its epochs count from 0 again and its curve is
  not a continuation of the first phase's (a new optimizer, often a new LR).

The source is ``keras_history`` when the dict has Keras' own ``loss`` key, and
``history_json`` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import SPLIT_WORDS, match_tag, split_words
from .base import LogReadError, RunData, frame_from_columns
from .files import check_time
from .lightning import flatten_hparams
from .numbers import MAX_STEP, to_value

__all__ = ["History", "find_history", "history_to_runs", "looks_like_history", "normalize_history", "number"]

#: Keys beside a history whose dict holds the run's settings.
CONFIG_KEYS = ("config", "params", "hparams", "hyperparameters", "args", "settings", "cfg")
#: Scalars beside a history that describe the file or the machine, not the run's settings
#: (a timestamp in the hyperparameters would keep a sweep's runs from grouping).
NOT_HPARAM = re.compile(r"time|date|created|started|finished|duration|elapsed|runtime|path|dir|file|host|user", re.I)
MAX_TEXT = 200
_PLAIN_NUMBERS = {int, float}


def number(x: Any) -> float | None:
    """A JSON value as a float: numbers, bools, "NaN"/"Infinity" strings, one-element lists
    (range-checked by :func:`lrreport.ingest.numbers.to_value`: never raises)."""
    if isinstance(x, list):
        return number(x[0]) if len(x) == 1 else None
    if isinstance(x, (dict, tuple, set, bytes)):
        return None
    return to_value(x)


def _digits(k: Any) -> bool:
    return isinstance(k, str) and k.isascii() and k.isdigit()


def _index_dict_to_list(v: Any) -> Any:
    """pandas' DataFrame.to_json() writes each column as {"0": x, "1": y, ...}."""
    if isinstance(v, dict) and v and all(_digits(k) for k in v):
        return [v[k] for k in sorted(v, key=_index_key)]
    return v


def _index_key(k: str) -> tuple[int, str]:
    k = k.lstrip("0") or "0"
    return (len(k), k)  # numeric order without int(): a 5000-digit key is no ValueError


def _records_to_columns(rows: list) -> dict[str, list] | None:
    """[{"epoch": 0, "loss": ..}, ...] -> {"epoch": [...], "loss": [...]} (keys in first-seen order)."""
    if not rows or not all(isinstance(r, dict) for r in rows):
        return None
    keys: list[str] = []
    for r in rows:
        for k in r:
            if isinstance(k, str) and k not in keys:
                keys.append(k)
    return {k: [r.get(k) for r in rows] for k in keys}


def normalize_history(obj: Any) -> Any:
    """The dict of metric -> list behind each pandas orient and a list of per-epoch dicts."""
    if isinstance(obj, list):
        return _records_to_columns(obj) or obj
    if not isinstance(obj, dict):
        return obj
    if isinstance(obj.get("columns"), list) and isinstance(obj.get("data"), list):  # orient="split"
        cols = obj["columns"]
        rows = [r for r in obj["data"] if isinstance(r, list) and len(r) == len(cols)]
        return {str(c): [r[i] for r in rows] for i, c in enumerate(cols)}
    if isinstance(obj.get("schema"), dict) and isinstance(obj.get("data"), list):  # orient="table"
        return _records_to_columns(obj["data"]) or obj
    if obj and all(_digits(k) for k in obj) and all(isinstance(v, dict) for v in obj.values()):
        return _records_to_columns([obj[k] for k in sorted(obj, key=_index_key)]) or obj  # orient="index"
    return {k: _index_dict_to_list(v) for k, v in obj.items()}


def _numeric_list(v: Any) -> bool:
    """A list of numbers (nulls allowed), at least one of them a number."""
    if not isinstance(v, list) or not v:
        return False
    if set(map(type, v)) <= _PLAIN_NUMBERS:
        return True  # the common case, without a Python call per element
    seen = False
    for x in v:
        if x is None:
            continue
        if isinstance(x, str) or number(x) is None:
            if isinstance(x, str) and x in ("NaN", "nan", "Infinity", "-Infinity", "inf", "-inf"):
                continue
            return False
        seen = True
    return seen


def _floats(items: list) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64, which entries hold a number): one numpy call for a plain list of
    numbers, a range-checked conversion per entry otherwise (nulls, strings, huge ints)."""
    if set(map(type, items)) <= _PLAIN_NUMBERS:
        try:
            return np.array(items, dtype=np.float64), np.ones(len(items), dtype=bool)
        except OverflowError:
            pass  # an int beyond float range: per entry, where it becomes +/-Inf
    conv = [number(x) for x in items]
    present = np.fromiter((v is not None for v in conv), dtype=bool, count=len(conv))
    vals = np.fromiter((np.nan if v is None else v for v in conv), dtype=np.float64, count=len(conv))
    return vals, present


def _loss_or_acc(key: str) -> bool:
    k = key.lower()
    return "loss" in k or "acc" in k


@dataclass
class History:
    """A history found in a JSON document, and what was beside it."""

    lists: dict[str, list]  #: metric -> per-epoch list
    epoch_key: str | None = None  #: a list that numbers the epochs
    hparams: dict[str, Any] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)  #: metric-named numbers (a final test_loss)
    left_out: list[str] = field(default_factory=list)  #: keys that are not per-epoch metrics


def find_history(obj: Any) -> History | None:
    """The per-epoch metric lists of a JSON document, or None when it holds none named like a loss or accuracy."""
    hparams: dict[str, Any] = {}
    if isinstance(obj, dict) and isinstance(obj.get("history"), (dict, list)):
        for k in CONFIG_KEYS:
            if isinstance(obj.get(k), dict):
                hparams.update(flatten_hparams(obj[k]))
        inner = normalize_history(obj["history"])
        if not isinstance(inner, dict):
            return None
        beside = {k: v for k, v in obj.items() if k != "history" and k not in CONFIG_KEYS and not isinstance(v, (dict, list))}
        obj = {**beside, **inner}
    else:
        obj = normalize_history(obj)
    if not isinstance(obj, dict) or not obj:
        return None
    # {"train": {"loss": [...]}, "val": {"loss": [...]}}: one dict of lists per split.
    if any(isinstance(v, dict) and str(k).lower() in SPLIT_WORDS for k, v in obj.items()):
        flat: dict[str, Any] = {}
        for k, v in obj.items():
            if isinstance(v, dict) and str(k).lower() in SPLIT_WORDS:
                flat.update({f"{k}/{kk}": _index_dict_to_list(vv) for kk, vv in v.items()})
            else:
                flat[k] = v
        obj = flat
    lists = {k: v for k, v in obj.items() if isinstance(k, str) and _numeric_list(v)}
    if not any(_loss_or_acc(k) for k in lists):
        return None
    # The epoch count is the longest loss/accuracy list; a numeric list of another length
    # whose name is no metric (phase_starts, class counts) is metadata, not a curve.
    n_epochs = max(len(v) for k, v in lists.items() if _loss_or_acc(k))
    hist = History(lists={}, hparams=hparams)
    for key in obj:
        v = obj[key]
        k = str(key)
        known = match_tag(k)
        if key in lists:
            if k.lower() in ("epoch", "epochs") and len(v) == n_epochs:
                hist.epoch_key = k
                hist.lists[k] = v
            elif len(v) == n_epochs or known.known:
                hist.lists[k] = v
            else:
                hist.left_out.append(k)
        elif k in CONFIG_KEYS and isinstance(v, dict):
            hist.hparams.update(flatten_hparams(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and known.known and not known.metric.startswith("lr"):
            hist.scalars[k] = to_value(v)
        elif isinstance(v, (int, float, bool)) and not NOT_HPARAM.search(k):
            hist.hparams[k] = v
        elif isinstance(v, str) and len(v) <= MAX_TEXT and not NOT_HPARAM.search(k):
            hist.hparams[k] = v
        else:
            hist.left_out.append(k)
    return hist


def looks_like_history(obj: Any) -> bool:
    """A JSON document holding per-epoch metric lists, at least one a loss or accuracy."""
    return find_history(obj) is not None


def phase_prefixes(keys: list[str]) -> dict[str, list[str]]:
    """A second training phase saved under a prefix (``fine_tune_loss`` beside ``loss``):
    prefix -> its keys, when at least two metrics (one a loss) carry it. A prefix made of
    split words (``val_``, ``train_``) is no phase."""
    keyset = set(keys)
    found: dict[str, list[str]] = {}
    for k in keys:
        for base in keys:
            if base == k or not k.endswith("_" + base):
                continue
            prefix = k[: -len(base) - 1]
            words = split_words(prefix)
            if prefix and prefix not in keyset and words and not any(w in SPLIT_WORDS for w in words):
                found.setdefault(prefix, [])
                if k not in found[prefix]:
                    found[prefix].append(k)
    return {p: sorted(ks) for p, ks in sorted(found.items()) if len(ks) >= 2 and any("loss" in k.lower() for k in ks)}


def history_to_runs(path: Path, hist: History, source: str | None = None) -> list[RunData]:
    """One run per training phase of a history (usually one)."""
    if source is None:
        source = "keras_history" if "loss" in hist.lists else "history_json"
    metric_keys = [k for k in hist.lists if k != hist.epoch_key]
    phases = phase_prefixes(metric_keys)
    in_phase = {k for ks in phases.values() for k in ks}
    groups: list[tuple[str, list[str]]] = [("", [k for k in metric_keys if k not in in_phase])]
    groups += [(p, phases[p]) for p in phases]
    notes = []
    if hist.left_out:
        notes.append(f"{path.name}: keys that are not per-epoch metrics left out: {', '.join(hist.left_out[:6])}")
    if phases:
        names = ", ".join(f"'{p}_*'" for p in phases)
        notes.append(f"{path.name}: a second training phase under {names} keys is read as a run of its own (#{', #'.join(phases)})")
    runs = []
    epoch_list = hist.lists.get(hist.epoch_key) if hist.epoch_key else None
    for suffix, keys in groups:
        check_time(path)
        tags: list[np.ndarray] = []
        steps: list[np.ndarray] = []
        epochs: list[np.ndarray] = []
        values: list[np.ndarray] = []
        skipped = 0
        for key in sorted(keys):
            vals, present = _floats(hist.lists[key])
            n = len(vals)
            ep = np.arange(n, dtype=np.float64)
            if epoch_list is not None and not suffix:
                given, has = _floats(epoch_list[:n])
                use = np.zeros(n, dtype=bool)
                use[: len(given)] = has & np.isfinite(given)
                ep[: len(given)] = np.where(use[: len(given)], given, ep[: len(given)])
            ok = present & (np.abs(ep) <= MAX_STEP)
            skipped += int(np.count_nonzero(present & ~ok))
            tags.append(np.full(int(ok.sum()), key, dtype=object))
            steps.append(np.trunc(ep[ok]).astype(np.int64))
            epochs.append(ep[ok])
            values.append(vals[ok])
        n_points = sum(len(v) for v in values)
        if not suffix and hist.scalars and n_points:
            last = int(max(int(s.max()) for s in steps if len(s)))
            for key in sorted(hist.scalars):
                tags.append(np.array([key], dtype=object))
                steps.append(np.array([last], dtype=np.int64))
                epochs.append(np.array([float(last)]))
                values.append(np.array([hist.scalars[key]], dtype=np.float64))
        if not n_points:
            continue
        frame = frame_from_columns(
            np.concatenate(tags).tolist(), np.concatenate(steps), np.concatenate(values), epoch=np.concatenate(epochs)
        )
        run = RunData(source=source, frame=frame, files=[str(path)], hparams=dict(hist.hparams), warnings=list(notes), run_suffix=suffix)
        if skipped:
            run.note(path, "damaged", f"{skipped} entries with an unusable epoch (beyond 2**62) skipped")
        runs.append(run)
    if not runs:
        raise LogReadError(path, "the history holds no numeric values")
    return runs
