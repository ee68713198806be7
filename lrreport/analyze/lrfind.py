"""LR range tests in the logs: recognise them and read off a suggested LR.

A run is a range test when its hyperparameters say so (``lr_find: true``, as
``lrreport lr-find`` writes) or its name does (``lr_find``, ``lr-find``,
``range_test``), or when its logged LR grows exponentially over nearly the
whole run: monotone, spanning at least ``MIN_DECADES`` decades, with log(LR)
a straight line in the step (R^2 >= ``MIN_R2``; a linear warmup is not). The
suggestion uses the same rules as the harness (fastai's valley, minimum/10,
steepest; valley by default); the confidence falls as the rules disagree.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .analysis import LRFindResult
from .context import RunContext

__all__ = ["analyze_lr_find", "is_lr_find"]

MIN_DECADES = 2.0
MIN_R2 = 0.98
MIN_POINTS = 10
NAME = re.compile(r"lr[_\-]?find|range[_\-]?test|lr[_\-]?range", re.I)


def _truthy(v) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() in ("true", "1", "yes")) or v == 1


def is_lr_find(ctx: RunContext) -> bool:
    hp = {k.lower(): v for k, v in ctx.info.hparams.items()}
    if any(_truthy(hp.get(k)) for k in ("lr_find", "lr_range_test", "range_test")):
        return True
    if NAME.search(ctx.run.rsplit("/", 1)[-1]):
        return ctx.lr is not None
    lr = ctx.lr
    if lr is None or len(lr) < MIN_POINTS:
        return False
    ok = np.isfinite(lr.value) & (lr.value > 0)
    v, s = lr.value[ok], lr.step[ok].astype(np.float64)
    if len(v) < MIN_POINTS or np.any(np.diff(v) < 0):
        return False
    if math.log10(v[-1] / v[0]) < MIN_DECADES:
        return False
    y = np.log(v)
    if np.ptp(s) == 0:
        return False
    r = np.corrcoef(s, y)[0, 1]
    if not math.isfinite(r) or r * r < MIN_R2:
        return False
    # The ramp must cover nearly the whole run (a warmup covers only its start).
    loss = ctx.train
    if loss is not None and len(loss):
        return (s[-1] - s[0]) >= 0.8 * max(1, loss.last_step - loss.first_step)
    return True


def analyze_lr_find(ctx: RunContext) -> LRFindResult | None:
    from ..harness.lrfind import DEFAULT_RULE, suggest_all

    lr, loss = ctx.lr, ctx.train
    if lr is None or loss is None or len(loss) < 3:
        return None
    # The loss at each LR point: the LR in force at each loss step.
    idx = np.clip(np.searchsorted(lr.step, loss.step, side="right") - 1, 0, len(lr) - 1)
    lrs = lr.value[idx]
    losses = loss.value
    ok = np.isfinite(lrs) & (lrs > 0)
    lrs, losses = lrs[ok], losses[ok]
    if len(lrs) < 3:
        return None
    try:
        picks = suggest_all(lrs, losses)
    except ValueError:
        return None
    chosen = picks[DEFAULT_RULE]
    vals = [p.lr for p in picks.values() if p.lr and p.lr > 0]
    spread = math.log10(max(vals) / min(vals)) if len(vals) >= 2 else 0.0
    confidence = float(np.clip(1.0 - spread / 2.0, 0.2, 0.95))
    return LRFindResult(
        run=ctx.run,
        suggested_lr=float(f"{chosen.lr:.3g}"),
        method=chosen.explanation,
        confidence=confidence,
        candidates={k: float(f"{p.lr:.3g}") for k, p in picks.items()},
        lr_min=float(np.min(lrs)),
        lr_max=float(np.max(lrs)),
    )
