"""plateau: the loss stopped improving for a long stretch, at a level it had not earned.

Every run flattens at the end; a plateau is a flat stretch that cost more
than it should have. Judged on the training loss (per-epoch means: what the
LR drives) and on the validation loss, each on its own:

* **A long stretch at the final level**: the stall runs from the first point
  where the smoothed loss came within ``BAND`` of its final level (the median
  of its last tenth) to the end. Keras' ReduceLROnPlateau asks the same
  question with a patience; here the patience is half the run, so only
  stalls that dominate it count.
* **Flat**: over the second half of the run the loss gained less than
  ``FLAT_GAIN`` of its level (``FLAT_GAIN_CONSTANT`` for a constant
  predictor, whose answers do not change whatever the loss does): a run still
  buying improvement is not stuck (whether it is slow is ``lr_too_low``'s
  question).
* **A validation stall of its own** needs ``MIN_VAL_POINTS`` evaluations and
  a validation loss that never improved much (``VAL_NEVER_IMPROVED``); one
  that fell and then levelled off is what converged runs look like, even
  while the training loss goes on falling (small data sets do this for most
  of a healthy run).
* **Not converged**: a loss that fell ``CONVERGED_DECADES`` orders of
  magnitude from its start has done its work; its flat end is convergence.
* **Not rising**: a stretch that ends ``RISE`` above its best, or
  ``RISE_TRENDING`` above it with an upward trend, belongs to overfitting or
  divergence.

A stall at a constant predictor's level (:mod:`..baseline`: chance accuracy,
a frozen accuracy or loss) means nothing was learned, and the LR may be far
too high or far too low; :mod:`..direction` weighs which, and this detector
then also reports ``lr_too_high`` / ``lr_too_low`` (which the verdict names
as the cause) or, when the evidence cannot decide, the info finding
``lr_uncertain`` with the experiment that settles it.

The advice depends on what the LR did during the stall: constant (decay it
when progress stalls), cut without effect (the LR is not what holds the run
back), or not logged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import signals
from ..analysis import Finding
from ..baseline import constant_predictor
from ..context import RunContext
from ..direction import weigh
from ..signals import kendall_tau
from ._common import fmt, suggest_higher, suggest_lower

MIN_POINTS = 8
#: A validation curve needs this many evaluations to show a stall of its own.
MIN_VAL_POINTS = 8
BAND = 0.05
#: Over the second half of the run the loss gained less than this share of its level: flat.
FLAT_GAIN = 0.03
#: ... or less than this when the model is a constant predictor (its answers do not change).
FLAT_GAIN_CONSTANT = 0.1
CONVERGED_DECADES = 2.5
#: Ending this far above its best is a rise, not a stall; ending RISE_TRENDING above it is
#: one when the second half trends upwards (Kendall's tau above 0), not just wanders.
RISE, RISE_TRENDING = 0.1, 0.05
#: A validation curve whose whole run improved less than this (in decades, 0.1 = 21%) never
#: got going: a stall of what the model generalises. One that fell further and then
#: levelled off is a converged validation curve, what every healthy run ends with.
VAL_NEVER_IMPROVED = 0.1
#: The LR counts as unchanged when it stays within this relative band.
LR_CONSTANT = 0.01
#: A training accuracy this high at the end: the training loss's flat stretch is its floor.
FITS_TRAINING = 0.995
#: A stall over which the schedule lowered the LR this many times over is the schedule's
#: doing (a cosine or linear decay flattens every run's end), unless nothing was learned
#: before it (the loss fell less than VAL_NEVER_IMPROVED decades) or nothing is learned.
SCHEDULE_ACTING = 3.0


def _fits_training_set(ctx: RunContext) -> bool:
    """The training accuracy ended at (nearly) 100%: nothing left for the LR to win on it."""
    acc = ctx.train_acc
    if acc is None or len(acc) < 3:
        return False
    a = acc.value[np.isfinite(acc.value)]
    if not len(a):
        return False
    a = np.where(a > 1.0, a / 100.0, a)
    return bool(np.median(a[-max(1, len(a) // 10) :]) >= FITS_TRAINING)


def _validation_stall(ctx: RunContext, y: np.ndarray, steps: np.ndarray, flat: float, constant: bool) -> dict[str, Any] | None:
    """A validation curve that stopped improving while the run went on. Every healthy run's
    validation loss levels off in the end; it is a stall of its own only when it never
    improved much in the first place (or the model is a constant predictor). A validation
    loss that fell and then levelled off while training went on is what a converged run
    looks like, on small data sets even for most of the run (the harness' healthy runs do
    exactly this), so it is not reported: the training curve speaks for the run."""
    st = stall(y, steps, flat, MIN_VAL_POINTS, converged_check=False)
    if st is not None and (constant or st["decades_fallen"] < VAL_NEVER_IMPROVED):
        return st
    return None


def _schedule_acting(ctx: RunContext, st: dict[str, Any]) -> bool:
    """A schedule still decaying the LR (cosine, linear, steps) flattens the end of every run:
    a stall it explains is the schedule at work, unless nothing was learned before it.
    Whether the run got far enough is for the other detectors (too low, cut too early)."""
    state, a, b = _lr_during(ctx, st["from_step"], st["to_step"])
    return bool(state == "cut" and a and b and a / b >= SCHEDULE_ACTING and st["decades_fallen"] >= VAL_NEVER_IMPROVED)


def stall(
    y: np.ndarray,
    steps: np.ndarray,
    flat_gain: float = FLAT_GAIN,
    min_points: int = MIN_POINTS,
    converged_check: bool = True,
) -> dict[str, Any] | None:
    """The final flat stretch of one loss curve, or None when it has none worth a finding."""
    ok = np.isfinite(y)
    y, steps = y[ok], steps[ok]
    n = len(y)
    if n < min_points or np.min(y) <= 0:
        return None
    s = signals.rolling_median(y, 3) if n < 40 else signals.robust_smooth(y, 0.05)
    final = float(np.median(s[-max(2, n // 10) :]))
    start = float(max(y[0], s[0]))
    best = float(np.min(s))
    if final <= 0 or final > best * (1 + RISE):
        return None
    if final > best * (1 + RISE_TRENDING) and kendall_tau(y[n // 2 :]) > 0:
        return None  # creeping up: the start of overfitting or instability, not a stall
    depth = math.log10(start / final) if start > final else 0.0
    if converged_check and depth >= CONVERGED_DECADES:
        return None
    half_gain = float(s[n // 2] - final) / final
    if half_gain >= flat_gain:
        return None  # the second half still bought something: not stuck
    t_in = int(np.argmax(s <= final * (1 + BAND)))
    span = float(steps[-1] - steps[0])
    if span <= 0:
        return None
    share = float(steps[-1] - steps[t_in]) / span
    return {
        "from_index": t_in,
        "from_step": int(steps[t_in]),
        "to_step": int(steps[-1]),
        "share_of_run": share,
        "level": final,
        "start_level": start,
        "gain_over_second_half": half_gain,
        "decades_fallen": depth,
        "points": n,
    }


def _lr_during(ctx: RunContext, s0: int, s1: int) -> tuple[str, float | None, float | None]:
    """'constant' | 'cut' | 'raised' | 'unknown', with the LR at both ends of the stretch."""
    if ctx.lr is None or not len(ctx.lr):
        return "unknown", None, None
    a, b = ctx.lr_at(s0), ctx.lr_at(s1)
    m = (ctx.lr.step >= s0) & (ctx.lr.step <= s1)
    v = ctx.lr.value[m]
    v = v[np.isfinite(v)]
    if len(v) == 0 and a is not None:
        v = np.array([a])
    if not len(v) or np.max(v) <= 0:
        return "unknown", a, b
    hi, lo = float(np.max(v)), float(np.min(v))
    if (hi - lo) / hi <= LR_CONSTANT:
        return "constant", a, b
    return ("cut" if (b or 0) < (a or 0) else "raised"), a, b


def _curves(ctx: RunContext) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    ep = ctx.epochs
    if ctx.train is not None and len(ctx.train.fvalue) >= MIN_POINTS:
        if ep is not None and ep.how in ("epoch", "evaluation", "segment") and np.isfinite(ep.train).sum() >= MIN_POINTS:
            out.append((ctx.train.series.metric, ep.train, ep.step))
        else:
            out.append((ctx.train.series.metric, ctx.train.fvalue, ctx.train.fstep))
    if ctx.val is not None and len(ctx.val.fvalue) >= MIN_VAL_POINTS:
        out.append((ctx.val.series.metric, ctx.val.fvalue, ctx.val.fstep))
    return out


def detect(ctx: RunContext) -> list[Finding]:
    cp = constant_predictor(ctx)
    flat = FLAT_GAIN_CONSTANT if cp else FLAT_GAIN
    train_name = ctx.train.series.metric if ctx.train is not None else None
    stalls = []
    for m, y, steps in _curves(ctx):
        if m == train_name and not cp and _fits_training_set(ctx):
            continue  # a loss that stays above 0 at 100% training accuracy is its floor (smoothing, regularisation)
        if m == train_name or ctx.train is None:
            st = stall(y, steps, flat)
        else:
            st = _validation_stall(ctx, y, steps, flat, bool(cp))
        if st is not None:
            stalls.append((m, st))
    if not stalls:
        return []
    # The training loss first (what the LR drives); a validation stall alone is a plateau of
    # what the model generalises, while training went on.
    stalls = [(m, st) for m, st in stalls if cp or not _schedule_acting(ctx, st)]
    if not stalls:
        return []
    metric, st = stalls[0]
    also_train = any(m == train_name for m, _ in stalls)
    val_only = metric != train_name
    s0, s1 = st["from_step"], st["to_step"]
    lr_state, lr_a, lr_b = _lr_during(ctx, s0, s1)
    share = st["share_of_run"]
    evidence: dict[str, Any] = {
        "judged_on": metric + (" (per-epoch means)" if metric == train_name and ctx.epochs is not None and ctx.epochs.how != "none" else ""),
        "plateau_share_of_run": share,
        "plateau_level": st["level"],
        "gain_over_second_half": st["gain_over_second_half"],
        "decades_fallen_before": st["decades_fallen"],
        "lr_during_plateau": lr_state,
        "lr": lr_a,
    }
    if cp:
        evidence["constant_predictor"] = cp
    what = (
        f"{metric} stopped improving at step {s0} and stayed at about {fmt(st['level'])} to the end "
        f"({fmt(100 * share)}% of the run; {fmt(100 * st['gain_over_second_half'])}% gained in its second half)"
    )
    if val_only and ctx.train is not None:
        what += ", while the training loss kept falling"
    if cp:
        what += f"; {_constant_words(cp)}"
    if lr_state == "constant":
        lr_txt = f" with the LR constant at {fmt(lr_a)}"
        advice = (
            "Decay the LR when progress stalls (ReduceLROnPlateau(factor=0.5, patience of a few evaluations), "
            f"or a cosine/step schedule), or stop at step {s0} and save the rest of the compute."
        )
    elif lr_state == "cut":
        lr_txt = f" although the LR was cut from {fmt(lr_a)} to {fmt(lr_b)} during it"
        advice = (
            "The LR cuts during the stall bought nothing: the LR is not what holds this run back. Look at the "
            "model's capacity, the data and its labels, regularisation, or the loss itself; "
            f"stopping at step {s0} would have given the same result."
        )
    elif lr_state == "raised":
        lr_txt = f" while the LR rose from {fmt(lr_a)} to {fmt(lr_b)}"
        advice = "Check the schedule: the LR rose during the stall without helping; decay it instead."
    else:
        lr_txt = " (no LR was logged to tell whether a schedule acted)"
        advice = (
            "Decay the LR when progress stalls (ReduceLROnPlateau or a cosine/step schedule), or stop earlier and "
            "save the compute; log the LR to see what the schedule did."
        )
    # Which way was the LR off, if the logs can tell (a constant predictor always asks;
    # an ordinary stall only when the LR is far from its usual range)?
    findings = _stuck(ctx, metric, st, cp)
    if cp:
        advice = (
            "The model predicts the same thing for every input, so nothing was learned: "
            + (findings[0].advice if findings else advice)
        )
    elif findings:
        advice = findings[0].advice
    conf = float(np.clip(0.4 + 0.5 * share, 0.5, 0.9))
    if val_only and also_train is False and ctx.train is not None:
        conf = min(conf, 0.7)
    findings.insert(
        0,
        Finding(
            code="plateau",
            severity="warning",
            run=ctx.run,
            metric=metric,
            start_step=s0,
            end_step=s1,
            message=what + lr_txt + ".",
            advice=advice,
            evidence=evidence,
            confidence=conf,
        ),
    )
    return findings


def _constant_words(cp: dict[str, Any]) -> str:
    if cp["kind"] == "chance":
        return (
            f"that is a constant predictor's level: accuracy {fmt(cp['accuracy'])} with loss "
            f"{fmt(cp['level'])} = ln {fmt(cp['classes_implied'])}, chance over {fmt(cp['classes_implied'])} classes"
        )
    if cp["kind"] == "frozen_accuracy":
        return (
            f"{cp['metric']} sat at exactly {fmt(cp['accuracy'])} for {fmt(100 * cp['share_identical'])}% of the "
            "evaluations: the model gives every input the same answer"
        )
    return f"the loss froze at {fmt(cp['level'])} (relative spread {fmt(cp['relative_spread'])}): the outputs no longer depend on the inputs"


def _stuck(ctx: RunContext, metric: str, st: dict[str, Any], cp: dict[str, Any] | None) -> list[Finding]:
    """A stalled run: was the LR too high or too low? Say so only when the logs tell; for a
    constant predictor, say that they cannot when they cannot."""
    curve = ctx.train if ctx.train is not None and len(ctx.train.fvalue) >= 3 else ctx.val
    if curve is None:
        return []
    side, ev = weigh(ctx, curve, constant=cp)
    if side is None and not cp:
        return []
    lr = ctx.nominal_lr
    ev = {**ev, "constant_predictor": cp}
    what = "learned nothing (it sits at a constant predictor's level)" if cp else f"stalled at {fmt(st['level'])}"
    s0, s1 = curve.first_step, curve.last_step
    if side == "high":
        sugg = suggest_lower(lr, 10, ctx.info.hparams)
        return [
            Finding(
                code="lr_too_high",
                severity="warning",
                run=ctx.run,
                metric=metric,
                start_step=s0,
                end_step=s1,
                message=(
                    f"The network {what} and the evidence says the LR was too high: "
                    + "; ".join(ev["too_high_evidence"]) + "."
                ),
                advice=(f"Lower the LR about 10x, to {fmt(sugg)}" if sugg else "Lower the LR about 10x")
                + ", or run `lrreport lr-find` to pick it; warmup and gradient clipping keep the first steps sane.",
                evidence=ev,
                confidence=0.6 + 0.05 * min(4, ev["too_high_points"] - ev["too_low_points"]),
                suggested_lr=sugg,
            )
        ]
    if side == "low":
        sugg = suggest_higher(lr, 10, ctx.info.hparams)
        return [
            Finding(
                code="lr_too_low",
                severity="warning",
                run=ctx.run,
                metric=metric,
                start_step=s0,
                end_step=s1,
                message=(
                    f"The network {what} and the evidence says the LR was too low: "
                    + "; ".join(ev["too_low_evidence"]) + "."
                ),
                advice=(f"Raise the LR about 10x, to {fmt(sugg)}" if sugg else "Raise the LR about 10x")
                + ", or run `lrreport lr-find` to pick it.",
                evidence=ev,
                confidence=0.6 + 0.05 * min(4, ev["too_low_points"] - ev["too_high_points"]),
                suggested_lr=sugg,
            )
        ]
    at = f"{fmt(lr / 10)} and {fmt(lr * 10)}" if lr else "a tenth and ten times your LR"
    return [
        Finding(
            code="lr_uncertain",
            severity="info",
            run=ctx.run,
            metric=metric,
            start_step=s0,
            end_step=s1,
            message=(
                "The model sits at a constant predictor's level: an LR far too high (a network killed in its first "
                "steps) and one far too low (a network that never moved) both end here, and these logs cannot tell "
                "which" + (f" (LR {fmt(lr)}; {ctx.prior.describe()})" if lr else " (no LR recorded)") + "."
            ),
            advice=(
                f"Settle it with one experiment: `lrreport lr-find` on this set-up, or two short runs at {at}; "
                "the one that leaves the constant level shows the direction. Check the labels and the loss too: a "
                "bug there looks the same."
            ),
            evidence=ev,
            confidence=0.5,
        )
    ]
