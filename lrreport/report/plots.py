"""Figures for the HTML report: matplotlib drawn to small, deterministic inline SVG.

Everything here draws; nothing analyses. The series come from the RunSet and the
markers (findings, LR changes, LR range test picks) from the Analysis.

Choices, and why:

* ``matplotlib.figure.Figure`` with the SVG canvas and every rcParam inside
  ``matplotlib.rc_context``: no pyplot global state, so a notebook's settings
  are untouched (ydata-profiling does the same).
* Long series are *drawn* downsampled (min/max per pixel bucket keeps spikes
  visible) to :data:`MAX_POINTS`; analysis always reads the full series.
* Deterministic bytes: a fixed ``svg.hashsalt`` per figure (derived from the
  run name and the panel, so ids never clash between figures in one page), no
  date or creator in the metadata, and a fixed number of decimals.
* Paul Tol's colour-blind-safe "bright" palette, with a distinct marker per
  sweep position so colour is never the only cue.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from html import escape

import numpy as np

from .values import drawable

__all__ = [
    "MAX_POINTS",
    "TOL_BRIGHT",
    "Line",
    "Panel",
    "RunFigure",
    "downsample_minmax",
    "render_lrfind_svg",
    "render_run_svg",
    "render_sweep_svg",
]

#: Points per drawn line: enough for a ~700 px wide panel (two per pixel, min and max).
MAX_POINTS = 1400

#: Paul Tol's "bright" qualitative scheme (https://personal.sron.nl/~pault/), colour-blind safe.
TOL_BRIGHT = {
    "blue": "#4477AA",
    "cyan": "#66CCEE",
    "green": "#228833",
    "yellow": "#CCBB44",
    "red": "#EE6677",
    "purple": "#AA3377",
    "grey": "#BBBBBB",
}
SEVERITY_COLOR = {"error": TOL_BRIGHT["red"], "warning": TOL_BRIGHT["yellow"], "info": TOL_BRIGHT["cyan"]}
METRIC_COLOR = {
    "train_loss": TOL_BRIGHT["blue"],
    "val_loss": TOL_BRIGHT["green"],
    "lr": TOL_BRIGHT["purple"],
    "train_acc": TOL_BRIGHT["blue"],
    "val_acc": TOL_BRIGHT["green"],
}
CYCLE = [TOL_BRIGHT[c] for c in ("blue", "green", "purple", "cyan", "red", "yellow", "grey")]
NONFINITE_COLOR = "#CC3311"  # Tol "vibrant" red: darker than bright red, readable as a small x

#: A loss whose positive range spans more than this ratio is drawn on a log axis.
LOG_Y_RATIO = 50.0
#: An LR series spanning more than this ratio (positive values only) gets a log axis.
LOG_LR_RATIO = 20.0
#: NaN/Inf points marked per panel (evenly spread over them).
MAX_NONFINITE_MARKS = 40
#: Beyond this many LR changes the markers would hide the curves; they are thinned out.
MAX_CHANGE_MARKERS = 40

BASE_RC = {
    "svg.fonttype": "none",  # text stays text: smaller, searchable, crisp
    "text.parse_math": False,  # a "$" in a run or tag name must not start mathtext
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": "#222222",
    "text.color": "#222222",
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.formatter.limits": (-3, 4),  # 1e-4 as "1" with a "1e-4" offset, not "0.0001"
    "path.simplify": True,
    "path.simplify_threshold": 0.3,
    "svg.image_inline": True,
}


# --- data --------------------------------------------------------------------------------
@dataclass
class Line:
    label: str
    x: np.ndarray
    y: np.ndarray
    color: str
    style: str = "-"
    width: float = 1.2
    alpha: float = 1.0
    marker: str | None = None


@dataclass
class Panel:
    ylabel: str
    lines: list[Line]
    log_y: bool = False
    height: float = 1.0  #: relative to RunFigure.panel_height
    nonfinite_x: np.ndarray | None = None  #: steps where a drawn metric was NaN/Inf
    show_findings: bool = True


@dataclass
class RunFigure:
    """Everything needed to draw one run's figure; picklable, so a worker process can draw it."""

    key: str  #: unique within a report (run name + panel): seeds the SVG ids
    title: str  #: the alt text
    panels: list[Panel]
    spans: list[tuple[float, float, str, str]] = field(default_factory=list)  #: (start, end, code, severity)
    changes: list[float] = field(default_factory=list)  #: steps where the LR changed
    width: float = 7.4
    panel_height: float = 1.9
    caption: str = ""  #: for the page, under the figure


# --- downsampling ----------------------------------------------------------------------------
def downsample_minmax(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first, last, min and max point of each bucket (spikes survive; for drawing only).

    ``y`` must be finite; non-finite points are drawn separately.
    """
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 2)
    size = math.ceil(n / buckets)
    pad = buckets * size - n
    lo = np.concatenate([y, np.full(pad, np.inf)]).reshape(buckets, size)
    hi = np.concatenate([y, np.full(pad, -np.inf)]).reshape(buckets, size)
    base = np.arange(buckets) * size
    keep = np.concatenate([base + lo.argmin(axis=1), base + hi.argmax(axis=1), [0, n - 1]])
    keep = np.unique(keep[keep < n])
    return x[keep], y[keep]


def drop_flat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop points inside constant stretches (a step schedule needs only its corners)."""
    if len(y) < 3:
        return x, y
    same_prev = np.r_[False, y[1:] == y[:-1]]
    same_next = np.r_[y[:-1] == y[1:], False]
    keep = ~(same_prev & same_next)
    return x[keep], y[keep]


def prepare_line(label, x, y, color, max_points: int = MAX_POINTS, **kw) -> tuple[Line | None, np.ndarray]:
    """A drawable line (finite points, downsampled) and the x of its NaN/Inf points."""
    x, _ = drawable(x)
    y, clipped = drawable(y)  # beyond what an axis can span: drawn at the limit, and marked
    finite = np.isfinite(y)
    bad = x[~finite | clipped]
    xs, ys = drop_flat(*downsample_minmax(x[finite], y[finite], max_points))
    line = Line(label, xs, ys, color, **kw) if len(xs) else None
    return line, bad


def wants_log(values: list[np.ndarray], ratio: float) -> bool:
    """Log scale when every value is positive and the range spans more than ``ratio``."""
    vals = [v for v in values if len(v)]
    if not vals:
        return False
    allv = np.concatenate(vals)
    if len(allv) == 0 or np.any(allv <= 0):
        return False
    return float(allv.max()) / float(allv.min()) > ratio


# --- SVG post-processing ----------------------------------------------------------------------
_NUM = re.compile(r"(-?\d+\.\d)\d+")
_ATTR_NUMS = re.compile(r'\s(d|x|y|points|transform)="([^"]*)"')
_FONT_FAMILY = re.compile(r"font-family:[^;\"]*;?\s*")
_ID_ATTR = re.compile(r'\sid="([^"]+)"')
_REF = re.compile(r'(?:url\(#|href="#)([^")]+)')


def _round_attr(m: re.Match) -> str:
    return f' {m.group(1)}="{_NUM.sub(_keep_one_decimal, m.group(2))}"'


def _keep_one_decimal(m: re.Match) -> str:
    return m.group(1)


def salt_for(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def clean_svg(svg: str, label: str) -> str:
    """Inline-ready SVG: no XML header or metadata, unused ids gone, coordinates at 0.1 pt, alt text."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\sxmlns(:xlink)?="[^"]*"', "", svg)
    svg = re.sub(r'\s(width|height)="[\d.]+pt"', "", svg, count=2)
    # Coordinates to 0.1 pt is far finer than a pixel and halves the bytes. Only attribute
    # values are touched: tick labels ("0.0001") are text content and stay as they are.
    svg = _ATTR_NUMS.sub(_round_attr, svg)
    svg = re.sub(r" \n(?=[LMCzQ])", " ", svg)  # path data on one line
    svg = _FONT_FAMILY.sub("", svg)  # the page's font applies
    used = set(_REF.findall(svg))
    svg = _ID_ATTR.sub(lambda m: m.group(0) if m.group(1) in used else "", svg)
    svg = re.sub(r">\s+<", "><", svg)
    head = f'<svg role="img" aria-label="{escape(label, quote=True)}"'
    svg = head + svg[len("<svg") :]
    close = svg.index(">") + 1
    return svg[:close] + f"<title>{escape(label, quote=False)}</title>" + svg[close:]


def _save_svg(fig, key: str, label: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt_for(key)}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return clean_svg(buf.getvalue(), label)


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasSVG(fig)
    return fig


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _log_label(v: float) -> str:
    if not v > 0:
        return ""
    e = math.log10(v)
    if abs(e - round(e)) < 1e-9:
        return "10" + str(int(round(e))).translate(_SUPERSCRIPT)
    return f"{v:.2g}"


def log_scale(axis) -> None:
    """Log axis labelled 10⁻³ as plain text (mathtext is off: names may hold '$'); 2 and 5 labelled inside one decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    def minor(v: float, pos=None) -> str:
        lo, hi = sorted(axis.get_view_interval())
        if lo <= 0 or math.log10(hi / lo) > 1.3:
            return ""
        mant = v / 10 ** math.floor(math.log10(v) + 1e-9)
        return _log_label(v) if round(mant) in (2, 5) and abs(mant - round(mant)) < 1e-6 else ""

    axis.set_major_locator(LogLocator(base=10, numticks=8))
    axis.set_major_formatter(FuncFormatter(lambda v, pos=None: _log_label(v)))
    axis.set_minor_formatter(FuncFormatter(minor))


def _step_label(v: float, pos=None) -> str:
    return f"{v:,.0f}" if abs(v) >= 1 or v == 0 else f"{v:g}"


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --- run figure -------------------------------------------------------------------------------
def _axes_grid(fig, width: float, heights: list[float], left: float = 0.85, right: float = 0.2, top: float = 0.12, bottom: float = 0.45, gap: float = 0.22):
    """Axes at fixed positions in inches: no layout engine (it would draw every figure twice)."""
    total = top + bottom + sum(heights) + gap * (len(heights) - 1)
    fig.set_size_inches(width, total)
    axes, y = [], total - top
    for h in heights:
        y -= h
        ax = fig.add_axes((left / width, y / total, (width - left - right) / width, h / total), sharex=axes[0] if axes else None)
        ax.yaxis.set_label_coords(-(left - 0.12) / (width - left - right), 0.5)
        axes.append(ax)
        y -= gap
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    return axes


#: Findings are drawn as bars in lanes at the top of the first panel (height of one lane, axes fraction).
LANE = 0.075
MAX_LANES = 4


def render_run_svg(spec: RunFigure) -> str:
    """One run: loss panel(s) over steps, LR on its own panel, findings shaded, LR changes marked."""
    import matplotlib
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    with matplotlib.rc_context(BASE_RC):
        fig = _new_figure(spec.width, 1.0)
        axes = _axes_grid(fig, spec.width, [spec.panel_height * p.height for p in spec.panels], top=0.3, gap=0.38)
        changes = list(spec.changes)
        if len(changes) > MAX_CHANGE_MARKERS:
            idx = np.linspace(0, len(changes) - 1, MAX_CHANGE_MARKERS).round().astype(int)
            changes = [changes[i] for i in sorted(set(idx))]
        spans = spec.spans
        lanes = min(len(spans), MAX_LANES)
        for i, (ax, panel) in enumerate(zip(axes, spec.panels)):
            for line in panel.lines:
                ax.plot(
                    line.x,
                    line.y,
                    line.style,
                    color=line.color,
                    lw=line.width,
                    alpha=line.alpha,
                    label=_short(line.label),
                    marker=line.marker or ("o" if len(line.x) <= 2 else None),
                    markersize=3,
                )
            if panel.log_y:
                ax.set_yscale("log")
                log_scale(ax.yaxis)
            ax.set_ylabel(_short(panel.ylabel, 22))
            ax.grid(True, axis="y")
            ax.grid(False, axis="x")
            top = blended_transform_factory(ax.transData, ax.transAxes)
            if changes:
                ax.vlines(changes, 0, 1, transform=top, colors="#777777", linestyles=(0, (2, 2)), lw=0.7, zorder=1)
            first = i == 0
            has_bad = panel.nonfinite_x is not None and len(panel.nonfinite_x) > 0
            lane_top = 0.93 if has_bad else 1.0  # NaN/Inf marks keep the top edge
            if spans and panel.show_findings:
                if first and panel.lines:
                    # Room above the data for the finding lanes.
                    lo, hi = ax.get_ylim()
                    frac = LANE * lanes + 0.03 + (1 - lane_top)
                    if panel.log_y:
                        ax.set_ylim(lo, hi * (hi / lo) ** (frac / (1 - frac)))
                    else:
                        ax.set_ylim(lo, hi + (hi - lo) * frac / (1 - frac))
                for k, (start, end, code, sev) in enumerate(spans):
                    color = SEVERITY_COLOR.get(sev, TOL_BRIGHT["grey"])
                    if end > start:
                        ax.axvspan(start, end, color=color, alpha=0.10, lw=0, zorder=0)
                    else:
                        ax.axvline(start, color=color, lw=1.2, alpha=0.8, zorder=1)
                    if first:
                        y0 = lane_top - LANE * (k % MAX_LANES + 1)
                        ax.axvspan(start, end, ymin=y0 + 0.008, ymax=y0 + LANE - 0.008, color=color, alpha=0.75, lw=0.8 if end <= start else 0, ec=color, zorder=2)
                        ax.text(start, y0 + LANE / 2, " " + code, transform=top, fontsize=6.5, va="center", ha="left", color="#222222", zorder=3, clip_on=True)
            if has_bad:
                xs = np.unique(panel.nonfinite_x)
                if len(xs) > MAX_NONFINITE_MARKS:  # a dense row of x reads as a bar; a few say "here"
                    xs = xs[np.linspace(0, len(xs) - 1, MAX_NONFINITE_MARKS).round().astype(int)]
                ax.plot(xs, np.full(len(xs), 0.985), "x", transform=top, color=NONFINITE_COLOR, ms=5, mew=1.3, label="NaN/Inf", clip_on=False, zorder=4)
            if len(panel.lines) > 1 or has_bad:  # a single line is named by the y label
                # Above the panel, in one row: never over the data or the finding lanes.
                ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(panel.lines) + has_bad, borderaxespad=0.1, handlelength=1.6, columnspacing=1.2)
        axes[-1].xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
        axes[-1].xaxis.set_major_formatter(FuncFormatter(_step_label))
        axes[-1].set_xlabel("step")
        return _save_svg(fig, spec.key, spec.title)


# --- LR range test ------------------------------------------------------------------------------
def render_lrfind_svg(key: str, title: str, lr: np.ndarray, loss: np.ndarray, suggested: float | None, candidates: dict[str, float]) -> str:
    """Loss against LR on a log x axis, the suggested LR marked."""
    import matplotlib
    from matplotlib.transforms import blended_transform_factory

    with matplotlib.rc_context(BASE_RC):
        fig = _new_figure(5.2, 2.6)
        (ax,) = _axes_grid(fig, 5.2, [2.05], left=0.75)
        order = np.argsort(lr, kind="stable")
        lr, loss = drawable(lr[order])[0], drawable(loss[order])[0]
        ok = np.isfinite(loss) & np.isfinite(lr) & (lr > 0)
        x, y = downsample_minmax(lr[ok], loss[ok])
        ax.plot(x, y, color=TOL_BRIGHT["blue"], label="loss")
        if len(y):
            # The blow-up at the end of a range test would flatten everything else.
            head = y[: max(3, len(y) // 10)]
            cap = float(np.nanmedian(head)) * 2.5 if len(head) else None
            lo, hi = float(np.min(y)), float(np.max(y))
            if cap and hi > cap > lo:
                pad = 0.05 * (cap - lo)
                ax.set_ylim(lo - pad, cap)
        bad = lr[~np.isfinite(loss) & (lr > 0)]
        if len(bad):
            top = blended_transform_factory(ax.transData, ax.transAxes)
            ax.plot(bad, np.full(len(bad), 0.97), "x", transform=top, color=NONFINITE_COLOR, ms=5, label="NaN/Inf")
        ax.set_xscale("log")
        log_scale(ax.xaxis)
        styles = iter([(0, (1, 1.5)), (0, (4, 2)), (0, (3, 1, 1, 1))])
        for name, val in sorted(candidates.items()):
            if val and val > 0 and val != suggested:
                ax.axvline(val, color="#888888", lw=0.8, linestyle=next(styles, (0, (2, 2))), label=_short(f"{name}: {val:.2g}"))
        if suggested and suggested > 0:
            ax.axvline(suggested, color=TOL_BRIGHT["red"], lw=1.6, label=f"suggested {suggested:.2g}")
            if len(x):
                yi = float(np.interp(np.log10(suggested), np.log10(x), y))
                ax.plot([suggested], [yi], "o", color=TOL_BRIGHT["red"], ms=5)
        ax.set_xlabel("learning rate (log)")
        ax.set_ylabel("loss")
        ax.legend(loc="best")
        return _save_svg(fig, key, title)


# --- sweep -------------------------------------------------------------------------------------
POSITION_STYLE = {
    "best": (TOL_BRIGHT["green"], "*", 11),
    "good": (TOL_BRIGHT["blue"], "o", 6),
    "too_low": (TOL_BRIGHT["cyan"], "v", 7),
    "too_high": (TOL_BRIGHT["red"], "^", 7),
    "failed": (NONFINITE_COLOR, "x", 7),
}


def render_sweep_svg(
    key: str,
    title: str,
    points: list[tuple[str, float, float, str]],
    good_range: tuple[float, float] | None,
    metric: str,
) -> str:
    """Best ``metric`` against LR (log x); each run marked by its position; failed runs at the top edge."""
    import matplotlib
    from matplotlib.transforms import blended_transform_factory

    with matplotlib.rc_context(BASE_RC):
        fig = _new_figure(5.6, 2.8)
        (ax,) = _axes_grid(fig, 5.6, [2.2], left=0.8, right=0.25, top=0.15)
        top = blended_transform_factory(ax.transData, ax.transAxes)
        points = [(r, float(drawable([lr])[0][0]), float(drawable([v])[0][0]), p) for r, lr, v, p in points]
        if good_range:
            good_range = tuple(float(g) for g in drawable(good_range)[0])
        if good_range and good_range[0] and good_range[1] and good_range[0] > 0:
            lo, hi = good_range
            if hi > lo:
                ax.axvspan(lo, hi, color=TOL_BRIGHT["green"], alpha=0.12, lw=0, label="good LR range")
            else:
                ax.axvline(lo, color=TOL_BRIGHT["green"], alpha=0.5, lw=2, label="good LR")
        ok = [(r, lr, v) for r, lr, v, _ in points if lr and lr > 0 and math.isfinite(v)]
        if len(ok) > 1:
            ok_sorted = sorted(ok, key=lambda t: t[1])
            ax.plot([t[1] for t in ok_sorted], [t[2] for t in ok_sorted], "-", color="#999999", lw=0.8, zorder=1)
        for pos in POSITION_STYLE:
            color, marker, size = POSITION_STYLE[pos]
            sel = [(r, lr, v) for r, lr, v, p in points if p == pos and lr and lr > 0]
            if not sel:
                continue
            fin = [(r, lr, v) for r, lr, v in sel if math.isfinite(v)]
            inf = [(r, lr, v) for r, lr, v in sel if not math.isfinite(v)]
            if fin:
                ax.plot([t[1] for t in fin], [t[2] for t in fin], marker, color=color, ms=size, ls="none", label=pos.replace("_", " "), zorder=3)
            if inf:
                ax.plot([t[1] for t in inf], [0.96] * len(inf), "x", transform=top, color=NONFINITE_COLOR, ms=7, mew=1.5, ls="none", clip_on=False, label=None if fin else f"{pos.replace('_', ' ')} (no result)", zorder=3)
        if len(points) <= 10:
            for r, lr, v, _ in points:
                if lr and lr > 0:
                    yv, tr = (v, ax.transData) if math.isfinite(v) else (0.96, top)
                    ax.annotate(_short(r.rsplit("/", 1)[-1], 18), (lr, yv), xycoords=tr, xytext=(4, 4), textcoords="offset points", fontsize=6.5, color="#555555")
        ax.set_xscale("log")
        log_scale(ax.xaxis)
        finite = [v for _, _, v in ok]
        if finite and min(finite) > 0 and max(finite) / min(finite) > LOG_Y_RATIO:
            ax.set_yscale("log")
            log_scale(ax.yaxis)
        ax.set_xlabel("learning rate (log)")
        ax.set_ylabel(_short(f"best {metric}", 22))
        ax.legend(loc="best", fontsize=7)
        return _save_svg(fig, key, title)
