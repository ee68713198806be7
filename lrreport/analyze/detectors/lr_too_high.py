"""lr_too_high: training does not settle - spikes, rebounds, a dead network.

Three kinds of evidence, each enough on its own:

* **Spiked, then dead.** The loss jumps far above where it started early on
  (``early_peak_ratio``) and never gets clearly below its start afterwards
  (``stall_fraction``). Measured on cross-entropy ReLU nets: an LR far too high
  rarely gives NaN; the loss goes 2.3 -> 25 -> 163 and the net then sits at
  chance, so its final loss looks like a too-low run's; the early peak tells
  them apart.
* **A first epoch that blew up.** The mean training loss of the first epoch
  is ``FIRST_EPOCH_BLOWUP`` times the loss at that epoch's end (validation
  loss, else the next epoch's mean): the loss exploded early and came back
  down. Measured on the harness corpus: too-high runs 16x to 1e20x, healthy
  ones at most 6x (fast learners reach 2-6x).
* **A loss no classifier starts from.** The run logs an accuracy (so the loss
  is a classification loss, cross-entropy as a rule) and its epoch loss
  reached ``CE_ABSURD`` nats: a cross-entropy starts near ln(classes) (2.3 for
  10, 6.9 for 1000), so 25+ means the logits blew up.
* **Dead at chance.** Accuracy times exp(loss) stays near 1 (``CHANCE_BAND``):
  the net predicts a flat distribution over exp(loss) classes, at chance
  accuracy - for most of the run after a first epoch that averaged
  ``DEAD_FIRST_EPOCH`` times the loss it then sat at, or for the last
  ``COLLAPSE_SHARE`` of the run after it had been clearly better than chance
  (it learned, then collapsed). A too-low run also starts at chance, but
  without the blow-up, and it leaves chance rather than falling back to it.
* **Spikes.** Points far above the rolling median of the points before them
  (``spike_ratio``, Hampel-style), large against the loss scale, followed by
  raised losses (the model was shaken, not just handed a hard batch), and
  repeated (``MIN_SPIKES``) after the first few percent of training (early
  ones are ``warmup_needed``). A single spike of a healthy run is not enough.
* **Rebounds.** The per-epoch mean training loss climbs back ``REBOUND`` above
  its best so far, by more than ``NOISE_MULT`` times its usual epoch-to-epoch
  change, while the LR did not rise, and stays up (the later epochs' median
  remains ``REBOUND``/2 above that best) - with the validation loss, where
  logged, rising with it. AUTOTRAINER's oscillation rule, judged on epoch
  means so that minibatch noise does not count, and on lasting damage so
  that a bump the optimizer recovers from does not either.

The suggested LR is a third of the LR in force (a tenth for a dead network).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import Curve, RunContext
from ._common import fmt, suggest_lower

#: Spikes must also be large against the loss scale: a third of the starting loss.
SPIKE_MIN_HEIGHT = 0.33
#: Spikes counted this many times (after the warmup window) make the run spiky;
#: healthy runs at the top of their good LR range show up to 4 (harness corpus).
MIN_SPIKES = 5
#: A spike counts when the median of the AFTER_SPIKE points after it is still
#: AFTER_SPIKE_RAISED times the baseline (the model itself was shaken).
AFTER_SPIKE, AFTER_SPIKE_RAISED = 3, 1.5
#: First-epoch mean over the loss at its end, beyond which the first epoch blew up.
FIRST_EPOCH_BLOWUP = 10.0
#: Within the first epoch, the loss rose this far above its first point (it blew up).
EARLY_RISE = 1.5
#: Without a visible rise (epoch means only and no accuracy to bound the start, or a first
#: logged point that already averages over the blow-up, as the HF Trainer's does): a fast
#: first epoch brings a loss down one or two orders of magnitude (a regression from 0.02
#: to 0.001: 24x, a real healthy run); a mean this far above the epoch's end spent part of
#: it orders of magnitude above any sane start (harness blow-ups: 800x and more).
FIRST_EPOCH_BLOWUP_BLIND = 100.0

#: A classification loss this high (nats) is no starting point: the logits blew up.
CE_ABSURD = 25.0
#: accuracy * exp(loss) within this band of 1 means "at chance, predicting a flat distribution".
CHANCE_BAND = 0.15
#: Share of evaluations at chance, and the first-epoch blow-up (x the loss after) that
#: together say "dead after blowing up".
CHANCE_SHARE, DEAD_FIRST_EPOCH = 0.8, 3.0
#: A collapse: the last COLLAPSE_SHARE of evaluations at chance, after an accuracy
#: COLLAPSE_BETTER times the chance level earlier on.
COLLAPSE_SHARE, COLLAPSE_BETTER = 0.25, 1.5
#: An epoch mean this far (relative) above the best epoch so far is a rebound ...
REBOUND = 0.5
#: ... when it also exceeds this many times the median epoch-to-epoch change.
NOISE_MULT = 4.0
#: ... and this share of the first epoch's loss.
REBOUND_OF_START = 0.05
#: Epochs needed before the rebound rule applies.
MIN_EPOCHS = 6


def _times_or_percent(rel: float) -> str:
    """How far above, as a person says it: '58% above' for small rises, 'to 1,400x' for large
    ones (never '1.39e+07% above')."""
    if rel < 9:
        return f"{fmt(100 * rel)}% above"
    return f"to {1 + rel:,.0f}x" if 1 + rel < 1e6 else f"to {fmt(1 + rel)}x"


def _lr_rose(ctx: RunContext, s0: int, s1: int) -> bool:
    """Did the logged LR increase between two steps (a warm restart, a cyclic schedule)?"""
    if ctx.lr is None or len(ctx.lr) < 2:
        return False
    m = (ctx.lr.step >= s0) & (ctx.lr.step <= s1)
    v = ctx.lr.value[m]
    v = v[np.isfinite(v)]
    return len(v) >= 2 and bool(np.any(np.diff(v) > 1e-12 * max(1.0, float(np.max(np.abs(v))))))


def dead_network(ctx: RunContext, curve: Curve) -> dict | None:
    cfg = ctx.config
    v = curve.fvalue
    n = len(v)
    if n < 4 or np.min(v) < 0 or ctx.adversarial:
        return None
    early = max(2, int(n * 0.3))
    # The jump must come after the start: a first point that is the highest is where the run
    # began (an epoch mean of a fast first epoch), not a blow-up.
    peak_i = 1 + int(np.argmax(v[1:early]))
    peak = float(v[peak_i])
    before = float(np.median(v[:peak_i]))
    if before <= 0 or peak <= cfg.early_peak_ratio * before:
        return None
    # A batch-of-one run's losses swing 20x from point to point: a jump must stand out of
    # the early points' own spread (in log terms), not only of their median.
    logs = np.log(np.maximum(v[:early], 1e-300))
    d = np.diff(logs)
    spread = float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2)) if len(d) >= 3 else 0.0
    if np.log(peak / before) < signals.SPIKE_SPREAD * spread:
        return None
    after = curve.smooth[peak_i:]
    best_after = float(np.min(after)) if len(after) else peak
    if best_after < cfg.stall_fraction * before:
        return None  # it recovered and learned: a warmup question, not a dead net
    return {
        "start_level": before,
        "early_peak": peak,
        "early_peak_step": int(curve.fstep[peak_i]),
        "peak_over_start": peak / before,
        "best_after_peak": best_after,
        "best_after_over_start": best_after / before,
    }


def spike_evidence(ctx: RunContext, curve: Curve) -> dict | None:
    cfg = ctx.config
    v = curve.fvalue
    n = len(v)
    if n < 20 or curve.start <= 0 or np.min(v) < 0:
        return None
    idx, by_ratio, base = signals.spike_candidates(v, cfg.spike_ratio, cfg.spike_window)
    # A point above where training began is a spike however wide the minibatch noise is:
    # the model got worse than untrained (log-spread tests miss these once a loss near 0
    # makes log(loss) noisy).
    above_start = by_ratio[v[by_ratio] > curve.start]
    idx = np.union1d(idx, above_start).astype(np.int64)
    skip = max(1, int(n * cfg.warmup_window_frac))
    idx = idx[idx >= skip]
    if not len(idx):
        return None
    height = v[idx] - base[idx]
    # An instability shakes the model: the points right after a spike stay raised. A batch
    # that is merely hard (one outlier in a small data set near convergence) is followed
    # by ordinary losses again.
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([v, np.full(AFTER_SPIKE, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the last point has nothing after it
        after_all = np.nanmedian(sliding_window_view(padded[1:], AFTER_SPIKE), axis=1)
    after = after_all[idx]
    with np.errstate(invalid="ignore"):
        lasting = after > AFTER_SPIKE_RAISED * base[idx]
    keep = (height > SPIKE_MIN_HEIGHT * curve.start) & lasting
    idx = idx[keep]
    if not len(idx):
        return None
    ratios = v[idx] / base[idx]
    if len(idx) < MIN_SPIKES:
        return None
    return {
        "spikes": int(len(idx)),
        "max_spike_ratio": float(np.max(ratios)),
        "first_spike_step": int(curve.fstep[idx[0]]),
        "last_spike_step": int(curve.fstep[idx[-1]]),
        "spike_ratio_threshold": cfg.spike_ratio,
    }


def first_epoch_blowup(ctx: RunContext) -> dict | None:
    first = ctx.epochs.first_epoch_ratio() if ctx.epochs is not None else None
    if first is None or first[0] / first[1] < FIRST_EPOCH_BLOWUP:
        return None
    t0, ref, compared_with = first
    end_step = int(ctx.epochs.step[0])
    # A blow-up rises above where the loss began. When the first epoch's own points were
    # logged, they must show the rise (a regression loss falling 100x within its first
    # epoch also has a mean far above the epoch's end); with epoch means only, a
    # classifier's loss (accuracy logged) cannot start far above ln(classes), so the
    # ratio alone speaks.
    tr = ctx.train
    inside = tr.fvalue[tr.fstep <= end_step] if tr is not None else np.zeros(0)
    rose = len(inside) >= 3 and (
        float(np.max(inside[1:])) >= EARLY_RISE * float(inside[0]) or float(np.mean(inside)) > float(inside[0])
    )
    if not rose and t0 / ref < FIRST_EPOCH_BLOWUP_BLIND and (len(inside) >= 3 or _accuracy(ctx) is None):
        return None
    if not rose and tr is not None and len(tr.fvalue) and float(np.min(tr.fvalue)) <= 0.0:
        # No rise seen, and the loss reached exactly 0 (a task fit perfectly, or leaked): the
        # first epoch's mean is large against an end near 0, not because of a blow-up.
        return None
    return {
        "first_epoch_mean_loss": t0,
        "loss_at_first_epoch_end": ref,
        "first_epoch_blowup": t0 / ref,
        "first_epoch_end_step": end_step,
        "compared_with": compared_with,
    }


def _accuracy(ctx: RunContext):
    return ctx.val_acc if ctx.val_acc is not None and len(ctx.val_acc) else ctx.train_acc


def absurd_ce(ctx: RunContext) -> dict | None:
    if _accuracy(ctx) is None or ctx.epochs is None:
        return None
    ep = ctx.epochs
    both = np.concatenate([ep.train, ep.val])
    both = both[np.isfinite(both)]
    if not len(both) or np.min(both) < 0 or np.max(both) < CE_ABSURD:
        return None
    worst = np.nanmax(np.where(np.isfinite(ep.train), ep.train, np.nan)) if np.isfinite(ep.train).any() else np.nan
    i = int(np.nanargmax(np.where(np.isfinite(ep.train), ep.train, -np.inf))) if np.isfinite(ep.train).any() else 0
    return {"max_epoch_loss": float(np.max(both)), "max_train_epoch_step": int(ep.step[i]), "ce_absurd": CE_ABSURD,
            "max_train_epoch_loss": float(worst) if np.isfinite(worst) else None}


def dead_at_chance(ctx: RunContext) -> dict | None:
    acc, val, ep = ctx.val_acc, ctx.val, ctx.epochs
    loss = val
    if acc is None or loss is None or ep is None or len(acc) < 4 or len(ep.train) < 2:
        loss, acc = ctx.train, ctx.train_acc
        if acc is None or loss is None or ep is None or len(acc) < 4 or len(ep.train) < 2:
            return None
    # Pair each accuracy point with the loss logged at the same step.
    idx = np.searchsorted(loss.step, acc.step)
    ok = (idx < len(loss.step)) & np.isfinite(acc.value)
    ok[ok] &= loss.step[idx[ok]] == acc.step[ok]
    if ok.sum() < 4:
        return None
    a, l = acc.value[ok][1:], loss.value[idx[ok]][1:]
    with np.errstate(all="ignore"):
        prod = a * np.exp(np.minimum(l, 50))
    at_chance = np.isfinite(prod) & (np.abs(prod - 1) <= CHANCE_BAND) & (a < 0.75)
    share = float(at_chance.mean()) if len(at_chance) else 0.0
    t0 = float(ep.train[0])
    level = float(np.median(l))
    blew_up = share >= CHANCE_SHARE and np.isfinite(t0) and level > 0 and t0 / level >= DEAD_FIRST_EPOCH
    k = max(2, int(np.ceil(COLLAPSE_SHARE * len(a))))
    tail_chance = bool(at_chance[-k:].all()) and len(a) > k
    chance_acc = float(np.median(a[-k:])) if tail_chance else float(np.median(a))
    collapsed = tail_chance and float(np.max(a[:-k])) >= COLLAPSE_BETTER * chance_acc
    if not (blew_up or collapsed):
        return None
    tail_loss = float(np.median(l[-k:])) if collapsed else level
    # Where the final stretch at chance began (the acc points paired above, less the first).
    streak = len(at_chance) - (np.flatnonzero(~at_chance)[-1] + 1 if (~at_chance).any() else 0)
    steps = acc.step[ok][1:]
    since = int(steps[len(steps) - streak]) if streak else int(steps[-1])
    return {
        "at_chance_since_step": since,"share_at_chance": share, "chance_accuracy": chance_acc, "classes_implied": float(np.exp(tail_loss)),
            "first_epoch_mean_loss": t0, "loss_after": tail_loss, "collapsed_after_learning": collapsed,
            "best_accuracy_before": float(np.max(a[:-k])) if collapsed else None}


def rebound_evidence(ctx: RunContext) -> dict | None:
    ep = ctx.epochs
    if ep is None or ctx.adversarial:
        return None  # a GAN player's loss rises whenever the other player gains
    ok = np.isfinite(ep.train)
    t, st = ep.train[ok], ep.step[ok]
    if len(t) < MIN_EPOCHS or np.min(t) <= 0:
        return None
    # The best so far of a noisy series is one lucky epoch, and every ordinary one after it
    # looks "raised": judge on median-of-3 epochs (a real rebound lasts longer than that).
    t = signals.rolling_median(t, 3)
    noise = float(np.median(np.abs(np.diff(t))))
    best = np.minimum.accumulate(t)
    rise = t[2:] - best[1:-1]
    rel = rise / best[1:-1]
    # Near a floor of ~0 any wobble is a large ratio: the rise must also matter
    # against where the run started.
    hit = np.flatnonzero((rel >= REBOUND) & (rise > NOISE_MULT * noise) & (rise > REBOUND_OF_START * t[0]))
    v = ep.val[ok]
    for k in hit:
        i = k + 2
        j = int(np.argmax(t[: i] == best[i - 1]))
        # Lasting: the run stays up, to its end, by a margin that matters against where it
        # started (near a floor of ~0 every wobble is a large ratio).
        tail = t[-max(1, len(t) // 10) :]
        raised = best[i - 1] * (1 + REBOUND / 2) + REBOUND_OF_START * t[0]
        lasting = float(np.median(t[i:])) >= raised and float(np.median(tail)) >= raised
        vbest = np.nanmin(v[: i]) if np.isfinite(v[: i]).any() else np.nan
        val_agrees = not np.isfinite(vbest) or not np.isfinite(v[i:]).any() or (
            float(np.nanmax(v[i : i + 2])) >= vbest * (1 + REBOUND / 2)
        )
        if lasting and val_agrees and not _lr_rose(ctx, int(st[j]), int(st[i])):
            return {
                "rebound_from_step": int(st[j]),
                "rebound_to_step": int(st[i]),
                "epoch_loss_best_so_far": float(best[i - 1]),
                "epoch_loss_rebound": float(t[i]),
                "rebound_over_best": float(rel[k]),
                "median_epoch_change": noise,
            }
    return None


def detect(ctx: RunContext) -> list[Finding]:
    curve = ctx.loss
    if curve is None or len(curve.fvalue) < 3:
        return []
    metric = "train_loss" if curve is ctx.train else "val_loss"
    dead = dead_network(ctx, curve)
    if dead:
        step = dead["early_peak_step"]
        lr = ctx.lr_at(step)
        sugg = suggest_lower(lr, 10, ctx.info.hparams)
        return [
            Finding(
                code="lr_too_high",
                severity="warning",
                run=ctx.run,
                metric=metric,
                start_step=curve.first_step,
                end_step=curve.last_step,
                message=(
                    f"{metric} jumped to {fmt(dead['early_peak'])} ({fmt(dead['peak_over_start'])}x its start) at step {step} "
                    f"and never got clearly below its starting {fmt(curve.start)} again: the network stalled after blowing up."
                ),
                advice=(f"Lower the LR about 10x, to {fmt(sugg)}" if sugg else "Lower the LR about 10x")
                + ", or run `lrreport lr-find` to pick it; add warmup and gradient clipping.",
                evidence={**dead, "lr": lr},
                confidence=0.85,
                suggested_lr=sugg,
            )
        ]
    parts: dict = {}
    ranges: list[int] = []
    fb = first_epoch_blowup(ctx)
    if fb:
        parts.update(fb)
        ranges += [curve.first_step, fb["first_epoch_end_step"]]
    ce = absurd_ce(ctx)
    if ce:
        parts.update(ce)
        ranges += [curve.first_step, ce["max_train_epoch_step"]]
    dc = dead_at_chance(ctx)
    if dc:
        parts.update(dc)
        ranges += [dc["at_chance_since_step"] if dc["collapsed_after_learning"] else curve.first_step, curve.last_step]
    sp = spike_evidence(ctx, curve)
    if sp:
        parts.update(sp)
        ranges += [sp["first_spike_step"], sp["last_spike_step"]]
    rb = rebound_evidence(ctx)
    if rb:
        parts.update(rb)
        ranges += [rb["rebound_from_step"], rb["rebound_to_step"]]
    if not parts:
        return []
    start, end = min(ranges), max(ranges)
    lr = ctx.lr_at(start)
    # A blow-up calls for a bigger step down than jitter does.
    sugg = suggest_lower(lr, 10 if fb or ce or dc else 3, ctx.info.hparams)
    what = []
    if ce:
        what.append(
            f"with accuracy logged (a classification loss), the loss reached {fmt(ce['max_epoch_loss'])} - "
            f"far above where any cross-entropy starts"
        )
    if dc and dc["collapsed_after_learning"]:
        what.append(
            f"the net reached accuracy {fmt(dc['best_accuracy_before'])}, then collapsed to chance "
            f"(accuracy {fmt(dc['chance_accuracy'])}, loss {fmt(dc['loss_after'])} = ln {fmt(dc['classes_implied'])}) "
            f"and stayed there"
        )
    elif dc:
        what.append(
            f"after a first epoch averaging {fmt(dc['first_epoch_mean_loss'])}, the net sat at chance "
            f"(accuracy {fmt(dc['chance_accuracy'])}, loss {fmt(dc['loss_after'])} = ln {fmt(dc['classes_implied'])}) "
            f"for {fmt(100 * dc['share_at_chance'])}% of the evaluations"
        )
    if fb:
        what.append(
            f"the first epoch's mean loss was {fmt(fb['first_epoch_blowup'])}x the loss at its end (it blew up, then came down)"
        )
    if sp:
        what.append(f"{sp['spikes']} loss spikes up to {fmt(sp['max_spike_ratio'])}x the running median")
    if rb:
        what.append(
            f"the epoch-mean loss climbed back {_times_or_percent(rb['rebound_over_best'])} its best "
            f"(from step {rb['rebound_from_step']} to {rb['rebound_to_step']})"
        )
    conf = min(0.9, 0.45 + 0.15 * len(what))
    return [
        Finding(
            code="lr_too_high",
            severity="warning",
            run=ctx.run,
            metric=metric,
            start_step=int(start),
            end_step=int(end),
            message=(f"The LR was too high for this run between steps {start} and {end}: " if end > start
                     else f"The LR was too high for this run at step {start}: ") + "; ".join(what) + ".",
            advice=(f"Lower the LR to about {fmt(sugg)} (from {fmt(lr)})" if sugg else "Lower the LR about 3x")
            + (", and warm it up over the first epoch" if fb else " or decay it (cosine or StepLR)")
            + "; gradient clipping tames single spikes.",
            evidence={**parts, "lr": lr},
            confidence=conf,
            suggested_lr=sugg,
        )
    ]
