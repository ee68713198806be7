"""Sacred's file store: ``<run id>/metrics.json`` beside ``config.json``.

Sacred's ``FileStorageObserver`` (sacred 0.7-0.8) writes, per run folder, a
``metrics.json`` mapping each logged name to its series,
``{"training.loss": {"steps": [...], "values": [...], "timestamps": [...]}}``
(``_run.log_scalar(name, value, step)``), and the run's settings as
``config.json``. Steps are kept as logged; the timestamps (ISO 8601, UTC) become
wall times; ``config.json`` supplies the hyperparameters.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import match_tag
from .base import LogReadError, RunData, frame_from_columns
from .lightning import flatten_hparams
from .numbers import to_step, to_value

__all__ = ["looks_like_sacred_metrics", "read_sacred_metrics"]


def _series(v: Any) -> bool:
    return isinstance(v, dict) and isinstance(v.get("values"), list) and isinstance(v.get("steps", []), list)


def looks_like_sacred_metrics(obj: Any) -> bool:
    """A dict of ``{"steps", "values"}`` series, at least one named like a loss or accuracy."""
    if not isinstance(obj, dict) or not obj or not all(_series(v) for v in obj.values()):
        return False
    return any(match_tag(str(k)).metric.endswith(("loss", "acc")) for k in obj)


def _wall(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        t = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)  # Sacred writes UTC without an offset
    return t.timestamp()


def read_sacred_metrics(path: Path, obj: Any = None) -> RunData:
    from .keras import load_json

    if obj is None:
        obj = load_json(path)
    if not looks_like_sacred_metrics(obj):
        raise LogReadError(path, "not a Sacred metrics.json (a dict of {steps, values} series)")
    tags: list[str] = []
    steps: list[int] = []
    values: list[float] = []
    walls: list[float | None] = []
    skipped = 0
    for name in sorted(obj, key=str):
        ser = obj[name]
        vals = ser["values"]
        st = ser.get("steps") or list(range(len(vals)))
        ts = ser.get("timestamps") or []
        for i, raw in enumerate(vals):
            step = to_step(st[i]) if i < len(st) and not isinstance(st[i], str) else None
            if step is None:
                skipped += 1
                continue
            v = to_value(raw) if not isinstance(raw, bool) else float(raw)
            if v is None:
                skipped += 1
                continue
            tags.append(str(name))
            steps.append(step)
            values.append(v)
            walls.append(_wall(ts[i]) if i < len(ts) else None)
    out = RunData(
        source="sacred",
        frame=frame_from_columns(tags, np.asarray(steps, dtype=np.int64), values, wall_time=walls),
        files=[str(path)],
    )
    config = path.parent / "config.json"
    if config.is_file():
        try:
            cfg = load_json(config)
            if isinstance(cfg, dict):
                out.hparams = {k: v for k, v in flatten_hparams(cfg).items() if k not in ("__doc__",)}
                out.files.append(str(config))
        except LogReadError as exc:
            out.warnings.append(f"config.json: {exc.reason}")
    if skipped:
        out.note(path, "partial", f"{skipped} entries without a usable step or value skipped")
    if out.frame.height == 0:
        raise LogReadError(path, "no values in the metrics")
    return out
