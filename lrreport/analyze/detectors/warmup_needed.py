"""warmup_needed: instability at the very start, at the peak LR, then recovery.

Evidence: the LR series has no ramp (its first value is already at least half
its peak) or no LR was logged; within the first ``warmup_window_frac`` of the
steps the loss rises well above where it started or spikes against its
rolling median; and afterwards it recovers and learns (ends below
``RECOVERED`` of its start) - a run that never recovers is ``lr_too_high``.
Needs step-level logging: with one point per epoch the first percent of
training is a single point. The advice is a linear warmup over the steps the
instability lasted, at least ``warmup_window_frac`` of the run.
"""

from __future__ import annotations

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import RunContext
from ._common import fmt

#: Points needed to see the first few percent of training.
MIN_POINTS = 50
#: Early rise above the starting level that counts as instability on its own: the loss
#: tripled (healthy runs at the top of their LR range jump up to 2.9x for a few steps:
#: harness corpus and holdout).
EARLY_RISE = 3.0
#: Or repeated early spikes (against the rolling median) with a smaller rise.
EARLY_SPIKES, SPIKE_RISE = 3, 1.5
#: The run recovered when it ends below this fraction of its start.
RECOVERED = 0.7


def has_warmup(ctx: RunContext) -> bool:
    lr = ctx.lr
    if lr is None or len(lr) < 2:
        return False
    v = lr.value[np.isfinite(lr.value)]
    return bool(len(v) >= 2 and np.max(v) > 0 and v[0] < 0.5 * np.max(v))


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    curve = ctx.train
    if curve is None or len(curve.fvalue) < MIN_POINTS or has_warmup(ctx):
        return []
    v, st = curve.fvalue, curve.fstep
    if np.min(v) < 0:
        return []
    n = len(v)
    w = max(5, int(n * cfg.warmup_window_frac))
    first = float(v[0])
    if first <= 0:
        return []
    window = v[:w]
    # The first point is where the run starts, not a rise: look after it.
    peak_i = 1 + int(np.argmax(window[1:]))
    rise = float(window[peak_i]) / first
    sp = signals.spikes(window, cfg.spike_ratio, max(3, min(cfg.spike_window, w // 2)))
    if rise < EARLY_RISE and not (len(sp) >= EARLY_SPIKES and rise >= SPIKE_RISE):
        return []
    if curve.end > RECOVERED * first:
        return []
    # Instability lasts until the loss is back below its start for good: the first point
    # after the peak from which the next few points' median stays under the start.
    after = v[peak_i + 1 :]
    settle_i = w
    for j in range(len(after)):
        if float(np.median(after[j : j + 5])) < first:
            settle_i = peak_i + 1 + j
            break
    settle_step = int(st[min(settle_i, n - 1)])
    total = max(1, curve.last_step - curve.first_step)
    warmup = int(max(settle_step - curve.first_step, round(cfg.warmup_window_frac * total)))
    peak_step = int(st[peak_i])
    lr = ctx.lr_at(peak_step)
    return [
        Finding(
            code="warmup_needed",
            severity="warning",
            run=ctx.run,
            metric="train_loss",
            start_step=int(st[0]),
            end_step=settle_step,
            message=(
                f"train_loss jumped to {fmt(float(window[peak_i]))} ({fmt(rise)}x its start) at step {peak_step}, in the first "
                f"{fmt(100 * cfg.warmup_window_frac)}% of training at the full LR{f' {fmt(lr)}' if lr else ''}, then recovered by step {settle_step}."
            ),
            advice=(
                f"Warm the LR up linearly over the first {warmup} steps (torch.optim.lr_scheduler.LinearLR(start_factor=0.01, "
                f"total_iters={warmup}) chained before your schedule; transformers: warmup_steps={warmup})."
            ),
            evidence={
                "early_peak_over_start": rise,
                "early_spikes": int(len(sp)),
                "settled_step": settle_step,
                "end_over_start": curve.end / first,
                "lr_at_peak": lr,
                "lr_ramp_logged": False if ctx.lr is not None else None,
            },
            confidence=0.7 if ctx.lr is not None else 0.55,
            warmup_steps=warmup,
        )
    ]
