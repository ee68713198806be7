"""lr_too_high: training does not settle - spikes, rebounds, a dead network.

Three kinds of evidence, each enough on its own:

* **Spiked, then dead.** The loss jumps far above where it started early on
  (``early_peak_ratio``) and never gets clearly below its start afterwards
  (``stall_fraction``). Measured on cross-entropy ReLU nets: an LR far too high
  rarely gives NaN; the loss goes 2.3 -> 25 -> 163 and the net then sits at
  chance, so its final loss looks like a too-low run's; the early peak tells
  them apart.
* **Spikes.** Points far above the rolling median of the points before them
  (``spike_ratio``, Hampel-style) and large against the loss scale, repeated
  after the first few percent of training (early ones are ``warmup_needed``).
* **Rebounds / oscillation.** The smoothed training loss climbs back well above
  its best so far while the LR did not rise (``oscillation_amplitude``); or the
  validation loss zig-zags: its total variation many times its net change
  (AUTOTRAINER's oscillation rule, made robust by smoothing and amplitude).

The suggested LR is a third of the LR in force (a tenth for a dead network).
"""

from __future__ import annotations

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import Curve, RunContext
from ._common import fmt, round_lr

#: Spikes must also be large against the loss scale: a third of the starting loss.
SPIKE_MIN_HEIGHT = 0.33
#: Spikes counted this many times (after the warmup window) make the run spiky.
MIN_SPIKES = 3
#: A single spike this many times its baseline is enough.
HUGE_SPIKE = 10.0
#: Validation total variation over net change above this is a zig-zag.
VAL_ZIGZAG = 4.0
#: Points needed before oscillation/zig-zag rules apply.
MIN_POINTS = 8


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
    if n < 4 or curve.start <= 0 or np.min(v) < 0:
        return None
    early = max(2, int(n * 0.3))
    peak_i = int(np.argmax(v[:early]))
    peak = float(v[peak_i])
    if peak <= cfg.early_peak_ratio * curve.start:
        return None
    after = curve.smooth[peak_i:]
    best_after = float(np.min(after)) if len(after) else peak
    if best_after < cfg.stall_fraction * curve.start:
        return None  # it recovered and learned: a warmup question, not a dead net
    return {
        "start_level": curve.start,
        "early_peak": peak,
        "early_peak_step": int(curve.fstep[peak_i]),
        "peak_over_start": peak / curve.start,
        "best_after_peak": best_after,
        "best_after_over_start": best_after / curve.start,
    }


def spike_evidence(ctx: RunContext, curve: Curve) -> dict | None:
    cfg = ctx.config
    v = curve.fvalue
    n = len(v)
    if n < 20 or curve.start <= 0 or np.min(v) < 0:
        return None
    idx = signals.spikes(v, cfg.spike_ratio, cfg.spike_window)
    skip = max(1, int(n * cfg.warmup_window_frac))
    idx = idx[idx >= skip]
    if not len(idx):
        return None
    import pandas as pd

    base = pd.Series(v).shift(1).rolling(cfg.spike_window, min_periods=3).median().to_numpy()
    height = v[idx] - base[idx]
    keep = height > SPIKE_MIN_HEIGHT * curve.start
    idx = idx[keep]
    if not len(idx):
        return None
    ratios = v[idx] / base[idx]
    if len(idx) < MIN_SPIKES and float(np.max(ratios)) < HUGE_SPIKE:
        return None
    return {
        "spikes": int(len(idx)),
        "max_spike_ratio": float(np.max(ratios)),
        "first_spike_step": int(curve.fstep[idx[0]]),
        "last_spike_step": int(curve.fstep[idx[-1]]),
        "spike_ratio_threshold": cfg.spike_ratio,
    }


def rebound_evidence(ctx: RunContext, curve: Curve) -> dict | None:
    cfg = ctx.config
    s = curve.smooth
    n = len(s)
    if n < MIN_POINTS or np.min(curve.fvalue) < 0:
        return None
    cummin = np.minimum.accumulate(s)
    scale = max(curve.start - float(np.min(s)), 1e-12)
    # A rebound: how far the smoothed loss climbs back above its best so far,
    # against the ground the run had covered from its start.
    reb = (s - cummin) / max(curve.start, 1e-12)
    i = int(np.argmax(reb))
    if reb[i] < cfg.oscillation_amplitude:
        return None
    j = int(np.argmax(s[: i + 1] == cummin[i]))  # where the best-so-far was set
    if _lr_rose(ctx, int(curve.fstep[j]), int(curve.fstep[i])):
        return None
    return {
        "rebound_from_step": int(curve.fstep[j]),
        "rebound_to_step": int(curve.fstep[i]),
        "rebound_over_start": float(reb[i]),
        "rebound_over_progress": float((s[i] - cummin[i]) / scale),
        "oscillation_amplitude": cfg.oscillation_amplitude,
    }


def zigzag_evidence(ctx: RunContext, curve: Curve) -> dict | None:
    v = curve.fvalue
    if len(v) < MIN_POINTS or np.min(v) < 0:
        return None
    m = signals.rolling_median(v, 3) if len(v) > 40 else v
    tv = float(np.sum(np.abs(np.diff(m))))
    net = abs(float(m[0] - np.min(m))) + abs(float(m[-1] - np.min(m)))
    rate = signals.sign_change_rate(m)
    if net <= 0 or tv / net < VAL_ZIGZAG or rate < ctx.config.oscillation_sign_rate:
        return None
    if tv / max(float(np.median(m)), 1e-12) < 0.5:
        return None  # wiggles too small to matter
    return {"val_total_variation_over_net_change": tv / net, "val_sign_change_rate": rate}


def detect(ctx: RunContext) -> list[Finding]:
    curve = ctx.loss
    if curve is None or len(curve.fvalue) < 3:
        return []
    metric = "train_loss" if curve is ctx.train else "val_loss"
    dead = dead_network(ctx, curve)
    if dead:
        step = dead["early_peak_step"]
        lr = ctx.lr_at(step)
        sugg = round_lr(lr / 10) if lr else None
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
    sp = spike_evidence(ctx, curve)
    if sp:
        parts.update(sp)
        ranges += [sp["first_spike_step"], sp["last_spike_step"]]
    rb = rebound_evidence(ctx, curve)
    if rb:
        parts.update(rb)
        ranges += [rb["rebound_from_step"], rb["rebound_to_step"]]
    if ctx.val is not None and ctx.val is not curve:
        zz = zigzag_evidence(ctx, ctx.val)
        if zz:
            parts.update(zz)
            ranges += [ctx.val.first_step, ctx.val.last_step]
    if not parts:
        return []
    start, end = min(ranges), max(ranges)
    lr = ctx.lr_at(start)
    sugg = round_lr(lr / 3) if lr else None
    what = []
    if sp:
        what.append(f"{sp['spikes']} loss spikes up to {fmt(sp['max_spike_ratio'])}x the running median")
    if rb:
        what.append(f"the smoothed loss climbed back {fmt(100 * rb['rebound_over_start'])}% of its start above its best")
    if "val_total_variation_over_net_change" in parts:
        what.append("the validation loss zig-zags")
    conf = min(0.9, 0.45 + 0.15 * len(what))
    return [
        Finding(
            code="lr_too_high",
            severity="warning",
            run=ctx.run,
            metric=metric,
            start_step=int(start),
            end_step=int(end),
            message=f"Training does not settle between steps {start} and {end}: " + "; ".join(what) + ".",
            advice=(f"Lower the LR to about {fmt(sugg)} (a third of {fmt(lr)})" if sugg else "Lower the LR about 3x")
            + " or decay it (cosine or StepLR); gradient clipping tames single spikes.",
            evidence={**parts, "lr": lr},
            confidence=conf,
            suggested_lr=sugg,
        )
    ]
