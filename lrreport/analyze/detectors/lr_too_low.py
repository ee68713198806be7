"""lr_too_low: steady but slow progress.

Judged one epoch at a time (per-epoch mean training loss, or the validation
loss when there are enough evaluations: it is what the LR is for, and it is
free of minibatch noise), median-of-3 smoothed, on the epoch axis:

* **Barely moved**: the curve improved by less than ``low_total_improvement``
  of where it started (TheDeepChecker's stagnation rule, made relative to the
  starting loss).
* **Still falling, linearly**: the last quarter of the run still brought
  ``TAIL_SHARE`` of the total drop, and at most ``EARLY_SHARE`` of it came in
  the first quarter - not the fast-then-flat shape of a well-set LR. At that
  pace the run needs many times its budget (AUTOTRAINER's slow-convergence idea).

Guards: a run that learned a lot within its first epoch (mean training loss of
that epoch ``FAST_FIRST_EPOCH`` times the loss at its end) is not slow; a run
that blew up early is ``lr_too_high``; a run whose schedule cut the LR below a
tenth of its peak in the first half is left to ``schedule_too_aggressive``.
Advice: 10x the LR when the run barely moved, 3x when it was slow, or an LR
range test.
"""

from __future__ import annotations

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import RunContext
from ._common import fmt, suggest_higher

#: Share of the total drop still made in the last quarter of the run.
TAIL_SHARE = 0.1
#: Share of the total drop made in the first quarter, above which the curve is fast-then-flat.
EARLY_SHARE = 0.5
#: First-epoch mean over the loss at its end above which the run learned fast from the start
#: (too-low runs in the harness corpus: 0.97-1.14; healthy ones up to 6).
FAST_FIRST_EPOCH = 1.3
#: Evaluations needed to judge on the validation loss.
MIN_VAL = 5
MIN_EPOCHS = 4


def _cut_early(ctx: RunContext) -> bool:
    lr = ctx.lr
    if lr is None or len(lr) < 3:
        return False
    low = signals.lr_falls_below(lr.step, lr.value, 0.1)
    if low is None:
        return False
    curve = ctx.loss
    first, last = (curve.first_step, curve.last_step) if curve is not None else (int(lr.step[0]), int(lr.step[-1]))
    return low <= first + (last - first) / 2


def _finding(ctx: RunContext, metric: str, st: np.ndarray, factor: int, also: str, message: str,
             evidence: dict, confidence: float) -> Finding:
    lr = ctx.nominal_lr
    sugg = suggest_higher(lr, factor, ctx.info.hparams)
    how = f"to about {fmt(sugg)} ({fmt(sugg / lr)}x)" if sugg else f"about {factor}x"
    return Finding(
        code="lr_too_low",
        severity="warning",
        run=ctx.run,
        metric=metric,
        start_step=int(st[0]),
        end_step=int(st[-1]),
        message=message,
        advice=f"Raise the LR {how}, or run `lrreport lr-find`{also or ' to pick it'}.",
        evidence=evidence,
        confidence=confidence,
        suggested_lr=sugg,
    )


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    ep = ctx.epochs
    if ep is None or _cut_early(ctx):
        return []
    use_val = int(np.isfinite(ep.val).sum()) >= MIN_VAL
    raw = ep.val if use_val else ep.train
    metric = "val_loss" if use_val else "train_loss"
    if np.isnan(raw).all() or (~np.isfinite(raw[~np.isnan(raw)])).any():
        return []  # NaN/Inf is not slowness
    ok = np.isfinite(raw)
    y, st = raw[ok], ep.step[ok]
    if len(y) < MIN_EPOCHS or np.min(y) < 0 or y[0] <= 0:
        return []
    first = ep.first_epoch_ratio()
    fast = first[0] / first[1] if first is not None else None
    if fast is not None and fast > FAST_FIRST_EPOCH:
        return []
    s = signals.rolling_median(y, 3)
    start = float(max(y[0], s[0]))
    if use_val and fast is not None:
        # The first evaluation comes after an epoch of training: what the run learned in
        # that epoch counts too, so it starts from the first epoch's mean training loss.
        start = max(start, float(ep.train[0]))
    best = float(np.min(s))
    end = float(s[-1])
    impr = (start - best) / start
    lr = ctx.nominal_lr
    evidence = {
        "judged_on": metric,
        "axis": "epoch (per-epoch means, median-of-3 smoothed)",
        "epochs": int(len(y)),
        "start_level": start,
        "best_level": best,
        "relative_improvement": impr,
        "first_epoch_mean_over_end": fast,
        "lr": lr,
    }
    if end > start * (1 + cfg.low_total_improvement):
        return []  # it got worse: whatever that is, it is not slow progress
    if impr < cfg.low_total_improvement:
        factor = 10 if impr < cfg.low_total_improvement / 3 else 3
        return [
            _finding(
                ctx, metric, st, factor, "",
                f"{metric} improved only {fmt(100 * impr)}% (from {fmt(start)} to a best of {fmt(best)}) over "
                f"{len(y)} epochs: steady, but far too slow.",
                {**evidence, "low_total_improvement": cfg.low_total_improvement},
                0.8 if impr < cfg.low_total_improvement / 3 else 0.65,
            )
        ]
    drop = start - end
    if drop <= 0 or len(s) < 6:
        return []
    q = max(1, len(s) // 4)
    tail = float(s[-q - 1] - end) / drop
    early = float(start - s[q]) / drop
    evidence.update({"last_quarter_share_of_drop": tail, "first_quarter_share_of_drop": early})
    if tail < TAIL_SHARE or early > EARLY_SHARE:
        return []
    return [
        _finding(
            ctx, metric, st, 3, "; training longer would also help",
            f"{metric} was still falling steadily at the end: the last quarter of the run brought "
            f"{fmt(100 * tail)}% of its total drop, and only {fmt(100 * early)}% came in the first quarter.",
            {**evidence, "tail_share_threshold": TAIL_SHARE},
            0.5 + 0.4 * min(1.0, tail / 0.3),
        )
    ]
