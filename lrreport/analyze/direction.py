"""Which way was the LR off? Weighing the evidence for a run that learned (almost) nothing.

When a loss sits at a constant predictor's level, or barely moves, an LR far
too high and one far too low look alike at the end of the run. What tells
them apart comes from elsewhere, and each piece is scored (2: strong, 1: weak):

Too high:
* the LR is above the usual range for its optimizer and regime
  (:mod:`.lr_prior`; 2 when ``FAR`` above it);
* the loss rose above where it started within the first tenth of the run
  (``EARLY_RISE``): the first updates threw the network off;
* a net that sits at chance averaged ``ABOVE_CHANCE_FIRST`` above that level
  in its first epoch: it was made worse than uniform before collapsing there;
* the gradient norm, where logged, grew ``GRAD_GROWTH`` times.

Too low:
* the LR is below the usual range (2 when far below);
* the loss moved the right way steadily from the start (Kendall's tau of the
  per-epoch losses at most ``STEADY_TAU``) without an early drop: the
  optimizer is pulling, only slowly.

A side wins with ``MARGIN`` points more than the other, and "too high" also
needs a trace in the curve beside the LR's size (an LR too high shows itself
in rises, spikes or growing gradients; one too low only in the lack of
movement, which is what a stalled run shows anyway) - except for a model that
learned nothing at all at an LR far above its range, which no LR that large
explains by slowness. Otherwise the logs
cannot decide and the run gets the info finding ``lr_uncertain``, which names
both and the one experiment that settles it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .context import Curve, RunContext
from .signals import kendall_tau

__all__ = ["weigh"]

EARLY_RISE = 1.5
GRAD_GROWTH = 10.0
#: A first epoch averaging this far above the chance level the net then sat at.
ABOVE_CHANCE_FIRST = 1.05
STEADY_TAU = -0.6
#: A steady fall needs this many epochs to mean anything (5 points fall "steadily" by chance
#: one time in 60).
MIN_TREND_POINTS = 8
MARGIN = 2


def weigh(ctx: RunContext, curve: Curve, constant: dict[str, Any] | None = None) -> tuple[str | None, dict[str, Any]]:
    """('high' | 'low' | None, the evidence on each side with its points). ``constant``: the
    evidence that the model is a constant predictor (:mod:`.baseline`), if it is one."""
    high: dict[str, Any] = {}
    low: dict[str, Any] = {}
    lr = ctx.nominal_lr
    prior = ctx.prior
    pos = prior.position(lr)
    if pos in ("far_high", "high"):
        high["lr_above_usual"] = (2 if pos == "far_high" else 1, f"LR {lr:g} is above the usual {prior.describe()}")
    elif pos in ("far_low", "low"):
        low["lr_below_usual"] = (2 if pos == "far_low" else 1, f"LR {lr:g} is below the usual {prior.describe()}")

    v = curve.fvalue
    n = len(v)
    if n >= 5 and v[0] > 0:
        early = v[: max(3, n // 10)]
        peak = float(np.max(early[1:])) if len(early) > 1 else float(v[0])
        if peak > EARLY_RISE * float(v[0]):
            high["early_rise"] = (2, f"the loss rose to {peak:.3g} ({peak / float(v[0]):.3g}x its first value) early on")

    ep = ctx.epochs
    if constant and constant.get("kind") == "chance" and ep is not None and len(ep.train) and np.isfinite(ep.train[0]):
        # A net starts at about the uniform level (ln C) and, learning, averages below it in
        # its first epoch. Averaging above it means the first updates made it worse than
        # uniform before it collapsed there: killed, not idle.
        first, level = float(ep.train[0]), float(constant["level"])
        if level > 0 and first > ABOVE_CHANCE_FIRST * level:
            high["worse_than_chance_first"] = (
                2,
                f"the first epoch averaged {first:.3g}, above the chance level {level:.3g} it then sat at",
            )
    y = ep.train[np.isfinite(ep.train)] if ep is not None and np.isfinite(ep.train).sum() >= 5 else v
    if len(y) >= MIN_TREND_POINTS and "early_rise" not in high:
        tau = kendall_tau(y)
        q = max(1, len(y) // 4)
        drop = float(y[0] - y[-1])
        front = float(y[0] - y[q]) / drop if drop > 0 else 1.0
        if tau <= STEADY_TAU and drop > 0 and front <= 0.5:
            low["steady_slow_fall"] = (
                2,
                f"the loss fell steadily from the start (Kendall's tau {tau:.2f}), {100 * drop / float(y[0]):.3g}% in all, "
                "as a run too slow to get anywhere does",
            )

    g = ctx.grad_norm
    if g is not None and len(g) >= 5:
        gv = g.value[np.isfinite(g.value) & (g.value > 0)]
        if len(gv) >= 5:
            k = max(1, len(gv) // 10)
            growth = float(np.median(gv[-k:]) / np.median(gv[:k]))
            if growth >= GRAD_GROWTH:
                high["grad_norm_growth"] = (1, f"the gradient norm grew {growth:.3g}x over the run")

    score_h = sum(p for p, _ in high.values())
    score_l = sum(p for p, _ in low.values())
    evidence = {
        "too_high_points": score_h,
        "too_low_points": score_l,
        "too_high_evidence": [t for _, t in high.values()],
        "too_low_evidence": [t for _, t in low.values()],
        "lr": lr,
        "usual_lr_range": [prior.low, prior.high],
        "usual_lr_source": prior.describe(),
    }
    # An LR too high leaves traces in the curve (a rise, spikes, growing gradients); one too low
    # leaves none but the lack of movement. So "too high" needs a trace beside the LR's size.
    # A model that learned nothing at all at an LR far above its usual range needs no trace:
    # no LR that large is too low, and a network killed in its first updates leaves none
    # in logs that start after them.
    trace = any(k != "lr_above_usual" for k in high) or (bool(constant) and pos == "far_high")
    if score_h - score_l >= MARGIN and trace:
        return "high", evidence
    if score_l - score_h >= MARGIN:
        return "low", evidence
    return None, evidence
