"""lr_too_low: steady but slow progress - the optimizer pulls the right way, too gently.

Judged one epoch at a time on the training loss (per-epoch means: what the LR
drives, free of minibatch noise); on the validation loss only when no
training loss was logged. Two shapes, each checked against the LR's size for
its optimizer and regime (:mod:`..lr_prior`), because real runs that are
merely long look the same as runs whose LR is too low:

* **Barely moved, still moving**: the loss improved by less than
  ``low_total_improvement`` of where it started (TheDeepChecker's stagnation
  rule, made relative), falling steadily all along (Kendall's tau at most
  ``STEADY_TAU``) rather than dropping early and then sitting still - that
  second shape is a plateau. Reported unless the LR is known to be at or
  above its optimizer's typical value (then something else holds it back).
* **Still falling, linearly**: the last quarter of the run still brought
  ``TAIL_SHARE`` of the total drop and at most ``EARLY_SHARE`` came in the
  first quarter - not the fast-then-flat shape of a well-set LR
  (AUTOTRAINER's slow-convergence idea). Many healthy runs end this way when
  they are merely short, so this needs the LR to be known and
  ``SLOW_SHAPE_BELOW`` times below its optimizer's typical value as well.

Guards: a run that learned a lot within its first epoch (mean training loss of
that epoch ``FAST_FIRST_EPOCH`` times the loss at its end) is not slow; a run
that got worse is not slow; a run whose schedule cut the LR below a tenth of
its peak in the first half is left to ``schedule_too_aggressive``. Advice: 10x
the LR when the run barely moved, 3x when it was slow, or an LR range test.
"""

from __future__ import annotations

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import RunContext
from ..signals import kendall_tau
from ._common import fmt, suggest_higher

#: Share of the total drop still made in the last quarter of the run.
TAIL_SHARE = 0.1
#: Share of the total drop made in the first quarter, above which the curve is fast-then-flat.
EARLY_SHARE = 0.5
#: First-epoch mean over the loss at its end above which the run learned fast from the start
#: (too-low runs in the harness corpus: 0.97-1.14; healthy ones up to 6).
FAST_FIRST_EPOCH = 1.3
#: The shape-only rule (still falling linearly) needs the LR this many times below its
#: optimizer's typical value: healthy runs just under the typical LR end this way too.
SLOW_SHAPE_BELOW = 2.0
#: A fall this steady (Kendall's tau of the epoch losses) is the optimizer still pulling.
STEADY_TAU = -0.6
MIN_EPOCHS = 4
#: An LR this many times below its optimizer's typical value is small whatever the curve's
#: shape: a run that barely moved at it did so because of it, even if its little progress
#: came early (a decaying schedule front-loads it) or wavered.
CLEARLY_SMALL = 10.0


def _not_small(lr: float | None, prior) -> bool:
    """An LR at or above its optimizer's typical value is not what makes a run slow."""
    return lr is not None and lr >= prior.typical


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
    use_train = int(np.isfinite(ep.train).sum()) >= MIN_EPOCHS
    raw = ep.train if use_train else ep.val
    metric = (ctx.train.series.metric if ctx.train is not None else "train_loss") if use_train else (
        ctx.val.series.metric if ctx.val is not None else "val_loss")
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
    best = float(np.min(s))
    end = float(s[-1])
    impr = (start - best) / start
    lr = ctx.nominal_lr
    prior = ctx.prior
    pos = prior.position(lr)
    tau = kendall_tau(y)
    evidence = {
        "judged_on": metric,
        "axis": "epoch (per-epoch means, median-of-3 smoothed)",
        "epochs": int(len(y)),
        "start_level": start,
        "best_level": best,
        "relative_improvement": impr,
        "trend_tau": tau,
        "first_epoch_mean_over_end": fast,
        "lr": lr,
        "lr_vs_usual": pos,
        "usual_lr": prior.describe(),
    }
    if end > start * (1 + cfg.low_total_improvement):
        return []  # it got worse: whatever that is, it is not slow progress
    drop = start - end
    q = max(1, len(s) // 4)
    early = float(start - s[q]) / drop if drop > 0 else 1.0
    if impr < cfg.low_total_improvement:
        clearly_small = lr is not None and lr < prior.typical / CLEARLY_SMALL
        if not clearly_small and (tau > STEADY_TAU or early > EARLY_SHARE or _not_small(lr, prior)):
            return []  # dropped, then sat still (a plateau), or an LR that is not small
        factor = 10 if impr < cfg.low_total_improvement / 3 else 3
        conf = {"far_low": 0.85, "low": 0.75}.get(pos, 0.6)
        lr_txt = f" at LR {fmt(lr)}, below the usual range ({prior.describe()})" if pos in ("low", "far_low") else ""
        return [
            _finding(
                ctx, metric, st, factor, "",
                f"{metric} improved only {fmt(100 * impr)}% (from {fmt(start)} to a best of {fmt(best)}) over "
                f"{len(y)} epochs, falling steadily all the way{lr_txt}: the optimizer pulls the right way, far too gently.",
                {**evidence, "low_total_improvement": cfg.low_total_improvement},
                conf,
            )
        ]
    if drop <= 0 or len(s) < 6 or lr is None or lr >= prior.typical / SLOW_SHAPE_BELOW:
        return []
    tail = float(s[-q - 1] - end) / drop
    evidence.update({"last_quarter_share_of_drop": tail, "first_quarter_share_of_drop": early})
    if tail < TAIL_SHARE or early > EARLY_SHARE:
        return []
    return [
        _finding(
            ctx, metric, st, 3, "; training longer would also help",
            f"{metric} was still falling steadily at the end: the last quarter of the run brought "
            f"{fmt(100 * tail)}% of its total drop, and only {fmt(100 * early)}% came in the first quarter, "
            f"at LR {fmt(lr)} (below the typical {fmt(prior.typical)}; {prior.describe()}).",
            {**evidence, "tail_share_threshold": TAIL_SHARE},
            min(0.9, 0.5 + 0.4 * min(1.0, tail / 0.3) + (0.1 if pos == "far_low" else 0.0)),
        )
    ]
