"""suspicious_validation: validation far better than training from the start and throughout.

Dropout and augmentation make the training loss somewhat higher than the
validation loss; ``val_better_factor`` (validation below half the training
loss) at 80% of the evaluations, the first included, is beyond that, and points
to a leak between the splits, a validation set that is a subset of training
data, or logging that mixes up the two. Compared at the validation steps, the
training loss taken as the median of its points since the previous evaluation.
"""

from __future__ import annotations

import numpy as np

from ..analysis import Finding
from ..context import RunContext
from ._common import fmt

SHARE = 0.8
MIN_POINTS = 3


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    tr, va = ctx.train, ctx.val
    if tr is None or va is None or len(va.fvalue) < MIN_POINTS or len(tr.fvalue) < MIN_POINTS:
        return []
    if np.min(tr.fvalue) < 0 or np.min(va.fvalue) < 0:
        return []
    # Each evaluation against the training points since the previous one (searchsorted:
    # linear in the points, also when validation is logged at every step).
    ends = np.searchsorted(tr.fstep, va.fstep, side="right")
    starts = np.concatenate([[0], ends[:-1]])
    has = ends > 0
    if (ends - starts).max(initial=0) <= 1:
        # Validation as often as training (every step): each evaluation meets one point.
        m = tr.fvalue[np.maximum(ends - 1, 0)]
        ok = has & (m > 0)
        r = va.fvalue[ok] / m[ok]
    else:
        ratios = []
        for lo, hi, v in zip(starts, ends, va.fvalue):
            t = tr.fvalue[lo:hi] if hi > lo else tr.fvalue[max(0, hi - 1) : hi]
            if len(t):
                m = float(np.median(t)) if len(t) > 1 else float(t[0])
                if m > 0:
                    ratios.append(v / m)
        r = np.asarray(ratios)
    if len(r) < MIN_POINTS:
        return []
    better = r < cfg.val_better_factor
    if not better[0] or better.mean() < SHARE:
        return []
    return [
        Finding(
            code="suspicious_validation",
            severity="info",
            run=ctx.run,
            metric="val_loss",
            start_step=int(va.fstep[0]),
            end_step=int(va.fstep[-1]),
            message=(
                f"val_loss was below {fmt(100 * cfg.val_better_factor)}% of train_loss at {fmt(100 * better.mean())}% of "
                f"evaluations, from the first (median ratio {fmt(float(np.median(r)))})."
            ),
            advice=(
                "Check that the validation split shares no samples with training, that the right loss is logged "
                "under each name, and whether train-mode noise (dropout, augmentation) explains the gap."
            ),
            evidence={"median_val_over_train": float(np.median(r)), "share_below": float(better.mean())},
            confidence=0.6,
        )
    ]
