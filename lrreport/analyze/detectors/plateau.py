"""plateau: the loss was flat for a long stretch while the LR did not change.

Keras/PyTorch ``ReduceLROnPlateau`` semantics: a new best counts only when it
beats the best so far by ``min_delta`` (relative, 'rel' threshold mode); the
stretch without a new best is the plateau. Reported when it lasts at least
``plateau_patience_frac`` of the run and the logged LR stayed constant over it
(a schedule that acted is not a plateau). Judged on the validation loss when
there is one (what ReduceLROnPlateau monitors by default), else the training loss.
Severity info: the run may be fine, but the steps on the plateau were spent
for nothing and a decay would likely have gone further.
"""

from __future__ import annotations

import numpy as np

from ..analysis import Finding
from ..context import Curve, RunContext
from ._common import fmt

MIN_POINTS = 8
#: The LR counts as unchanged when it stays within this relative band.
LR_CONSTANT = 0.01


def longest_plateau(s: np.ndarray, min_delta: float) -> tuple[int, int]:
    """(first, last) index of the longest stretch without a new best (ReduceLROnPlateau 'rel' mode)."""
    best = s[0]
    best_i = 0
    run = (0, 0)
    for i in range(1, len(s)):
        if s[i] < best * (1 - min_delta) if best > 0 else s[i] < best - min_delta * abs(best):
            best, best_i = s[i], i
        elif i - best_i > run[1] - run[0]:
            run = (best_i, i)
    return run


def _lr_constant(ctx: RunContext, s0: int, s1: int) -> bool | None:
    if ctx.lr is None or not len(ctx.lr):
        return None
    m = (ctx.lr.step >= s0) & (ctx.lr.step <= s1)
    v = ctx.lr.value[m]
    v = v[np.isfinite(v)]
    if len(v) == 0:
        v = np.array([ctx.lr_at(s0) or 0.0])
    hi, lo = float(np.max(v)), float(np.min(v))
    return hi <= 0 or (hi - lo) / hi <= LR_CONSTANT


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    curve: Curve | None = ctx.val if ctx.val is not None and len(ctx.val.fvalue) >= MIN_POINTS else ctx.train
    if curve is None or len(curve.fvalue) < MIN_POINTS or (~curve.finite).any():
        return []
    s = curve.smooth
    i0, i1 = longest_plateau(s, cfg.plateau_min_delta)
    st = curve.fstep
    span = float(st[-1] - st[0]) or 1.0
    length = float(st[i1] - st[i0]) / span
    if length < cfg.plateau_patience_frac:
        return []
    s0, s1 = int(st[i0]), int(st[i1])
    constant = _lr_constant(ctx, s0, s1)
    if constant is False:
        return []
    metric = "val_loss" if curve is ctx.val else "train_loss"
    lr = ctx.lr_at(s0)
    patience_pts = max(2, int(round((i1 - i0) / 4)))
    lr_txt = f" while the LR stayed at {fmt(lr)}" if constant else " (no LR logged to tell whether a schedule acted)"
    return [
        Finding(
            code="plateau",
            severity="info",
            run=ctx.run,
            metric=metric,
            start_step=s0,
            end_step=s1,
            message=(
                f"{metric} made no new best (by {fmt(100 * cfg.plateau_min_delta)}%) from step {s0} to {s1}, "
                f"{fmt(100 * length)}% of the run, at about {fmt(float(np.median(s[i0 : i1 + 1])))}{lr_txt}."
            ),
            advice=(
                f"Decay the LR when progress stalls: ReduceLROnPlateau(factor=0.5, patience={patience_pts} evaluations), "
                "or a cosine/step schedule; or stop earlier and save the compute."
            ),
            evidence={
                "axis": "step (smoothed loss)",
                "plateau_fraction_of_run": length,
                "level": float(np.median(s[i0 : i1 + 1])),
                "min_delta_rel": cfg.plateau_min_delta,
                "lr_constant": constant,
                "lr": lr,
            },
            confidence=0.7 if constant else 0.5,
        )
    ]
