"""The static picture of a :class:`~lrreport.report.charts.Chart`: a small SVG written directly.

It is what a reader without JavaScript sees (and what prints), and any output that
wants a picture without a browser can use :func:`chart_svg`. Drawn with numpy and
string formatting, not matplotlib: a run's figure costs about a millisecond instead of
a tenth of a second, which is what lets a 1000-run report render in seconds.

Deterministic bytes (integer coordinates, no ids, no dates). Colours are CSS classes
(``c-train``, ``c-val``, ``c-lr`` ...) that the page's stylesheet maps to Paul Tol's
palettes for light and dark schemes, so no style attribute is needed (the page's CSP
allows none). Long lines are reduced to the lowest and highest point of each pixel
column, so every spike still shows.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from .charts import Chart, Line
from .humanize import lr as fmt_lr
from .humanize import number

__all__ = ["DEFAULT_SMOOTHING", "chart_svg", "ema", "minmax_columns", "nice_ticks"]

#: TensorBoard's default smoothing weight; the interactive chart starts from it too.
DEFAULT_SMOOTHING = 0.6
MAX_MARKS = 40  #: NaN/Inf and clipped marks drawn per chart (evenly spread)


def ema(x: np.ndarray, y: np.ndarray, weight: float, spacing: float) -> np.ndarray:
    """TensorBoard's smoothing (debiased exponential moving average; NaN/Inf pass through and
    do not enter the average), on a possibly downsampled series: the weight is raised to the
    mean number of raw points between kept ones, so the picture follows the full series'
    smoothing (the page's script does it point by point)."""
    out = np.array(y, dtype=np.float64, copy=True)
    fin = np.isfinite(out)
    if weight <= 0 or fin.sum() < 2 or np.all(out[fin] == out[fin][0]):
        return out
    xf = x[fin]
    per_point = max(1.0, float(xf[-1] - xf[0]) / (len(xf) - 1) / (spacing or 1.0))
    out[fin] = _ema_blocks(out[fin], min(weight**per_point, 0.999))
    return out


def _ema_blocks(x: np.ndarray, w: float) -> np.ndarray:
    """The debiased EMA of finite ``x`` (``sum_j w**(i-j) x_j / sum_j w**(i-j)``) in numpy,
    a block at a time: within a block the sums are cumulative sums of ``x_j * w**-j``, kept
    below 1e290 by the block's length, and each block starts from the last one's sums. A
    drawing's series (a few hundred points) costs a few numpy calls instead of a pandas
    ``ewm`` (the report draws thousands of them). Values too large to scale fall back to
    the recurrence."""
    from ..analyze.signals import debiased_ema

    n = len(x)
    if n == 0 or w <= 0.0:
        return x.copy()
    big = float(np.abs(x).max())
    if not big < 1e200:
        return debiased_ema(x, w)
    if w < 0.05:
        # A light weight (a downsampled series: the weight per kept point is w**gap) forgets
        # fast: the terms older than M points weigh under 1e-12 together, a millionth of a
        # pixel on any axis that shows the series, so the sum stops there.
        m_terms = int(math.ceil(12.0 / -math.log10(w)))
        num, den = x.copy(), np.ones(n)
        for m in range(1, min(m_terms, n)):
            num[m:] += w**m * x[:-m]
            den[m:] += w**m
        return num / den
    # w**-k times the largest |x| stays below 1e290, and so do the cumulative sums.
    room = 290.0 - math.log10(max(big, 1.0)) - math.log10(n)
    block = max(1, min(n, int(room / -math.log10(w)))) if w < 1.0 else n
    out = np.empty(n, dtype=np.float64)
    num = den = 0.0
    for s in range(0, n, block):
        k = np.arange(min(block, n - s), dtype=np.float64)
        up, down = w ** (-k), w**k
        nums = down * (num * w + np.cumsum(x[s : s + len(k)] * up))
        dens = down * (den * w + np.cumsum(up))
        out[s : s + len(k)] = nums / dens
        num, den = float(nums[-1]), float(dens[-1])
    return out


def minmax_columns(px: np.ndarray, y: np.ndarray, columns: int) -> np.ndarray:
    """Indices that keep, of each pixel column (``px`` in order), its first, lowest, highest
    and last point, and every non-finite point (a gap must stay a gap)."""
    n = len(px)
    if n <= 2 * columns:
        return np.arange(n)
    col = np.floor(px).astype(np.int64)
    new = np.r_[True, col[1:] != col[:-1]]
    starts = np.flatnonzero(new)
    seg = np.cumsum(new) - 1
    fin = np.isfinite(y)
    lo = np.minimum.reduceat(np.where(fin, y, np.inf), starts)
    hi = np.maximum.reduceat(np.where(fin, y, -np.inf), starts)
    pos = np.arange(n)
    keep = [starts, np.r_[starts[1:], n] - 1, pos[~fin]]
    for target in (lo, hi):
        hit = pos[fin & (y == target[seg])]
        keep.append(hit[np.unique(seg[hit], return_index=True)[1]])
    return np.unique(np.concatenate(keep))


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round values (1, 2 or 5 times a power of ten apart) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = hi / n - lo / n  # never hi - lo: from -1e308 to 1e308 that is inf
    e = 10 ** math.floor(math.log10(raw))
    step = min((m * e for m in (1, 2, 5, 10) if m * e >= raw), default=10 * e)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + 1e-9 * step and math.isfinite(v) and len(out) <= 4 * n:
        out.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return out


def log_ticks(lo: float, hi: float) -> list[float]:
    if not (0 < lo <= hi and math.isfinite(hi)):
        return []
    # Powers of ten a float holds: 1e-307 .. 1e308.
    a, b = max(-307, math.floor(math.log10(lo))), min(308, math.ceil(math.log10(hi)))
    every = max(1, (b - a) // 6)
    return [10.0**k for k in range(a, b + 1, every) if lo <= 10.0**k <= hi * (1 + 1e-9)]


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _tick_label(v: float, log: bool) -> str:
    if log:
        k = round(math.log10(v))
        return "1" if k == 0 else ("10" if k == 1 else f"10{str(k).translate(_SUP)}")
    return number(v, 3)


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float, log: bool):
        self.log = log
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi <= lo:
            hi, lo = lo + 0.5 + abs(lo) * 0.05, lo - 0.5 - abs(lo) * 0.05
        if log:  # a domain a float can hold: 10**309 is an OverflowError
            lo, hi = max(lo, -307.0), min(hi, 308.0)
        if not math.isfinite(hi / 2 - lo / 2):
            lo, hi = -1.7e308, 1.7e308
        # Halves throughout: hi - lo of a -1e308..1e308 axis is inf, its halves are not.
        self.lo, self.hi, self.a, self.b = lo, hi, a, b
        self._span = hi / 2 - lo / 2

    def __call__(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.log:
                v = np.log10(np.where(v > 0, v, np.nan))
            return self.a + (v / 2 - self.lo / 2) / self._span * (self.b - self.a)

    def domain(self) -> tuple[float, float]:
        return (10**self.lo, 10**self.hi) if self.log else (self.lo, self.hi)


def _range(values: list[np.ndarray], log: bool) -> tuple[float, float] | None:
    v = np.concatenate(values) if values else np.zeros(0)
    v = v[np.isfinite(v)]
    if log:
        v = v[v > 0]
    if not len(v):
        return None
    lo, hi = float(v.min()), float(v.max())
    if log:
        return lo / 1.15, hi * 1.15
    pad = (hi - lo) * 0.06 or abs(hi) * 0.06 or 1.0
    return lo - pad, hi + pad


def _path(px: np.ndarray, py: np.ndarray, stepped: bool = False) -> str:
    """SVG path data through the finite points, at whole units; a NaN breaks the line."""
    ok = np.isfinite(px) & np.isfinite(py)
    if not ok.any():
        return ""
    # Far off the picture is as good as anywhere off it (and a 1e24 loss must not overflow).
    xi = np.round(np.clip(np.where(ok, px, 0), -1e5, 1e5)).astype(np.int64)
    yi = np.round(np.clip(np.where(ok, py, 0), -1e5, 1e5)).astype(np.int64)
    # Runs of finite points, each one "M x y L x y x y ...".
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    out = []
    for a, b in zip(edges[::2], edges[1::2]):
        x, y = xi[a:b], yi[a:b]
        if stepped and len(x) > 1:  # horizontal to the next point's x, then vertical
            x = np.repeat(x, 2)[1:]
            y = np.repeat(y, 2)[:-1]
        # Relative moves after the first point: small numbers, half the bytes.
        steps = np.column_stack([np.diff(x), np.diff(y)]).ravel().tolist()
        out.append(f"M{x[0]} {y[0]}" + ("l" + " ".join(map(str, steps)) if steps else ""))
    return "".join(out)


def _spread(items: list, n: int) -> list:
    if len(items) <= n:
        return items
    idx = np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))
    return [items[i] for i in idx]


def chart_svg(chart: Chart, smoothing: float = DEFAULT_SMOOTHING) -> str:
    """The chart as an inline SVG element (role=img, its title the chart's description)."""
    h, W = chart.height, chart.width
    has_y2 = any(line.axis == "y2" for line in chart.lines)
    left, right, top, bottom = 58, (58 if has_y2 else 14), 16, 30
    pw = W - left - right
    y_lines = [line for line in chart.lines if line.axis == "y"]
    y2_lines = [line for line in chart.lines if line.axis == "y2"]
    xs = [line.x for line in chart.lines] + [np.array([b[0] for b in chart.bands] + [b[1] for b in chart.bands])]
    xr = _range([x for x in xs if len(x)], chart.xlog)
    if xr is None:
        xr = (0.0, 1.0)
    if not chart.xlog:
        allx = np.concatenate([x for x in xs if len(x)]) if any(len(x) for x in xs) else np.zeros(1)
        allx = allx[np.isfinite(allx)]
        xr = (float(allx.min()), float(allx.max())) if len(allx) else (0.0, 1.0)
    sx = _Scale(xr[0], xr[1], left, W - right, chart.xlog)
    yr = chart.yrange or _range([line.y for line in y_lines], chart.ylog) or (0.0, 1.0)
    sy = _Scale(yr[0], yr[1], h - bottom, top, chart.ylog)
    parts = [
        f'<svg class="lrfig" viewBox="0 0 {W} {h}" role="img" aria-label="{escape(chart.title, quote=True)}">',
        f"<title>{escape(chart.title, quote=False)}</title>",
    ]
    # Axes and grid.
    lo, hi = sy.domain()
    ticks = log_ticks(lo, hi) if chart.ylog else nice_ticks(lo, hi, 4)
    for t in ticks:
        y = float(sy(t))
        parts.append(f'<line class="grid" x1="{left}" x2="{W - right}" y1="{y:.0f}" y2="{y:.0f}"/>')
        parts.append(f'<text class="tick" x="{left - 5}" y="{y + 4:.0f}" text-anchor="end">{escape(_tick_label(t, chart.ylog))}</text>')
    xlo, xhi = sx.domain()
    for t in (log_ticks(xlo, xhi) if chart.xlog else nice_ticks(xlo, xhi, 6)):
        x = float(sx(t))
        label = _tick_label(t, True) if chart.xlog else number(t, 3)
        parts.append(f'<text class="tick" x="{x:.0f}" y="{h - bottom + 15}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{W - right}" y1="{h - bottom}" y2="{h - bottom}"/>')
    parts.append(f'<text class="lab" x="{W - right}" y="{h - 3}" text-anchor="end">{escape(chart.xlabel)}</text>')
    parts.append(f'<text class="lab" x="4" y="{top - 4}">{escape(chart.ylabel[:40])}{" (log)" if chart.ylog else ""}</text>')
    # Findings: shaded where they apply, a coloured bar at the top.
    for i, (a, b, code, sev) in enumerate(chart.bands[:8]):
        xa, xb = float(sx(a)), float(sx(b))
        xa, xb = max(left, xa), min(W - right, max(xb, xa + 2))
        parts.append(f'<rect class="band sev-{escape(sev)}" x="{xa:.0f}" y="{top}" width="{xb - xa:.0f}" height="{h - top - bottom}"/>')
        parts.append(f'<rect class="bar sev-{escape(sev)}" x="{xa:.0f}" y="{top + 2 + 9 * (i % 4)}" width="{xb - xa:.0f}" height="7"/>')
    for s, _b, _a, helped in chart.changes[:60]:
        x = float(sx(s))
        cls = {None: "", 1: " helped", 0: " hurt"}[helped]
        parts.append(f'<line class="chg{cls}" x1="{x:.0f}" x2="{x:.0f}" y1="{top}" y2="{h - bottom}"/>')
    # Lines: the lowest and highest point of each 2-unit column are all a picture needs.
    columns = pw // 2
    if chart.kind == "sweep":
        parts += _sweep_marks(chart, sx, sy, top, h - bottom, left, W - right)
    elif chart.kind == "overlay":
        n = len(y_lines)
        for i, line in enumerate(y_lines):
            line = Line(line.key, line.label, "y", f"seq{_seq(i, n)}", line.x, line.y, smooth=line.smooth, spacing=line.spacing)
            parts += _draw(line, sx, sy, columns, smoothing, raw=False)
    else:
        for line in y_lines:
            parts += _draw(line, sx, sy, columns, smoothing)
    if chart.kind == "lrfind":
        parts += _lrfind_marks(chart, sx, top, h - bottom)
    if y2_lines:
        r2 = _range([line.y for line in y2_lines], chart.y2log) or (0.0, 1.0)
        sy2 = _Scale(r2[0], r2[1], h - bottom, top, chart.y2log)
        for line in y2_lines:
            parts += _draw(line, sx, sy2, columns, 0.0)
        lo2, hi2 = sy2.domain()
        for t in log_ticks(lo2, hi2) if chart.y2log else nice_ticks(lo2, hi2, 4):
            y = float(sy2(t))
            label = _tick_label(t, True) if chart.y2log else fmt_lr(t)
            parts.append(f'<text class="tick c-lr-text" x="{W - right + 5}" y="{y + 4:.0f}">{escape(label)}</text>')
        parts.append(f'<text class="lab" x="{W - 4}" y="{top - 4}" text-anchor="end">{escape(chart.y2label)}{" (log)" if chart.y2log else ""}</text>')
    # Points off the axis: NaN/Inf as x, clipped spikes as triangles, at the top edge.
    for x, kind in _spread(chart.nonfinite, MAX_MARKS):
        px = float(sx(x))
        if math.isfinite(px):
            parts.append(f'<path class="bad" d="M{px - 4:.0f} {top - 1}l8 8m0 -8l-8 8"><title>{escape(kind)} at step {number(x)}</title></path>')
    for x, v in _spread(chart.clipped, MAX_MARKS):
        px = float(sx(x))
        if math.isfinite(px):
            parts.append(f'<path class="clip" d="M{px:.0f} {top}l-4 7h8z"><title>{escape(number(v))} at {escape(number(x))}, above the axis</title></path>')
    if chart.note:
        parts.append(f'<text class="lab" x="{W - right}" y="{top + 11}" text-anchor="end">{escape(chart.note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


SEQ = 8  #: colours of the sequential scale a sweep's runs are drawn in, lowest LR first


def _seq(i: int, n: int) -> int:
    return 0 if n <= 1 else int(round(i * (SEQ - 1) / (n - 1)))


SHAPES = {  # the sweep's positions: never colour alone
    "best": "M{x} {y0}l2.4 5h5.4l-4.4 3.3 1.7 5.2-5.1-3.2-5.1 3.2 1.7-5.2-4.4-3.3h5.4z",
    "good": "M{x} {y}m-4 0a4 4 0 1 0 8 0a4 4 0 1 0 -8 0",
    "near": "M{x} {y}m-3 0a3 3 0 1 0 6 0a3 3 0 1 0 -6 0",
    "too_low": "M{x} {y}m-5 -4h10l-5 8z",
    "too_high": "M{x} {y}m-5 4h10l-5 -8z",
}


def _sweep_marks(chart: Chart, sx: _Scale, sy: _Scale, top: float, base: float, left: float, right: float) -> list[str]:
    out = []
    extra = chart.extra
    rng = extra.get("range")
    if rng and rng[0] and rng[0] > 0:
        a, b = float(sx(rng[0])), float(sx(rng[1]))
        if b - a >= 2:
            out.append(f'<rect class="range" x="{a:.0f}" y="{top}" width="{b - a:.0f}" height="{base - top:.0f}"/>')
        else:
            out.append(f'<line class="range-line" x1="{a:.0f}" x2="{a:.0f}" y1="{top}" y2="{base:.0f}"/>')
    line = chart.lines[0]
    px, py = sx(line.x), sy(line.y)
    ok = np.isfinite(px) & np.isfinite(py)
    if ok.sum() > 1:
        out.append(f'<path class="ln c-grey raw" d="{_path(px[ok], py[ok])}"/>')
    runs = extra.get("runs", [])
    label = len(runs) <= 10
    for i, (run, pos, _href) in enumerate(runs):
        x = float(px[i])
        if not math.isfinite(x):
            continue
        y = float(py[i]) if math.isfinite(py[i]) else None
        if y is None:  # no result: an x at the top edge
            out.append(f'<path class="bad" d="M{x - 4:.0f} {top}l8 8m0 -8l-8 8"><title>{escape(run)}: no result</title></path>')
            y = top + 4
        else:
            shape = SHAPES.get(pos, SHAPES["near"]).format(x=f"{x:.1f}", y=f"{y:.1f}", y0=f"{y - 7:.1f}")
            out.append(f'<path class="pt pos-{escape(pos)}" d="{shape}"><title>{escape(run)}: {escape(pos.replace("_", " "))}</title></path>')
        if label:
            name = run.rsplit("/", 1)[-1]
            name = name if len(name) <= 22 else name[:21] + "…"
            # Right of the point, or left of it near the right edge; above it, or below near the top.
            anchor, dx = ("end", -7) if x + 7 + 6.2 * len(name) > right else ("start", 7)
            dy = 14 if y - 14 < top else -7
            out.append(f'<text class="ptlab" x="{x + dx:.0f}" y="{y + dy:.0f}" text-anchor="{anchor}">{escape(name)}</text>')
    return out


def _lrfind_marks(chart: Chart, sx: _Scale, top: float, base: float) -> list[str]:
    out = []
    sugg = chart.extra.get("suggested")
    for name, v in chart.extra.get("picks", {}).items():
        if v and v > 0 and v != sugg:
            x = float(sx(v))
            out.append(f'<line class="pick" x1="{x:.0f}" x2="{x:.0f}" y1="{top}" y2="{base:.0f}"><title>{escape(name)}: {escape(fmt_lr(v))}</title></line>')
    if sugg and sugg > 0:
        x = float(sx(sugg))
        out.append(f'<line class="suggested" x1="{x:.0f}" x2="{x:.0f}" y1="{top}" y2="{base:.0f}"/>')
        out.append(f'<text class="lab" x="{x + 4:.0f}" y="{top + 11}">suggested {escape(fmt_lr(sugg))}</text>')
    return out


def _draw(line: Line, sx: _Scale, sy: _Scale, columns: int, smoothing: float, raw: bool = True) -> list[str]:
    px, py = sx(line.x), sy(line.y)
    idx = minmax_columns(px - sx.a, py, columns)
    cls = f"ln c-{line.color}" + (" dash" if line.dash else "")
    out = []
    if line.smooth and smoothing > 0:
        sm = ema(line.x, line.y, smoothing, line.spacing)
        if raw:
            out.append(f'<path class="{cls} raw" d="{_path(px[idx], py[idx])}"/>')
        spy = sy(sm)
        out.append(f'<path class="{cls}" d="{_path(px[idx], spy[idx])}"/>')
    else:
        out.append(f'<path class="{cls}" d="{_path(px[idx], py[idx], line.stepped)}"/>')
    if line.points and len(idx) <= 80:
        ok = np.isfinite(px[idx]) & np.isfinite(py[idx])
        dots = "".join(f"M{x:.0f} {y:.0f}h0" for x, y in zip(px[idx][ok], py[idx][ok]))
        out.append(f'<path class="dots c-{line.color}" d="{dots}"/>')
    return out
