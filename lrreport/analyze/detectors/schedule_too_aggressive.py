"""schedule_too_aggressive: the LR was cut while the loss was still falling fast, and progress stalled.

Schedule events come from the logged LR series (never from a config): the
cut is the first step, after the LR peaked (warmup excluded), where it falls
below ``cut_fraction`` of the peak; the schedule "collapsed" when it is below a
tenth of the peak. Evidence: (1) the LR collapsed in the first half of the
run; (2) just before the cut the loss was still falling fast - the last stretch
before the cut brought a large share of the drop so far; (3) after the
collapse the loss barely moved. A StepLR that halves a converging run's LR,
or a cosine that reaches its floor at the end, passes all three.
"""

from __future__ import annotations

import numpy as np

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
    peak_i = int(np.argmax(lv))
    peak = float(lv[peak_i])
    after_peak = np.flatnonzero(lv[peak_i:] < cfg.cut_fraction * peak)
    collapsed = np.flatnonzero(lv[peak_i:] < COLLAPSED * peak)
    if not len(after_peak) or not len(collapsed):
        return []
    cut_step = int(ls[peak_i + after_peak[0]])
    low_step = int(ls[peak_i + collapsed[0]])
    first, last = curve.first_step, curve.last_step
    span = max(1, last - first)
    if (low_step - first) / span > 0.5 or cut_step <= first:
        return []
    s, st = curve.smooth, curve.fstep
    # The last point logged at the old LR, and a stretch (a third of the way there) before it.
    i_cut = int(np.searchsorted(st, cut_step, side="left")) - 1
    if i_cut < 0:
        return []
    if i_cut == 0:
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
    l_low = _at(st, s, low_step)
    l_end = float(s[-1])
    after = (l_low - l_end) / l_low if l_low > 0 else 0.0
    if share_before < FAST_BEFORE or after > STALL_AFTER:
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
                "peak_lr": peak,
                "cut_step": cut_step,
                "collapsed_step": low_step,
                "final_lr": final_lr,
                "share_of_drop_just_before_cut": share_before,
                "improvement_after_collapse": after,
                "collapse_at_fraction_of_run": (low_step - first) / span,
            },
            confidence=0.6 + 0.3 * min(1.0, share_before),
            suggested_cut_step=suggested,
        )
    ]
