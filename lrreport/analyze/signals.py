"""Pure functions over one series: smoothing, trends, spikes, LR schedule events.

Everything here takes numpy arrays and returns numbers or arrays; nothing
knows about runs, findings or formats. NaN/Inf are expected in the input and
handled explicitly (a detector decides what a NaN *means*).

Smoothing follows TensorBoard's display smoothing (an exponential moving
average debiased at the start, so the first points are not pulled towards 0),
applied after a rolling median when the series is long and noisy, so that a
single spike does not bend the trend (Hampel-style robust smoothing).
"""

from __future__ import annotations

import math

import numpy as np


__all__ = [
    "bin_medians",
    "debiased_ema",
    "downsample_keep_extremes",
    "early_level",
    "finite_mask",
    "kendall_tau",
    "late_level",
    "lr_changes",
    "lr_falls_below",
    "robust_smooth",
    "rolling_median",
    "sign_change_rate",
    "spike_candidates",
    "spikes",
    "window_for",
]


def finite_mask(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x)


def window_for(n: int, frac: float, lo: int = 1, hi: int = 501) -> int:
    """An odd window of about ``frac`` of ``n`` points, within [lo, hi]."""
    w = int(round(n * frac))
    w = max(lo, min(hi, w))
    return w if w % 2 == 1 else w + 1


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median (edges use the points available). NaN-free input expected."""
    n = len(x)
    if n == 0 or window <= 1:
        return x.astype(np.float64, copy=True)
    import pandas as pd

    return pd.Series(x).rolling(window, center=True, min_periods=1).median().to_numpy()


def _ema_loop(x: np.ndarray, weight: float) -> np.ndarray:
    """The recurrence itself, for series with NaN/Inf (which it carries forward as TensorBoard does)."""
    out = np.empty(len(x), dtype=np.float64)
    last = 0.0
    decay = 1.0
    for i, v in enumerate(x.tolist()):
        last = last * weight + (1.0 - weight) * v
        decay *= weight
        debias = 1.0 - decay
        out[i] = last / debias if debias > 0 else v
    return out


def debiased_ema(x: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: EMA with weight in [0, 1), debiased at the start.

    ``last = w * last + (1 - w) * x_i``, shown as ``last / (1 - w**(i+1))``; that is
    ``sum_j w**(i-j) x_j / sum_j w**(i-j)``, exactly pandas' ``ewm(alpha=1-w,
    adjust=True).mean()`` (a compiled loop: no JIT to pay for). A series with NaN or
    Inf takes the plain loop, whose NaN/Inf carry forward where pandas would skip them.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return x.copy()
    weight = min(max(weight, 0.0), 0.999)
    if not np.isfinite(x).all():
        return _ema_loop(x, float(weight))
    if weight == 0.0:
        return x.copy()
    import pandas as pd

    return pd.Series(x).ewm(alpha=1.0 - weight, adjust=True).mean().to_numpy(dtype=np.float64, copy=True)


def robust_smooth(x: np.ndarray, frac: float = 0.05) -> np.ndarray:
    """Rolling median over ~``frac`` of the points, then a light debiased EMA.

    Short series (epoch-level logs, < 12 points) are only median-of-3 smoothed:
    there is too little to average away.
    """
    n = len(x)
    if n < 4:
        return x.astype(np.float64, copy=True)
    if n < 12:
        return rolling_median(x, 3)
    w = window_for(n, frac, lo=3)
    med = rolling_median(x, w)
    # An EMA whose time constant matches the median window.
    weight = 1.0 - 2.0 / (w + 1)
    return debiased_ema(med, weight * 0.5)


def early_level(x: np.ndarray, frac: float = 0.05, min_pts: int = 1, max_pts: int = 50) -> float:
    """Median of the first few finite points: the loss the run started from."""
    f = x[np.isfinite(x)]
    if len(f) == 0:
        return math.nan
    k = max(min_pts, min(max_pts, int(len(f) * frac)))
    return float(np.median(f[: max(1, k)]))


def late_level(x: np.ndarray, frac: float = 0.1, min_pts: int = 1, max_pts: int = 500) -> float:
    """Median of the last finite points: where the run ended."""
    f = x[np.isfinite(x)]
    if len(f) == 0:
        return math.nan
    k = max(min_pts, min(max_pts, int(len(f) * frac)))
    return float(np.median(f[-max(1, k) :]))


#: A spike must also stand out of the recent points' own spread: this many robust standard
#: deviations (1.4826 x MAD) of log(loss) above their median. Per-batch losses of small
#: classifiers are heavy-tailed (most batches at 0.01, one in ten at 0.2): against the median
#: alone every such batch is a "spike"; against the spread it is ordinary.
SPIKE_SPREAD = 4.0


def spike_candidates(x: np.ndarray, ratio: float, window: int, spread: float = SPIKE_SPREAD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spikes by ratio and spread, spikes by ratio alone, the causal rolling median) in one
    pass: see :func:`spikes`. The spread is computed only where the ratio test passes."""
    n = len(x)
    empty = np.zeros(0, dtype=np.int64)
    if n < 5:
        return empty, empty, np.full(n, np.nan)
    import pandas as pd

    with np.errstate(divide="ignore", invalid="ignore"):
        logx = np.where(np.isfinite(x) & (x > 0), np.log(np.where(x > 0, x, 1.0)), np.nan)
    base = pd.Series(logx).shift(1).rolling(window, min_periods=3).median().to_numpy()
    with np.errstate(invalid="ignore"):
        by_ratio = np.flatnonzero((logx > base + np.log(ratio)) & np.isfinite(base) & np.isfinite(logx))
    if not len(by_ratio) or spread <= 0:
        return by_ratio, by_ratio, np.exp(base)
    # The robust spread (1.4826 x MAD of log(x)) of the window before each candidate.
    keep = []
    for i in by_ratio:
        w = logx[max(0, i - window) : i]
        w = w[np.isfinite(w)]
        if len(w) < 3:
            continue
        mad = float(np.median(np.abs(w - np.median(w))))
        if logx[i] > base[i] + max(np.log(ratio), spread * 1.4826 * mad):
            keep.append(i)
    return np.asarray(keep, dtype=np.int64), by_ratio, np.exp(base)


def spikes(x: np.ndarray, ratio: float, window: int, spread: float = SPIKE_SPREAD) -> np.ndarray:
    """Indices where a positive series jumps above ``ratio`` x its rolling median, and
    ``spread`` robust standard deviations of log(x) above it (0: the ratio alone).

    The median is taken over the preceding points (causal), so a spike is
    judged against what came before it, as a person reading the curve would.
    """
    return spike_candidates(x, ratio, window, spread)[0]


def sign_change_rate(x: np.ndarray) -> float:
    """Fraction of consecutive differences that change sign (0 = monotone, ~0.67 = white noise)."""
    d = np.diff(x[np.isfinite(x)])
    d = d[d != 0]
    if len(d) < 3:
        return 0.0
    return float(np.mean(np.sign(d[1:]) != np.sign(d[:-1])))


def lr_falls_below(step: np.ndarray, lr: np.ndarray, fraction: float) -> int | None:
    """The first step, after the LR's peak, where it is below ``fraction`` of that peak
    (None if it never is). Looking after the peak keeps a warmup's low start out."""
    ok = np.isfinite(lr)
    s, v = step[ok], lr[ok]
    if not len(v) or np.max(v) <= 0:
        return None
    peak = int(np.argmax(v))
    below = np.flatnonzero(v[peak:] < fraction * v[peak])
    return int(s[peak + below[0]]) if len(below) else None


def lr_changes(step: np.ndarray, lr: np.ndarray, rel: float = 0.05, max_events: int = 30) -> list[tuple[int, float, float]]:
    """Steps where the LR changed by more than ``rel`` (relative), as (step, before, after).

    A schedule that changes the LR at every step (cosine, linear decay, a
    warmup ramp) yields no discrete events worth marking: when more than
    ``max_events`` changes are found, only the changes of at least 2x are kept.
    """
    ok = np.isfinite(lr)
    s, v = step[ok], lr[ok]
    if len(v) < 2:
        return []
    prev, cur = v[:-1], v[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.abs(cur - prev) / np.maximum(np.abs(prev), 1e-300)
    idx = np.flatnonzero(change > rel)
    if len(idx) > max_events:
        with np.errstate(divide="ignore", invalid="ignore"):
            big = np.maximum(cur, prev) / np.maximum(np.minimum(cur, prev), 1e-300)
        idx = idx[big[idx] >= 2.0]
        if len(idx) > max_events:
            return []
    return [(int(s[i + 1]), float(prev[i]), float(cur[i])) for i in idx]


def downsample_keep_extremes(value: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most about ``max_points`` points that keep the shape of a series: in each of
    ``max_points / 4`` equal buckets its first, lowest, highest and last point, plus every
    NaN/Inf point (what a reader must see). In order; for display only, never for analysis.
    (Vectorised: a report draws thousands of series.)"""
    n = len(value)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 4)
    edges = np.unique(np.linspace(0, n, buckets + 1).astype(np.int64))
    starts, ends = edges[:-1], edges[1:] - 1
    finite = np.isfinite(value)
    seg = np.repeat(np.arange(len(starts)), np.diff(edges))
    keep = [np.flatnonzero(~finite), starts, ends]
    pos = np.arange(n)
    for fill, reduce in ((np.inf, np.minimum), (-np.inf, np.maximum)):
        target = reduce.reduceat(np.where(finite, value, fill), starts)
        hit = pos[finite & (value == target[seg])]
        keep.append(hit[np.unique(seg[hit], return_index=True)[1]])  # the first, as nanargmin/nanargmax
    return np.unique(np.concatenate(keep))


def bin_medians(y: np.ndarray, bins: int) -> np.ndarray:
    """Medians of ``bins`` consecutive chunks of ``y``, as ``np.array_split`` cuts them (the
    first ``len(y) % bins`` chunks one longer), in two vectorised calls."""
    n = len(y)
    if n <= bins:
        return y.astype(np.float64, copy=True)
    size, rem = divmod(n, bins)
    head = y[: rem * (size + 1)].reshape(rem, size + 1) if rem else np.zeros((0, size + 1))
    tail = y[rem * (size + 1) :].reshape(bins - rem, size)
    return np.concatenate([np.median(head, axis=1), np.median(tail, axis=1)])


def kendall_tau(y: np.ndarray, max_points: int = 200) -> float:
    """Rank correlation of a series with time: +1 a steady climb, -1 a steady fall, 0 no trend.
    Quadratic in the points, so long series are binned (medians) to ``max_points`` first."""
    y = y[np.isfinite(y)]
    if len(y) > max_points:
        y = bin_medians(y, max_points)
    n = len(y)
    if n < 3:
        return 0.0
    d = np.sign(y[None, :] - y[:, None])[np.triu_indices(n, 1)]
    return float(d.sum() / len(d))
