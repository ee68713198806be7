"""schedule_too_aggressive: the LR was cut while the loss was still falling fast, and progress stalled.

Schedule events come from the logged LR series (never from a config): the
cut is the first step, after the LR peaked (warmup excluded), where it falls
below ``cut_fraction`` of the peak; the schedule "collapsed" when it is below a
tenth of the peak. Evidence: (1) the LR collapsed in the first half of the
run; (2) just before the cut the loss was still falling fast - the last stretch
before the cut brought a large share of the drop so far; (3) after the
collapse the loss barely moved. A StepLR that halves a converging run's LR,
or a cosine that reaches its floor at the end, passes all three; a schedule
whose LR comes back up after the low (warm restarts, cyclic LRs) is no cut.
"""

from __future__ import annotations

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import RunContext
from ._common import fmt

#: The LR counts as collapsed below this fraction of its peak.
COLLAPSED = 0.1
#: Share of the drop-so-far made in the stretch just before the cut: "still falling fast".
FAST_BEFORE = 0.2
#: After the collapse, the loss improved by less than this share of its value there.
STALL_AFTER = 0.1
#: An LR that collapses within this share of the run is too early whatever the loss did.
IMMEDIATE = 0.15
#: Or the loss improved after the collapse at under this fraction of its pace before it.
STALL_RATE = 0.1


def _at(steps: np.ndarray, values: np.ndarray, step: int) -> float:
    i = int(np.clip(np.searchsorted(steps, step, side="right") - 1, 0, len(values) - 1))
    return float(values[i])


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    lr, curve = ctx.lr, ctx.loss
    if lr is None or curve is None or len(lr) < 3 or len(curve.fvalue) < 5:
        return []
    ok = np.isfinite(lr.value)
    lv, ls = lr.value[ok], lr.step[ok]
    if not len(lv) or np.max(lv) <= 0:
        return []
    peak = float(np.max(lv))
    cut_step = signals.lr_falls_below(ls, lv, cfg.cut_fraction)
    low_step = signals.lr_falls_below(ls, lv, COLLAPSED)
    if cut_step is None or low_step is None:
        return []
    # Warm restarts and cyclic schedules bring the LR back up: that is not a cut.
    if np.max(lv[ls >= low_step]) >= cfg.cut_fraction * peak:
        return []
    first, last = curve.first_step, curve.last_step
    span = max(1, last - first)
    if (low_step - first) / span > 0.5 or cut_step <= first:
        return []
    s, st = curve.smooth, curve.fstep
    # The last point logged at the old LR, and a stretch (a third of the way there) before it.
    i_cut = int(np.searchsorted(st, cut_step, side="left")) - 1
    if i_cut < 0:
        return []
    if i_cut == 0 or (low_step - first) / span <= IMMEDIATE:
        # Cut after the first logged point: there is no trend to read before it, but an LR
        # collapsed within the first IMMEDIATE of the run had no time to do its work.
        if (low_step - first) / span > IMMEDIATE:
            return []
        share_before = 1.0
    else:
        i_pre = i_cut - max(1, i_cut // 3)
        l0, l_pre, l_cut = float(s[0]), float(s[i_pre]), float(s[i_cut])
        drop_so_far = l0 - l_cut
        if drop_so_far <= 0 or l_cut <= 0:
            return []
        share_before = (l_pre - l_cut) / drop_so_far
    # The stall is read on the validation loss when it was evaluated often enough
    # (no minibatch noise), else on the smoothed training loss.
    if ctx.val is not None and len(ctx.val.fvalue) >= 5:
        ys, yv = ctx.val.fstep, signals.rolling_median(ctx.val.fvalue, 3)
    else:
        ys, yv = st, s
    y0, y_low, y_end = float(yv[0]), _at(ys, yv, low_step), float(yv[-1])
    after = (y_low - y_end) / y_low if y_low > 0 else 0.0
    rate_before = (y0 - y_low) / max(1, low_step - int(ys[0]))
    rate_after = (y_low - y_end) / max(1, last - low_step)
    slowed = rate_before > 0 and rate_after < STALL_RATE * rate_before
    if share_before < FAST_BEFORE or not (after <= STALL_AFTER or slowed):
        return []
    suggested = int(min(last, max(3 * (cut_step - first) + first, first + span // 2)))
    metric = "train_loss" if curve is ctx.train else "val_loss"
    final_lr = float(lv[-1])
    return [
        Finding(
            code="schedule_too_aggressive",
            severity="warning",
            run=ctx.run,
            metric=metric,
            start_step=cut_step,
            end_step=last,
            message=(
                f"The LR was cut at step {cut_step} (to below {fmt(100 * cfg.cut_fraction)}% of its peak {fmt(peak)}) "
                f"and was under a tenth of it by step {low_step}, while {metric} was still falling fast "
                f"({fmt(100 * share_before)}% of its drop came just before the cut); afterwards it improved only "
                f"{fmt(100 * after)}%."
            ),
            advice=(
                f"Cut later - around step {suggested} - or by a smaller factor (a larger gamma, e.g. 0.5 instead of 0.1, "
                "or a longer step_size / T_max); keep the LR near its peak while the loss still falls."
            ),
            evidence={
                "axis": "step (smoothed loss; pace = loss drop per step)",
                "peak_lr": peak,
                "cut_step": cut_step,
                "collapsed_step": low_step,
                "final_lr": final_lr,
                "share_of_drop_just_before_cut": share_before,
                "improvement_after_collapse": after,
                "pace_after_over_before": (rate_after / rate_before) if rate_before > 0 else None,
                "collapse_at_fraction_of_run": (low_step - first) / span,
            },
            confidence=0.6 + 0.3 * min(1.0, share_before),
            suggested_cut_step=suggested,
        )
    ]
