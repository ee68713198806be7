"""divergence: the loss became NaN/Inf, or grew far above its start and stayed there.

Evidence: the first non-finite step and the share of non-finite points after
it (a lone NaN that the run recovers from is a skipped fp16 step, not a
divergence); or the late level of the loss against its early level
(``divergence_ratio``) and its peak (``explosion_ratio``, not recovered to
within ``recover_ratio``). TheDeepChecker's divergence rule looks only at NaN
and a growing loss; we also ask that it does not come back, as FINDINGS.md says.
Ratio rules apply to positive losses only (a GAN or ELBO loss may be negative),
to the training loss (a validation loss that climbs while training falls is
overfitting), and not to adversarial runs, whose players' losses rise in turn.
"""

from __future__ import annotations

import numpy as np

from ..analysis import Finding
from ..context import Curve, RunContext
from ._common import fmt, suggest_lower

#: After the first NaN/Inf, at least this share of points non-finite (or the
#: last point non-finite) means the run never came back.
PERSISTENT_NONFINITE = 0.5


def _nonfinite(ctx: RunContext, curve: Curve, metric: str) -> Finding | None:
    bad = ~curve.finite
    if not bad.any():
        return None
    first = int(np.argmax(bad))
    after = bad[first:]
    share = float(after.mean())
    if share < PERSISTENT_NONFINITE and not bad[-1]:
        return None
    step = int(curve.step[first])
    lr = ctx.lr_at(step)
    last_finite = curve.value[:first][np.isfinite(curve.value[:first])]
    sugg = suggest_lower(lr, 10, ctx.info.hparams)
    ev = {
        "first_nonfinite_step": step,
        "nonfinite_share_after": round(share, 3),
        "nonfinite_points": int(bad.sum()),
        "last_finite_value": float(last_finite[-1]) if len(last_finite) else None,
        "lr_at_blowup": lr,
    }
    lr_txt = f" (LR {fmt(lr)} then)" if lr else ""
    return Finding(
        code="divergence",
        severity="error",
        run=ctx.run,
        metric=metric,
        start_step=step,
        end_step=int(curve.step[-1]),
        message=f"{metric} became NaN/Inf at step {step}{lr_txt} and never recovered.",
        advice=(
            f"Lower the LR to about {fmt(sugg)} (a tenth of the LR at the blow-up)"
            if sugg
            else "Lower the LR about 10x"
        )
        + ", add a warmup, and clip gradients (e.g. clip_grad_norm_ at 1.0).",
        evidence=ev,
        confidence=0.95,
        suggested_lr=sugg,
    )


def _explosion(ctx: RunContext, curve: Curve, metric: str) -> Finding | None:
    cfg = ctx.config
    v = curve.fvalue
    if len(v) < 3 or np.min(v) < 0:
        return None
    start = curve.start
    if not start > 0:
        return None
    end = curve.end
    peak_i = int(np.argmax(curve.smooth))
    peak = float(curve.smooth[peak_i])
    grew = end > cfg.divergence_ratio * start
    exploded = peak > cfg.explosion_ratio * start and end > cfg.recover_ratio * start
    if not (grew or exploded):
        return None
    # Where it started: the first smoothed point above twice the start.
    above = np.flatnonzero(curve.smooth > 2 * start)
    i0 = int(above[0]) if len(above) else peak_i
    step = int(curve.fstep[i0])
    lr = ctx.lr_at(step)
    sugg = suggest_lower(lr, 10, ctx.info.hparams)
    return Finding(
        code="divergence",
        severity="error",
        run=ctx.run,
        metric=metric,
        start_step=step,
        end_step=int(curve.fstep[-1]),
        message=(
            f"{metric} grew from {fmt(start)} to {fmt(end)} ({fmt(end / start)}x its start) "
            f"from step {step} on and did not come back."
        ),
        advice=(
            (f"Lower the LR to about {fmt(sugg)} (a tenth of the {fmt(lr)} in force at step {step})" if sugg else "Lower the LR about 10x")
            + "; add warmup and gradient clipping."
        ),
        evidence={
            "start_level": start,
            "end_level": end,
            "end_over_start": end / start,
            "peak_smoothed": peak,
            "divergence_ratio": cfg.divergence_ratio,
            "lr_at_blowup": lr,
        },
        confidence=0.85 if grew else 0.7,
        suggested_lr=sugg,
    )


def detect(ctx: RunContext) -> list[Finding]:
    for name, curve in (("train_loss", ctx.train), ("val_loss", ctx.val)):
        if curve is None or len(curve) == 0:
            continue
        f = _nonfinite(ctx, curve, name)
        # A growing loss is a divergence of the optimisation only on the training curve: a
        # validation loss that climbs while the training loss falls is overfitting.
        if f is None and not ctx.adversarial and (name == "train_loss" or ctx.train is None or len(ctx.train.fvalue) < 3):
            f = _explosion(ctx, curve, name)
        if f is not None:
            return [f]
    return []
