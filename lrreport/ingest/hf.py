"""Hugging Face ``Trainer`` state: ``trainer_state.json``.

``log_history`` is a list of dicts. Training entries carry ``loss``,
``learning_rate``, ``grad_norm``, ``epoch`` and ``step``; evaluation entries
carry ``eval_*`` keys (``eval_loss``, ``eval_accuracy``; several eval sets give
``eval_<name>_loss``). Throughput keys (``*_runtime``, ``*_per_second``,
``total_flos``) are not training signals and are left out, and so is the final
summary entry (it has ``train_runtime`` and a whole-run average ``train_loss``).

``output_dir/checkpoint-N/trainer_state.json`` are snapshots of the same run:
:mod:`lrreport.ingest.detect` keeps only the most complete one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .base import LogReadError, RunData, frame_from_columns
from .files import check_time
from .keras import load_json
from .numbers import to_step, to_value

__all__ = ["looks_like_trainer_state", "read_trainer_state", "trainer_state_check", "trainer_state_size"]

NOT_SIGNALS = ("_runtime", "_per_second", "total_flos", "_samples", "_steps_per_second")
META_KEYS = ("step", "epoch")
TOP_LEVEL_HPARAMS = (
    "train_batch_size",
    "num_train_epochs",
    "max_steps",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "best_metric",
    "best_global_step",
    "global_step",
)


def looks_like_trainer_state(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("log_history"), list)


def trainer_state_size(path: Path) -> tuple[int, int]:
    """(log entries, global_step) of a trainer_state.json, for picking the most complete copy."""
    return trainer_state_check(path)[0]


def trainer_state_check(path: Path) -> tuple[tuple[int, int], str | None]:
    """((log entries, global_step), why it cannot be read or None); (-1, -1) when unreadable."""
    try:
        obj = load_json(path)
    except LogReadError as exc:
        return (-1, -1), exc.reason
    if not looks_like_trainer_state(obj):
        return (-1, -1), "not a Hugging Face trainer_state.json (no 'log_history' list)"
    return (len(obj["log_history"]), to_step(obj.get("global_step")) or 0), None


def _is_signal(key: str) -> bool:
    return key not in META_KEYS and not any(s in key for s in NOT_SIGNALS)


def read_trainer_state(path: Path, obj: Any = None) -> RunData:
    obj = load_json(path) if obj is None else obj
    if not looks_like_trainer_state(obj):
        raise LogReadError(path, "not a Hugging Face trainer_state.json (no 'log_history' list)")
    tags: list[str] = []
    steps: list[int] = []
    epochs: list[float | None] = []
    values: list[float] = []
    skipped = 0
    bad_step = 0
    for i, entry in enumerate(obj["log_history"]):
        if i % 4096 == 0:
            check_time(path)
        if not isinstance(entry, dict):
            skipped += 1
            continue
        if "train_runtime" in entry:
            continue
        raw_step = entry.get("step")
        step = to_step(raw_step) if isinstance(raw_step, (int, float)) and not isinstance(raw_step, bool) else None
        if step is None:
            if isinstance(raw_step, (int, float)) and not isinstance(raw_step, bool):
                bad_step += 1  # NaN, Inf, 1e400: a damaged entry, counted apart
            else:
                skipped += 1
            continue
        ep = entry.get("epoch")
        ep = to_value(ep) if isinstance(ep, (int, float)) and not isinstance(ep, bool) else None
        if ep is not None and not math.isfinite(ep):
            ep = None
        for key in sorted(entry, key=str):
            if not isinstance(key, str) or not _is_signal(key):
                continue
            v = entry[key]
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                continue
            v = to_value(v)
            if v is None:
                continue
            tags.append(key)
            steps.append(step)
            epochs.append(ep)
            values.append(v)
    if not values:
        raise LogReadError(path, "trainer_state.json has no logged values in log_history")
    hparams = {k: obj[k] for k in TOP_LEVEL_HPARAMS if isinstance(obj.get(k), (int, float, str)) and k in obj}
    frame = frame_from_columns(tags, steps, values, epoch=epochs)
    run = RunData(source="hf_trainer_state", frame=frame, files=[str(path)], hparams=hparams)
    if skipped:
        run.note(path, "damaged", f"{skipped} malformed log_history entries skipped")
    if bad_step:
        run.note(path, "damaged", f"{bad_step} log_history entries with an unusable step (NaN, Inf or beyond 2**62) skipped")
    return run
