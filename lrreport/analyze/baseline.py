"""Is the model a constant predictor? The level a loss sits at when nothing was learned.

A network that outputs the same answer for every input has a loss fixed by
the data alone: ln(C) for a C-class cross-entropy with uniform outputs (chance
accuracy, accuracy x exp(loss) = 1), the majority share for its accuracy, the
target variance for a squared error. A curve stuck there tells that nothing
is being learned, but not why: an LR far too high kills the network (dead
ReLUs, saturated outputs), an LR far too low never moves it. This module only
recognises the state; :mod:`.direction` weighs which way the LR was off.

Three signs, each enough:

* **Chance**: accuracy times exp(loss) within ``CHANCE_BAND`` of 1 for most
  of the evaluations, at an accuracy below ``CHANCE_ACC``: the net spreads its
  probability evenly over exp(loss) classes.
* **Frozen accuracy**: the logged accuracy repeats the same value (to 4
  significant digits) at ``FROZEN_SHARE`` of the evaluations: every input gets
  the same answer (the majority class, or nothing at all). Not when the run's
  other accuracy (training beside validation) climbs ``OTHER_ACC_RISE`` above
  that value or reaches a perfect score: a constant predictor scores its
  majority share on every split, while a small evaluation set (36 samples:
  steps of 1/36) holds a good model's accuracy still for many epochs.
* **Frozen loss**: the loss stops changing at all, its relative spread over
  the last half below ``FROZEN_SPREAD`` - no minibatch noise, so the outputs no
  longer depend on the inputs (a squared error sitting at 0.25 for 0/1 targets).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .context import RunContext

__all__ = ["constant_predictor"]

CHANCE_BAND = 0.1
CHANCE_ACC = 0.75
CHANCE_SHARE = 0.8
FROZEN_SHARE = 0.8
#: An accuracy frozen at 1 (or 100%) is a model that gets everything right, not a constant one.
PERFECT = 0.9999
FROZEN_SPREAD = 1e-4
#: The other split's accuracy (last half, median) this far above a frozen one: the model discriminates.
OTHER_ACC_RISE = 0.05
MIN_EVALS = 4


def _at_chance(ctx: RunContext) -> dict[str, Any] | None:
    for acc, curve in ((ctx.val_acc, ctx.val), (ctx.train_acc, ctx.train)):
        if acc is None or curve is None or len(acc) < MIN_EVALS:
            continue
        idx = np.searchsorted(curve.step, acc.step)
        ok = (idx < len(curve.step)) & np.isfinite(acc.value)
        ok[ok] &= curve.step[idx[ok]] == acc.step[ok]
        if ok.sum() < MIN_EVALS:
            continue
        a, loss = acc.value[ok], curve.value[idx[ok]]
        a = np.where(a > 1.0, a / 100.0, a)  # accuracies logged in percent
        with np.errstate(all="ignore"):
            prod = a * np.exp(np.minimum(loss, 50))
        hit = np.isfinite(prod) & (np.abs(prod - 1) <= CHANCE_BAND) & (a < CHANCE_ACC)
        if hit.mean() >= CHANCE_SHARE:
            level = float(np.median(loss[hit]))
            return {
                "kind": "chance",
                "metric": curve.series.metric,
                "level": level,
                "classes_implied": round(math.exp(level), 1),
                "accuracy": float(np.median(a[hit])),
                "share_at_chance": float(hit.mean()),
            }
    return None


def _accuracies(acc) -> np.ndarray | None:
    if acc is None or len(acc) < MIN_EVALS:
        return None
    a = acc.value[np.isfinite(acc.value)]
    if len(a) < MIN_EVALS:
        return None
    return np.where(a > 1.0, a / 100.0, a)  # accuracies logged in percent


def _discriminates(other: np.ndarray | None, frozen: float) -> bool:
    """Does the run's other accuracy show a model that tells inputs apart?"""
    if other is None:
        return False
    late = float(np.median(other[len(other) // 2 :]))
    return late >= PERFECT or late >= frozen + OTHER_ACC_RISE


def _frozen_accuracy(ctx: RunContext) -> dict[str, Any] | None:
    pairs = ((ctx.val_acc, ctx.train_acc), (ctx.train_acc, ctx.val_acc))
    for acc, other in pairs:
        a = _accuracies(acc)
        if a is None:
            continue
        # To 4 significant digits, vectorised (a float32 accuracy written twice may differ
        # in its last digits).
        mag = np.floor(np.log10(np.where(np.abs(a) > 0, np.abs(a), 1.0)))
        scale = 10.0 ** (mag - 3)
        rounded = np.round(a / scale) * scale
        vals, counts = np.unique(rounded, return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] / len(a) >= FROZEN_SHARE and vals[top] < PERFECT:
            if _discriminates(_accuracies(other), float(vals[top])):
                continue
            return {
                "kind": "frozen_accuracy",
                "metric": acc.metric,
                "accuracy": float(vals[top]),
                "share_identical": float(counts[top] / len(a)),
            }
    return None


def _frozen_loss(ctx: RunContext) -> dict[str, Any] | None:
    curve = ctx.loss
    if curve is None or len(curve.fvalue) < 2 * MIN_EVALS:
        return None
    tail = curve.fvalue[len(curve.fvalue) // 2 :]
    level = float(np.median(tail))
    if level <= 0:
        return None
    spread = float(np.max(tail) - np.min(tail)) / level
    if spread > FROZEN_SPREAD:
        return None
    return {"kind": "frozen_loss", "metric": curve.series.metric, "level": level, "relative_spread": spread}


def constant_predictor(ctx: RunContext) -> dict[str, Any] | None:
    """Evidence that the model sits at a constant predictor's level, or None."""
    return _at_chance(ctx) or _frozen_accuracy(ctx) or _frozen_loss(ctx)
