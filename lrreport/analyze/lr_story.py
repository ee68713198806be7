"""The story of each LR change: what the loss did before it, what it did after, and whether it helped.

Every change of the logged learning rate is one event: a scheduler's cut (StepLR,
MultiStepLR, a ReduceLROnPlateau cut), a raise, the end of a warmup (the LR ramped
up from the start to its peak, in one go or in steps) and a warm restart (a raise of
at least 2x after the LR had decayed: SGDR, ``CosineAnnealingWarmRestarts``). For
each, on every loss the run logs (training, validation), this module measures:

* **where**: the epoch the change falls in (the trace's row), or its step when the
  run logs no epochs; slopes are then per a round number of steps (about a
  twentieth of the run), named in ``unit``.
* **the loss's means**: per epoch (per-batch noise averages out; a per-epoch log
  keeps its points), or per quarter epoch when changes come faster than that, over
  up to :data:`WINDOW` epochs on each side, never past the neighbouring changes (each
  side sees one LR).
* **slope before / after**: a least-squares line through each side's means, loss
  per unit (per epoch): negative is falling.
* **the change across it**: the first mean after it minus the last before it. A cut
  that lowers the noise floor the LR held the loss at makes the loss drop at once
  (the staircase of step-decay curves, He et al. 2016, "Deep Residual Learning",
  Fig. 4); it counts as a drop only beyond the loss's own trend before it.
* **noise**: the scatter of the means about their line (or, for bins smaller than an
  epoch, at least their standard error). A change or a slope counts only beyond
  :data:`NOISE_Z` standard errors and beyond :data:`MIN_EFFECT` of the loss level
  over the window: a slope below that floor is "flat", one above it but within the
  noise is "no clear trend".

Whether it **helped** is judged on the training loss (what the LR acts on;
the validation loss when the run logs no training loss):

* a cut helped when the loss dropped at the change, fell faster after it, or
  had been flat and fell after it; it did not help when the loss was falling and
  stalled after it (the ``schedule_too_aggressive`` shape) or rose;
* a raise, a restart or a warmup's end helped when the loss ended the window
  below where it was at the change and was not rising; it did not when the
  loss rose and stayed above.

Anything else is "no clear effect" (``helped`` is None): the numbers are given
and the story says so instead of guessing; so is a change between two LRs both
under :data:`NEGLIGIBLE_LR_SHARE` of the run's peak (they cannot move the weights). Pure functions over numpy arrays:
nothing here reads a RunSet or formats for a particular output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import signals
from .analysis import LossResponse, LRChange

__all__ = ["MIN_EFFECT", "NOISE_Z", "WINDOW", "StoryAxis", "describe_changes", "lr_events", "story_axis"]

#: Units (epochs) looked at on each side of a change: long enough to average a few
#: epochs' noise, short enough that a StepLR of step_size 5 keeps its windows apart.
WINDOW = 3.0
#: Standard errors a step or a slope difference must exceed to count as an effect (about 95%).
NOISE_Z = 2.0
#: ... and the share of the loss level it must move the loss by over a window: below 1%
#: nobody reading the curve would call it a change.
MIN_EFFECT = 0.01
#: A slope at least this many times the other is "faster"/"slower" in the story.
PACE_RATIO = 1.25
#: A warmup ramps the LR up by at least this factor, and reaches its peak within this
#: share of the run (an LR range test ramps to the end: it is not a warmup).
WARMUP_MIN_RAISE = 2.0
WARMUP_MAX_SHARE = 0.5
#: A raise of at least this factor after the LR had decayed is a warm restart (SGDR).
RESTART_MIN_RAISE = 2.0
#: A change between two LRs both under this share of the run's peak LR cannot move the
#: weights enough to show in the loss (updates scale with the LR): it gets no verdict.
NEGLIGIBLE_LR_SHARE = 1e-3
#: Slopes are per this many steps when the run logs no epochs: about a twentieth of the run.
STEP_UNITS_PER_RUN = 20


# --- which changes -----------------------------------------------------------------------
def _warmup_end(step: np.ndarray, lr: np.ndarray) -> tuple[int, float, float] | None:
    """(step where the LR reached its peak, LR at the start, the peak) when the run opens
    with a ramp up to its peak in its first half; None otherwise."""
    if len(lr) < 3:
        return None
    peak = float(np.max(lr))
    if not peak > 0:
        return None
    p = int(np.argmax(lr >= peak * (1 - 1e-6)))
    if p == 0 or lr[0] * WARMUP_MIN_RAISE > peak:
        return None
    if np.any(np.diff(lr[: p + 1]) < -1e-9 * peak):  # not a ramp: it went down on the way
        return None
    span = float(step[-1] - step[0])
    if span <= 0 or (step[p] - step[0]) > WARMUP_MAX_SHARE * span:
        return None
    return int(step[p]), float(lr[0]), peak


def lr_events(step: np.ndarray, lr: np.ndarray) -> list[tuple[int, float, float, str]]:
    """Every change of the LR as (step, before, after, kind), in step order; kind is
    ``cut``, ``raise``, ``warmup_end`` or ``restart``. The changes are those of
    :func:`signals.lr_changes` (a schedule that moves the LR at every step has none but
    its warmup's end and its restarts); the raises of a warmup become one event at its peak."""
    ok = np.isfinite(lr)
    s, v = np.asarray(step)[ok], np.asarray(lr, dtype=np.float64)[ok]
    if len(v) < 2:
        return []
    changes = signals.lr_changes(s, v)
    events: list[tuple[int, float, float, str]] = []
    warm = _warmup_end(s, v)
    if warm is not None:
        changes = [c for c in changes if not (c[0] <= warm[0] and c[2] > c[1])]
        events.append((*warm, "warmup_end"))
    for at, before, after in changes:
        if after < before:
            kind = "cut"
        else:
            earlier = v[s < at]
            decayed = len(earlier) and float(np.max(earlier)) > before * (1 + 1e-6)
            kind = "restart" if decayed and after >= RESTART_MIN_RAISE * before else "raise"
        events.append((at, before, after, kind))
    return sorted(events)


# --- where: epochs or steps -------------------------------------------------------------------
@dataclass(frozen=True)
class StoryAxis:
    """Steps to the unit slopes are measured in: fractional epochs (epoch k ends at k+1),
    or a round number of steps."""

    unit: str  #: "epoch", or e.g. "500 steps"
    nodes: np.ndarray  #: steps ...
    values: np.ndarray  #: ... and their place on the axis (linear in between and beyond)
    ends: np.ndarray | None = None  #: last step of each epoch
    labels: np.ndarray | None = None  #: each epoch's label

    def x(self, step: np.ndarray | float) -> np.ndarray:
        st = np.asarray(step, dtype=np.float64)
        out = np.interp(st, self.nodes, self.values)
        lo_slope = (self.values[1] - self.values[0]) / max(self.nodes[1] - self.nodes[0], 1e-12)
        hi_slope = (self.values[-1] - self.values[-2]) / max(self.nodes[-1] - self.nodes[-2], 1e-12)
        out = np.where(st < self.nodes[0], self.values[0] + (st - self.nodes[0]) * lo_slope, out)
        return np.where(st > self.nodes[-1], self.values[-1] + (st - self.nodes[-1]) * hi_slope, out)

    def where(self, step: int) -> tuple[str, float | None]:
        """('epoch 5', 5.0) for the epoch the step falls in, or ('step 1,250', None)."""
        if self.ends is not None and self.labels is not None and len(self.ends):
            i = int(np.searchsorted(self.ends, step, side="left"))
            if i < len(self.ends):
                label = float(self.labels[i])
                return f"epoch {label:g}", label
        return f"step {step:,}", None


def _nice(n: float) -> int:
    """1, 2 or 5 times a power of ten, near ``n``."""
    if n <= 1:
        return 1
    e = 10 ** math.floor(math.log10(n))
    return int(min((1, 2, 5, 10), key=lambda m: abs(math.log(n / (m * e)))) * e)


def story_axis(first_step: int, last_step: int, epoch_ends: np.ndarray | None = None, epoch_labels: np.ndarray | None = None) -> StoryAxis:
    """Epochs when the run logs at least two (``epoch_ends``: last step of each), else steps."""
    if epoch_ends is not None and len(epoch_ends) >= 2:
        ends = np.asarray(epoch_ends, dtype=np.float64)
        first_len = max(ends[1] - ends[0], 1.0)
        nodes = np.concatenate([[ends[0] - first_len], ends])
        labels = np.arange(len(ends), dtype=np.float64) if epoch_labels is None else np.asarray(epoch_labels, dtype=np.float64)
        return StoryAxis("epoch", nodes, np.arange(len(nodes), dtype=np.float64), np.asarray(epoch_ends), labels)
    k = _nice(max(1, last_step - first_step) / STEP_UNITS_PER_RUN)
    unit = "step" if k == 1 else f"{k:,} steps"
    return StoryAxis(unit, np.array([0.0, float(k)]), np.array([0.0, 1.0]))


# --- what the loss did ------------------------------------------------------------------------
def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least squares through the means: (slope, scatter about the line, sum of squared x
    deviations). The scatter is unknown (NaN) with two means: the line is exact."""
    xm = float(np.mean(x))
    dx = x - xm
    sxx = float(np.dot(dx, dx))
    if sxx <= 0:
        return 0.0, math.nan, 0.0
    slope = float(np.dot(dx, y - np.mean(y)) / sxx)
    resid = y - np.mean(y) - slope * dx
    scatter = math.sqrt(float(np.dot(resid, resid)) / (len(x) - 2)) if len(x) > 2 else math.nan
    return slope, scatter, sxx


def _means(bins: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(mean x, mean y) of the finite points of each bin, in bin order, and the typical
    standard error of such a mean (0 when every bin holds one point)."""
    ok = np.isfinite(y)
    bins, x, y = bins[ok], x[ok], y[ok]
    if not len(bins):
        return x, y, 0.0
    order = np.argsort(bins, kind="stable")
    bins, x, y = bins[order], x[order], y[order]
    _, start, counts = np.unique(bins, return_index=True, return_counts=True)
    mx = np.add.reduceat(x, start) / counts
    my = np.add.reduceat(y, start) / counts
    dev = y - np.repeat(my, counts)
    ss = np.add.reduceat(dev * dev, start)
    many = counts > 1
    se = float(np.sqrt(np.mean(ss[many] / (counts[many] - 1) / counts[many]))) if many.any() else 0.0
    return mx, my, se


#: Widths of the bins the loss is averaged over, in units, tried in turn until each side
#: has two means: whole epochs (batch noise averages out, and a per-epoch log keeps its
#: points), then quarters (schedulers that step more often than once an epoch).
BIN_WIDTHS = (1.0, 0.25)


def _response(metric: str, step: np.ndarray, x: np.ndarray, y: np.ndarray, at: int, xc: float, prev: float, nxt: float) -> LossResponse | None:
    """The loss's means over bins lined up on the change (at step ``at``, ``xc`` units),
    up to WINDOW units on each side, each side holding only points of one LR (``prev`` and
    ``nxt``: the steps of the neighbouring changes)."""
    before = (step >= prev) & (step < at)
    after = (step >= at) & (step < nxt)
    for width in BIN_WIDTHS:
        bins = np.floor((x - xc) / width + 1e-9).astype(np.int64)
        reach = int(round(WINDOW / width))
        b = before & (bins >= -reach)
        a = after & (bins < reach)
        xb, yb, seb = _means(bins[b], x[b], y[b])
        xa, ya, sea = _means(bins[a], x[a], y[a])
        if len(xb) >= 2 and len(xa) >= 2:
            break
    else:
        return None
    sb, scatter_b, sxx_b = _fit(xb, yb)
    sa, scatter_a, sxx_a = _fit(xa, ya)
    # The noise of one mean. Whole epochs: the scatter of the means about their line (the
    # points inside an epoch are not independent draws: a loader repeats its batches, and
    # their spread says little about how much an epoch's mean wanders); a side with two
    # means borrows the other side's. Smaller bins: at least the means' own standard error.
    nb = scatter_b if not math.isnan(scatter_b) else scatter_a
    na = scatter_a if not math.isnan(scatter_a) else scatter_b
    nb, na = (0.0 if math.isnan(v) else v for v in (nb, na))
    if width < 1.0:
        nb, na = max(nb, seb), max(na, sea)
    eb = nb / math.sqrt(sxx_b) if sxx_b > 0 else math.inf
    ea = na / math.sqrt(sxx_a) if sxx_a > 0 else math.inf
    return LossResponse(
        metric=metric,
        slope_before=sb,
        slope_after=sa,
        level_before=float(yb[-1]),
        level_start=float(ya[0]),
        level_after=float(ya[-1]),
        n_before=len(xb),
        n_after=len(xa),
        gap=float(xa[0] - xb[-1]),
        noise_before=nb,
        noise_after=na,
        se_slope_before=eb,
        se_slope_after=ea,
        span_before=float(xb[-1] - xb[0]),
        span_after=float(xa[-1] - xa[0]),
        nonfinite_after=int(np.sum(~np.isfinite(y[a]))),
    )


def _tolerances(r: LossResponse) -> tuple[float, float, float]:
    """(smallest change of level, smallest slope before, smallest slope after) that count
    as an effect: beyond the noise, and moving the loss by MIN_EFFECT of its level."""
    level = abs(r.level_before) or abs(r.level_start) or 1.0
    floor = MIN_EFFECT * level
    se_b = r.se_slope_before if math.isfinite(r.se_slope_before) else 0.0
    se_a = r.se_slope_after if math.isfinite(r.se_slope_after) else 0.0
    return (
        max(NOISE_Z * math.hypot(r.noise_before, r.noise_after), floor),
        max(NOISE_Z * se_b, floor / max(r.span_before, 1e-12)),
        max(NOISE_Z * se_a, floor / max(r.span_after, 1e-12)),
    )


def _judge(kind: str, r: LossResponse) -> tuple[bool | None, str]:
    """Whether the change helped this loss, and the reason in a few words."""
    margin, flat_b, flat_a = _tolerances(r)
    falling_b, falling_a = r.slope_before < -flat_b, r.slope_after < -flat_a
    rising_a = r.slope_after > flat_a
    if r.nonfinite_after:
        return False, "the loss became NaN/Inf after it"
    # Beyond its trend: below where the line before it would have taken the loss by then.
    dropped = r.level_start < r.level_before + min(0.0, r.slope_before) * r.gap - margin
    jumped = r.level_start > r.level_before + margin
    if kind == "cut":
        faster = falling_a and r.slope_after < PACE_RATIO * r.slope_before and (
            r.slope_before - r.slope_after > NOISE_Z * math.hypot(r.se_slope_before, r.se_slope_after)
        )
        if dropped:
            return True, "the loss dropped at the change, beyond its trend"
        if falling_a and not falling_b:
            return True, "the loss had been flat and fell after it"
        if faster:
            return True, "the loss fell faster after it"
        if rising_a or jumped:
            return False, "the loss rose after it"
        if falling_b and not falling_a:
            return False, "the loss was falling and stalled after it"
        return None, "no drop at the change" + (", and the loss kept falling" if falling_a else "")
    change = r.level_after - r.level_before
    if change < -margin and not rising_a:
        return True, "the loss ended lower than before the change"
    if rising_a or change > margin:
        return False, "the loss rose and stayed above its level before the change"
    return None, "the loss ended about where it was before the change"


# --- words --------------------------------------------------------------------------------------
METRIC_WORDS = {"train_loss": "train loss", "val_loss": "val loss"}
KIND_WORDS = {"warmup_end": "warmup ends", "restart": "warm restart", "raise": "LR raised", "cut": "LR cut"}


def _short(v: float, digits: int) -> str:
    """``digits`` significant digits, exponents without padding: 0.0072, 1.3e-5."""
    s = f"{v:.{digits}g}"
    if "e" in s:
        m, e = s.split("e")
        s = f"{m}e{int(e)}"
    return s


def _trend(slope: float, tolerance: float, floor: float, unit: str) -> str:
    """'falling 0.064/epoch'; 'flat' when it moves the loss by less than MIN_EFFECT over the
    window; 'no clear trend' when it does, but no more than the noise allows."""
    size = f"{_short(abs(slope), 2)}/{unit}"
    if abs(slope) <= floor:
        return f"flat ({'−' if slope < 0 else '+'}{size})"
    if abs(slope) <= tolerance:
        return f"no clear trend ({'−' if slope < 0 else '+'}{size})"
    return f"{'falling' if slope < 0 else 'rising'} {size}"


def _sentence(r: LossResponse, unit: str) -> str:
    """'train loss falling 0.064/epoch before, 0.0072/epoch after (8.9× slower)'."""
    margin, flat_b, flat_a = _tolerances(r)
    is_flat_b, is_flat_a = abs(r.slope_before) <= flat_b, abs(r.slope_after) <= flat_a
    floor = MIN_EFFECT * (abs(r.level_before) or abs(r.level_start) or 1.0)
    before = _trend(r.slope_before, flat_b, floor / max(r.span_before, 1e-12), unit)
    after = _trend(r.slope_after, flat_a, floor / max(r.span_after, 1e-12), unit)
    pace = ""
    if not (is_flat_b or is_flat_a) and (r.slope_before < 0) == (r.slope_after < 0):
        after = after.split(" ", 1)[1]  # the same direction: said once
        ratio = abs(r.slope_before / r.slope_after) if r.slope_after else math.inf
        if not math.isfinite(ratio) or ratio == 0:
            pace = ""
        elif ratio >= PACE_RATIO:
            pace = f" ({_short(ratio, 2)}× {'slower' if r.slope_before < 0 else 'less steep'})"
        elif 1 / ratio >= PACE_RATIO:
            pace = f" ({_short(1 / ratio, 2)}× {'faster' if r.slope_before < 0 else 'steeper'})"
    text = f"{METRIC_WORDS.get(r.metric, r.metric)} {before} before, {after} after{pace}"
    change = r.step_change
    if abs(change) > margin:
        level = abs(r.level_before) or 1.0
        text += f"; {'fell' if change < 0 else 'rose'} {_short(abs(change), 2)} ({100 * change / level:+.0f}%) across the change"
    if r.nonfinite_after:
        text += f"; {r.nonfinite_after} NaN/Inf point{'s' if r.nonfinite_after != 1 else ''} after it"
    return text


def describe_changes(
    lr_step: np.ndarray,
    lr_value: np.ndarray,
    losses: dict[str, tuple[np.ndarray, np.ndarray]],
    axis: StoryAxis,
) -> list[LRChange]:
    """One :class:`LRChange` per event of :func:`lr_events`, with what each loss did around it.

    ``losses`` maps a metric name (``train_loss``, ``val_loss``) to its (step, value)
    arrays, in step order; the first one with enough points on both sides is the one judged.
    """
    events = lr_events(lr_step, lr_value)
    if not events:
        return []
    peak = float(np.nanmax(np.asarray(lr_value, dtype=np.float64)))
    series = {}
    for m, (st, v) in losses.items():
        if st is None or not len(st):
            continue
        st = np.asarray(st)
        series[m] = (st, axis.x(st), np.asarray(v, dtype=np.float64))
    out = []
    for i, (at, before, after, kind) in enumerate(events):
        prev = events[i - 1][0] if i else -math.inf
        nxt = events[i + 1][0] if i + 1 < len(events) else math.inf
        xc = float(axis.x(float(at)))
        responses = []
        for m, (st, x, y) in series.items():
            r = _response(m, st, x, y, at, xc, prev, nxt)
            if r is not None:
                responses.append(r)
        where, epoch = axis.where(at)
        head = f"LR {_short(before, 3)} → {_short(after, 3)}" + ("" if kind in ("cut", "raise") else f" ({KIND_WORDS[kind]})")
        if not responses:
            helped, why = None, ""
            story = f"{head}. Too few loss points on one side of it to tell what it did."
        else:
            helped, why = _judge(kind, responses[0])
            if max(before, after) < NEGLIGIBLE_LR_SHARE * peak:
                helped, why = None, f"both LRs are under 1/{1 / NEGLIGIBLE_LR_SHARE:,.0f} of the run's peak LR ({_short(peak, 3)}), too small to move the weights"
            verdict = {True: f"It helped: {why}.", False: f"It did not help: {why}.", None: f"No clear effect: {why}."}[helped]
            story = f"{head}. " + "; ".join(_sentence(r, axis.unit) for r in responses) + f". {verdict}"
        out.append(
            LRChange(at, before, after, kind=kind, epoch=epoch, where=where, unit=axis.unit, window=WINDOW, losses=tuple(responses), helped=helped, reason=why, story=story)
        )
    return out
