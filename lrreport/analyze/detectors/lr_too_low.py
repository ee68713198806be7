"""lr_too_low: steady but slow progress.

Evidence, on the smoothed loss (training loss, else validation loss), on the
step axis:

* **Barely moved**: the loss improved by less than ``low_total_improvement``
  of its start over the whole run, smoothly (no early blow-up: that would be
  a dead network, see ``lr_too_high``). TheDeepChecker's stagnation rule, made
  relative to the starting loss.
* **Still falling, linearly**: the last 10% of the run still brought more than
  ``low_tail_slope`` of the total drop, and the curve is not the fast-then-flat
  shape of a well-set LR (less than half of the drop came in the first quarter).
  At that pace the run would need many times its budget (AUTOTRAINER's
  slow-convergence idea).

A run whose schedule cut the LR below a tenth of its peak in the first half
is left to ``schedule_too_aggressive``: its slowness is the schedule's doing. Advice: 3-10x the LR, or
an LR range test.
"""

from __future__ import annotations

import numpy as np

from ..analysis import Finding
from ..context import RunContext
from ._common import fmt, round_lr

#: Drop in the first quarter of the run below which the curve is "linear-ish".
EARLY_SHARE = 0.5
#: The early peak above the start (x) that marks a blow-up rather than slow progress.
BLOWUP = 1.5
MIN_POINTS = 5


def _cut_early(ctx: RunContext) -> bool:
    lr = ctx.lr
    if lr is None or len(lr) < 3:
        return False
    v = lr.value[np.isfinite(lr.value)]
    st = lr.step[np.isfinite(lr.value)]
    if not len(v) or np.max(v) <= 0:
        return False
    curve = ctx.loss
    first, last = (curve.first_step, curve.last_step) if curve is not None else (int(st[0]), int(st[-1]))
    mid = first + (last - first) / 2
    low = np.flatnonzero(v < 0.1 * np.max(v))
    return bool(len(low) and st[low[0]] <= mid)


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    curve = ctx.loss
    if curve is None or len(curve.fvalue) < MIN_POINTS:
        return []
    if (~curve.finite).any() or _cut_early(ctx):
        return []
    v, s, st = curve.fvalue, curve.smooth, curve.fstep
    if np.min(v) < 0 or curve.start <= 0:
        return []
    n = len(s)
    if float(np.max(v[: max(2, n // 5)])) > BLOWUP * curve.start:
        return []
    start, end = float(s[0]), float(s[-1])
    start = max(start, curve.start)
    drop = start - end
    rel_total = drop / start
    metric = "train_loss" if curve is ctx.train else "val_loss"
    lr = ctx.nominal_lr
    evidence = {"start_level": start, "end_level": end, "relative_improvement": rel_total, "lr": lr}

    if 0 <= rel_total < cfg.low_total_improvement:
        # Flat from the start. A flat curve with big noise is not "steady".
        resid = v - s
        noise = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        if noise > 0.5 * start:
            return []
        factor = 10 if rel_total < cfg.low_total_improvement / 3 else 3
        sugg = round_lr(lr * factor) if lr else None
        return [
            Finding(
                code="lr_too_low",
                severity="warning",
                run=ctx.run,
                metric=metric,
                start_step=int(st[0]),
                end_step=int(st[-1]),
                message=(
                    f"{metric} moved only {fmt(100 * rel_total)}% (from {fmt(start)} to {fmt(end)}) over the whole run: "
                    "steady, but far too slow."
                ),
                advice=(
                    f"Raise the LR about {factor}x, to {fmt(sugg)}, or run `lrreport lr-find` to pick it."
                    if sugg
                    else f"Raise the LR about {factor}x, or run `lrreport lr-find` to pick it."
                ),
                evidence={**evidence, "low_total_improvement": cfg.low_total_improvement},
                confidence=0.75 if rel_total < cfg.low_total_improvement / 3 else 0.6,
                suggested_lr=sugg,
            )
        ]
    if drop <= 0:
        return []
    # Still falling at the end: the share of the total drop made in the last 10% of steps.
    span = float(st[-1] - st[0]) or 1.0
    t = (st - st[0]) / span
    i90 = int(np.searchsorted(t, 0.9))
    i25 = int(np.searchsorted(t, 0.25))
    if i90 >= n - 1 or i25 <= 0:
        return []
    tail = (float(s[i90]) - end) / drop
    early = (start - float(s[i25])) / drop
    evidence.update({"tail_share_of_drop": tail, "first_quarter_share_of_drop": early})
    if tail < cfg.low_tail_slope or early > EARLY_SHARE:
        return []
    # Remaining budget needed at the current pace to reach, say, half the loss left.
    pace = (float(s[i90]) - end) / max(1e-12, 0.1)
    sugg = round_lr(lr * 3) if lr else None
    return [
        Finding(
            code="lr_too_low",
            severity="warning",
            run=ctx.run,
            metric=metric,
            start_step=int(st[0]),
            end_step=int(st[-1]),
            message=(
                f"{metric} was still falling steadily at the end: the last 10% of the run brought "
                f"{fmt(100 * tail)}% of the total drop, and only {fmt(100 * early)}% came in the first quarter."
            ),
            advice=(
                f"Raise the LR about 3x, to {fmt(sugg)}, or run `lrreport lr-find`; training longer would also help."
                if sugg
                else "Raise the LR about 3x, or run `lrreport lr-find`; training longer would also help."
            ),
            evidence={**evidence, "drop_per_run_at_end_pace": pace, "low_tail_slope": cfg.low_tail_slope},
            confidence=0.55 + 0.3 * min(1.0, tail / 0.3),
            suggested_lr=sugg,
        )
    ]
