"""overfitting: validation loss rises from its minimum while training loss keeps falling.

Judged on loss, never accuracy: while a model overfits, validation accuracy
can stay flat or even rise as the validation loss climbs (measured on the
harness corpus, and on real fine-tunes such as a Whisper run).
UMLAUT's rule flags any rise of validation loss; we ask for a rise of
``overfit_rise`` above the (smoothed) minimum - or a slower but steady climb
(``SLOW_RISE``, Kendall's tau ``SLOW_TAU``) - that lasts to the end and stands
out of the epoch-to-epoch noise, with the training loss still falling by
``overfit_train_drop`` after the minimum. The advice carries the step/epoch
where validation loss was lowest: where early stopping would have stopped.
"""

from __future__ import annotations

import math

import numpy as np

from .. import signals
from ..analysis import Finding
from ..context import RunContext
from ._common import fmt

#: A slower rise still counts when it is a steady climb: at least SLOW_RISE, over
#: SLOW_MIN_POINTS evaluations after the minimum, with a rank correlation (Kendall's
#: tau) against time of SLOW_TAU, while training loss fell by SLOW_TRAIN_DROP.
SLOW_RISE, SLOW_MIN_POINTS, SLOW_TAU, SLOW_TRAIN_DROP = 0.08, 4, 0.7, 0.5
#: Evaluations after the minimum needed to call a rise.
MIN_AFTER = 3
#: The val minimum must come before this share of the validation points.
MIN_BEFORE = 0.85
#: The rise must exceed this many standard errors of the tail's level (point noise / sqrt(points)).
NOISE_MULT = 2.0


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    val = ctx.val
    if val is None or len(val.fvalue) < cfg.overfit_min_points:
        return []
    v, st = val.fvalue, val.fstep
    if np.min(v) < 0:
        return []
    n = len(v)
    sm = signals.rolling_median(v, 3) if n < 40 else val.smooth
    i_min = int(np.argmin(sm))
    if i_min >= MIN_BEFORE * (n - 1) or i_min == 0 and n < 3:
        return []
    vmin = float(sm[i_min])
    if not vmin > 0 or n - 1 - i_min < MIN_AFTER:
        return []
    # The level the run ended at: the median of its last points (a sixth of them, at
    # least 2), so one lucky or unlucky evaluation does not decide.
    tail = max(2, n // 6)
    end = float(np.median(v[-tail:]))
    rise = (end - vmin) / vmin
    after = v[i_min:]
    # Point-to-point noise from the spread of the increments, not their size: a steady
    # climb has large, consistent increments; a zig-zag has increments of both signs.
    d = np.diff(after)
    noise = float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2)) if len(d) >= 2 else 0.0
    tau = signals.kendall_tau(after) if len(after) >= SLOW_MIN_POINTS else 0.0
    steady = rise >= SLOW_RISE and tau >= SLOW_TAU
    if (rise < cfg.overfit_rise and not steady) or (end - vmin) < NOISE_MULT * noise / math.sqrt(tail):
        return []
    # Sustained: the run ends clearly above its minimum (the tail's median by half the
    # rise that counts), not back at it.
    if end < vmin * (1 + min(rise, cfg.overfit_rise) / 2):
        return []
    best_step = int(st[i_min])
    # The raw minimum near the smoothed one is where to stop.
    lo, hi = max(0, i_min - 1), min(n, i_min + 2)
    j = lo + int(np.argmin(v[lo:hi]))
    best_step = int(st[j])
    train_drop = None
    train = ctx.train
    if train is not None and len(train.fvalue) >= 3:
        before = train.fvalue[train.fstep <= best_step]
        after = train.fvalue[train.fstep > best_step]
        if len(before) and len(after):
            t_at = float(np.median(before[-max(1, len(before) // 10) :]))
            t_end = float(np.median(after[-max(1, len(after) // 5) :]))
            train_drop = (t_at - t_end) / t_at if t_at > 0 else 0.0
            if train_drop < (cfg.overfit_train_drop if rise >= cfg.overfit_rise else SLOW_TRAIN_DROP):
                return []
    ep = val.series.epoch[val.finite][j] if len(val.series.epoch) else math.nan
    best_epoch = float(ep) if math.isfinite(ep) else None
    stop_txt = f"epoch {fmt(best_epoch)} (step {best_step})" if best_epoch is not None else f"step {best_step}"
    lr = ctx.lr_at(best_step)
    evidence = {
        "val_min": float(v[j]),
        "val_min_step": best_step,
        "val_end": end,
        "val_rise_over_min": rise,
        "train_drop_after_min": train_drop,
        "overfit_rise": cfg.overfit_rise,
        "val_trend_after_min_kendall_tau": tau,
    }
    return [
        Finding(
            code="overfitting",
            severity="warning",
            run=ctx.run,
            metric="val_loss",
            start_step=best_step,
            end_step=int(st[-1]),
            message=(
                f"val_loss was lowest ({fmt(float(v[j]))}) at {stop_txt} and then rose {fmt(100 * rise)}% to {fmt(end)}"
                + (f" while train_loss fell another {fmt(100 * train_drop)}%." if train_drop is not None else ".")
            ),
            advice=(
                f"Stop at {stop_txt} (early stopping on val_loss, or keep that checkpoint); "
                + (f"decay the LR before then (it was {fmt(lr)}), " if lr else "decay the LR earlier, ")
                + "and regularize (weight decay, dropout, augmentation, more data)."
            ),
            evidence=evidence,
            confidence=min(0.95, 0.6 + rise),
            best_step=best_step,
            best_epoch=best_epoch,
        )
    ]
