"""What each chart of the report shows, as data: series, axes, markers. Nothing here draws.

The same :class:`Chart` becomes the interactive chart (its JSON, drawn by uPlot in the
page) and the static SVG beside it (:mod:`.svg`, for readers without JavaScript and for
print). Both read only the Analysis' accessors (``series``, ``run_info``,
``run_findings``, ``lr_changes``, ``lr_find_curve``), never the raw table.

Choices, and why:

* Long series are embedded downsampled (:data:`MAX_POINTS` per line: each bucket's
  first, lowest, highest and last point, every NaN/Inf kept, so spikes survive);
  analysis always reads every point.
* The loss axis survives real data: it is logarithmic when every value is positive and
  they span more than :data:`LOG_Y_RATIO`, and when a few points dwarf the rest (a 1e24
  loss at step 0, a 93 then a flat 0.5) the axis stops above the rest
  (:func:`robust_limits`) and the points above it are marked at the top edge with
  their values; the chart's "spikes" toggle shows the whole range.
* A constant LR is a note ("LR 0.001 throughout"), not a panel of offset ticks.
* Colours are names (``train``, ``val``, ``lr`` ...) resolved by the page's CSS, so the
  light and dark schemes each get Paul Tol's colour-blind-safe palette for their
  background.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..analyze.analysis import Analysis
from . import humanize

__all__ = [
    "MAX_POINTS",
    "Chart",
    "Line",
    "json_numbers",
    "lrfind_chart",
    "robust_limits",
    "run_charts",
    "sweep_charts",
]

#: Points per line in the interactive chart: about one bucket of four per 3 px of a
#: 760 px wide chart; enough for every spike to show, small enough for 1000-run reports.
#: Points per line of the smaller charts (more metrics, LR range test, sweep overlay):
#: SMALL_POINTS. Both live with the run summaries, which keep the series at these sizes.
from ..analyze.summary import DISPLAY_POINTS as MAX_POINTS  # noqa: E402
from ..analyze.summary import SMALL_POINTS  # noqa: E402
#: A loss whose positive range spans more than this ratio gets a log axis.
LOG_Y_RATIO = 50.0
#: An LR spanning more than this ratio gets a log axis.
LOG_LR_RATIO = 20.0
#: The axis stops above the rest when the highest points stand more than this many times
#: the rest's range above it (a spike that would flatten the curve into a line) ...
CLIP_FACTOR = 3.0
#: ... the rest being everything but the top 1% of points (at least one).
CLIP_SHARE = 0.01
#: Other metrics charted when a run has them (accuracy comes first).
MAX_OTHER_METRICS = 4
#: NaN/Inf marks per chart (a dense row of x reads as a bar; a few say "here").
MAX_MARKS = 40
#: Series marked with dots (few points: epoch-level logs).
FEW_POINTS = 60

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Line:
    key: str  #: metric name
    label: str
    axis: str  #: "y" (left) or "y2" (right: the LR)
    color: str  #: a CSS colour name of the report: train, val, lr, c1 ... c4
    x: np.ndarray
    y: np.ndarray  #: NaN/Inf kept (drawn as gaps, marked at the top)
    smooth: bool = False  #: the smoothing slider applies (dense loss-like series)
    dash: bool = False
    stepped: bool = False  #: an LR: constant between its points
    points: bool = False  #: few points: dots as well as the line
    spacing: float = 1.0  #: steps between raw points (the smoothing is per raw point)


@dataclass
class Chart:
    key: str  #: unique in the page
    title: str  #: alt text: what it shows, in words
    ylabel: str
    lines: list[Line]
    y2label: str = ""
    ylog: bool = False
    y2log: bool = False
    yrange: tuple[float, float] | None = None  #: robust limits (None: the data's)
    clipped: list[tuple[float, float]] = field(default_factory=list)  #: points above yrange
    nonfinite: list[tuple[float, str]] = field(default_factory=list)  #: (step, "NaN"|"Inf"|"-Inf")
    bands: list[tuple[float, float, str, str]] = field(default_factory=list)  #: findings: (start, end, code, severity)
    changes: list[tuple[float, float, float, int | None]] = field(default_factory=list)  #: (step, before, after, helped 1/0/None)
    note: str = ""  #: e.g. "LR 0.001 throughout"
    xlabel: str = "step"
    xlog: bool = False
    height: int = 240
    width: int = 760  #: of the static picture (the page's chart takes its container's width)
    kind: str = "run"  #: run | more | lrfind | sweep | overlay
    extra: dict = field(default_factory=dict)  #: kind-specific data (sweep points, LR range test picks)

    def to_json(self) -> str:
        """Compact, deterministic JSON for the page's script (``<`` escaped: it sits in a script element)."""
        parts = [
            f'"k":{_js(self.kind)}',
            f'"t":{_js(self.title)}',
            f'"h":{self.height}',
            f'"xl":{_js(self.xlabel)}',
            f'"yl":{_js(self.ylabel)}',
            f'"y2l":{_js(self.y2label)}',
            f'"xlog":{int(self.xlog)}',
            f'"ylog":{int(self.ylog)}',
            f'"y2log":{int(self.y2log)}',
            f'"yr":{json_numbers(self.yrange) if self.yrange else "null"}',
            f'"note":{_js(self.note)}',
            '"s":[' + ",".join(_line_json(line) for line in self.lines) + "]",
            '"clip":[' + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in self.clipped) + "]",
            '"bad":[' + ",".join(f"[{_num(x)},{_js(k)}]" for x, k in self.nonfinite) + "]",
            '"bands":[' + ",".join(f"[{_num(a)},{_num(b)},{_js(c)},{_js(s)}]" for a, b, c, s in self.bands) + "]",
            '"chg":[' + ",".join(f"[{_num(s)},{_num(b)},{_num(a)},{'null' if h is None else h}]" for s, b, a, h in self.changes) + "]",
        ]
        if self.extra:
            parts.append(f'"ex":{_js(self.extra)}')
        return ("{" + ",".join(parts) + "}").replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _js(v) -> str:
    return json.dumps(v, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))


def _num(v: float) -> str:
    if v is None:
        return "null"
    f = float(v)
    if not math.isfinite(f):
        return "null"
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    s = f"{f:.5g}"
    return s.replace("e+", "e")


_FMT5 = "{:.5g}".format


def json_numbers(values) -> str:
    """A JSON array of numbers at 5 significant digits (integers as integers; NaN/Inf as null)."""
    arr = np.asarray(values, dtype=np.float64)
    if not arr.size:
        return "[]"
    fin = np.isfinite(arr)
    if fin.all() and np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 1e15):
        return "[" + ",".join(map(str, arr.astype(np.int64).tolist())) + "]"
    text = ",".join(map(_FMT5, arr.tolist())).replace("e+", "e")
    if not fin.all():
        text = ",".join("null" if t in ("nan", "inf", "-inf") else t for t in text.split(","))
    return "[" + text + "]"


def _line_json(line: Line) -> str:
    flags = "".join(
        f',"{k}":1' for k, on in (("sm", line.smooth), ("d", line.dash), ("st", line.stepped), ("p", line.points)) if on
    )
    return (
        f'{{"k":{_js(line.key)},"l":{_js(line.label)},"a":"{line.axis}","c":"{line.color}",'
        f'"dt":{_num(line.spacing)}{flags},"x":{json_numbers(line.x)},"y":{json_numbers(line.y)}}}'
    )


# --- axes ------------------------------------------------------------------------------------------
def wants_log(values: np.ndarray, ratio: float) -> bool:
    """Log when every value is positive and they span more than ``ratio``."""
    v = values[np.isfinite(values)]
    # Python floats: a span past 1e308 is inf, not a numpy overflow warning.
    return bool(len(v) and np.all(v > 0) and float(v.max()) / float(v.min()) > ratio)


def robust_limits(values: np.ndarray, log: bool) -> tuple[float, float] | None:
    """(low, high) of an axis that leaves out the few points that would dwarf the rest, or
    None when every point fits: the top :data:`CLIP_SHARE` of the points (at least one) are
    left out when they stand more than :data:`CLIP_FACTOR` times the rest's range above it."""
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    if len(v) < 4:
        return None
    t = np.log10(v) if log else v
    t = np.sort(t)
    k = max(1, int(math.ceil(CLIP_SHARE * len(t))))
    rest_hi, lo = float(t[-k - 1]), float(t[0])
    span = rest_hi - lo
    if span <= 0:
        span = abs(rest_hi) * 0.1 or 1.0
    if t[-1] <= rest_hi + CLIP_FACTOR * span:
        return None
    hi = rest_hi + 0.08 * span
    lo_pad = lo - 0.04 * span
    if log:
        return 10**lo_pad, 10**hi
    return lo_pad, hi


def _spacing(step: np.ndarray, downsampled: bool) -> float:
    """Steps between raw points (what the smoothing counts in). A downsampled series keeps
    runs of neighbouring raw points (a bucket's last and the next one's first), so its
    smallest gap is the raw spacing; otherwise the typical gap."""
    d = np.diff(step)
    d = d[d > 0]
    if not len(d):
        return 1.0
    return float(np.min(d) if downsampled else np.median(d))


def _drop_flat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep only the corners of constant stretches (a step schedule needs no more)."""
    if len(y) < 3:
        return x, y
    same_prev = np.r_[False, y[1:] == y[:-1]]
    same_next = np.r_[y[:-1] == y[1:], False]
    keep = ~(same_prev & same_next)
    return x[keep], y[keep]


def _nonfinite(lines: list[Line]) -> list[tuple[float, str]]:
    """Where the lines are NaN/Inf: (step, kind), at most MAX_MARKS, evenly spread."""
    out: dict[float, str] = {}
    for line in lines:
        bad = ~np.isfinite(line.y)
        for x, y in zip(line.x[bad].tolist(), line.y[bad].tolist()):
            out.setdefault(float(x), "NaN" if math.isnan(y) else ("Inf" if y > 0 else "-Inf"))
    items = sorted(out.items())
    if len(items) > MAX_MARKS:
        idx = np.unique(np.linspace(0, len(items) - 1, MAX_MARKS).round().astype(int))
        items = [items[i] for i in idx]
    return items


LOSS_COLORS = {"train_loss": "train", "val_loss": "val", "train_acc": "train", "val_acc": "val"}
CYCLE = ("c1", "c2", "c3", "c4", "c5")


def _fewer_gaps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep only the first and last point of each run of NaN/Inf: the gap reads the same, and
    a diverged run's NaN tail of thousands of steps costs two points."""
    bad = ~np.isfinite(y)
    if bad.sum() < 3:
        return x, y
    inner = bad & np.r_[False, bad[:-1]] & np.r_[bad[1:], False]
    return x[~inner], y[~inner]


def _line(analysis: Analysis, run: str, metric: str, axis: str, color: str, max_points: int, **kw) -> Line | None:
    s = analysis.series(run, metric, max_points=max_points)
    if s is None or len(s) == 0:
        return None
    x, y = _fewer_gaps(s.step.astype(np.float64), s.value.astype(np.float64))
    return Line(metric, metric, axis, color, x, y, points=len(x) <= FEW_POINTS, spacing=_spacing(s.step, len(s) > max_points // 2), **kw)


def _axis_lines(analysis: Analysis, run: str, metrics: list[str], axis: str, max_points: int, smooth: bool) -> list[Line]:
    lines = []
    free = iter(CYCLE)
    for m in metrics:
        color = LOSS_COLORS.get(m) or next(free, "c5")
        line = _line(analysis, run, m, axis, color, max_points)
        if line is None:
            continue
        # The smoothing slider is for dense curves; a 15-point validation curve is read as it is.
        line.smooth = smooth and len(line.x) > FEW_POINTS
        lines.append(line)
    return lines


def _fit_axis(chart: Chart, values: np.ndarray) -> None:
    """Log or linear, and robust limits with the clipped points, for the left axis."""
    limits = robust_limits(values, log=False)
    kept = values[np.isfinite(values)]
    if limits is not None:
        kept = kept[kept <= limits[1]]
    chart.ylog = wants_log(kept, LOG_Y_RATIO)
    if chart.ylog:
        limits = robust_limits(values, log=True)
    if limits is None:
        return
    chart.yrange = limits
    for line in chart.lines:
        if line.axis != "y":
            continue
        over = np.isfinite(line.y) & (line.y > limits[1])
        chart.clipped += list(zip(line.x[over].tolist(), line.y[over].tolist()))
    chart.clipped.sort()


def _lr_lines(analysis: Analysis, run: str, metrics: list[str], max_points: int = MAX_POINTS) -> tuple[list[Line], str]:
    """The LR series for the right axis, or none and a note when the LR never changed."""
    lr_ms = [m for m in metrics if m == "lr" or m.startswith("lr/")]
    lines, values = [], []
    free = iter(CYCLE)
    for m in lr_ms:
        s = analysis.series(run, m, max_points=max_points)
        if s is None or not len(s):
            continue
        x, y = _drop_flat(s.step.astype(np.float64), s.value.astype(np.float64))
        values.append(y)
        # The overall LR often equals one group's: dashed, so both stay visible.
        color = "lr" if m == "lr" else next(free, "c5")
        lines.append(Line(m, m, "y2", color, x, y, stepped=True, dash=m == "lr" and len(lr_ms) > 1))
    if not lines:
        return [], ""
    allv = np.concatenate(values)
    fin = allv[np.isfinite(allv)]
    if len(fin) and np.all(fin == fin[0]):
        names = ", ".join(line.key for line in lines)
        return [], f"{'LR' if names == 'lr' else names} {humanize.lr(fin[0])} throughout"
    return lines, ""


def _markers(analysis: Analysis, run: str, chart: Chart) -> None:
    for f in analysis.run_findings(run):
        if f.start_step is None:
            continue
        end = f.end_step if f.end_step is not None else f.start_step
        chart.bands.append((float(f.start_step), float(end), f.code, f.severity))
    chart.bands.sort(key=lambda b: (SEVERITY_ORDER.get(b[3], 3), b[0], b[2]))
    chart.changes = [
        (float(c.step), float(c.before), float(c.after), None if c.helped is None else int(c.helped))
        for c in analysis.lr_changes.get(run, [])
    ]


def _has_finite(analysis: Analysis, run: str, metric: str) -> bool:
    s = analysis.series(run, metric, max_points=SMALL_POINTS)  # every NaN/Inf is kept, so this tells
    return s is not None and bool(np.isfinite(s.value).any())


def run_charts(analysis: Analysis, run: str, key: str, max_points: int = MAX_POINTS) -> tuple[Chart | None, list[Chart]]:
    """The run's main chart (losses and the LR) and its other metrics' charts; ``max_points``
    per line of the main chart (long reports pass fewer)."""
    info = analysis.run_info(run)
    metrics = list(info.metrics)
    if not metrics:
        return None, []
    loss_ms = [m for m in ("train_loss", "val_loss") if m in metrics]
    if not any(_has_finite(analysis, run, m) for m in loss_ms):
        # No canonical loss, or only NaN ones (a GAN's generator): its other losses join them.
        loss_ms += [m for m in metrics if "loss" in m.lower() and m not in loss_ms and not m.startswith(("lr", "update_ratio"))][:MAX_OTHER_METRICS]
    lr_lines, note = _lr_lines(analysis, run, metrics, max_points)
    used = set(loss_ms) | {m for m in metrics if m == "lr" or m.startswith("lr/")}
    others = [m for m in metrics if m not in used and m != "epoch"]
    acc = [m for m in ("train_acc", "val_acc") if m in others]
    ratios = [m for m in others if m.startswith("update_ratio/")]
    rest = [m for m in others if m not in acc and m not in ratios]

    main_ms, ylabel = (loss_ms, "loss") if loss_ms else (rest[:MAX_OTHER_METRICS], "value")
    if not loss_ms:
        rest = rest[MAX_OTHER_METRICS:]
    lines = _axis_lines(analysis, run, main_ms, "y", max_points, smooth=True)
    main = None
    if lines or lr_lines:
        dead = [line.label for line in lines if not np.isfinite(line.y).any()]
        if dead:
            note = "; ".join(([note] if note else []) + [f"{', '.join(dead)}: NaN/Inf at every point"])
        main = Chart(f"{key}-main", "", ylabel if len(lines) != 1 else lines[0].label, lines + lr_lines, y2label="learning rate" if lr_lines else "", note=note)
        _fit_axis(main, np.concatenate([line.y for line in lines]) if lines else np.zeros(0))
        lr_vals = np.concatenate([line.y for line in lr_lines]) if lr_lines else np.zeros(0)
        main.y2log = wants_log(lr_vals, LOG_LR_RATIO)
        main.nonfinite = _nonfinite(lines)
        _markers(analysis, run, main)
        main.title = describe(run, main)

    more = []
    groups = []
    if acc:
        groups.append(("accuracy", acc, False))
    if ratios:
        groups.append(("update/weight ratio", ratios, True))
    for m in rest[:MAX_OTHER_METRICS]:
        groups.append((m, [m], False))
    for i, (label, ms, log) in enumerate(groups):
        ls = _axis_lines(analysis, run, ms, "y", SMALL_POINTS, smooth=True)
        if not ls:
            continue
        c = Chart(f"{key}-more{i}", "", label, ls, height=160, kind="more")
        vals = np.concatenate([line.y for line in ls])
        _fit_axis(c, vals)
        c.ylog = c.ylog or (log and wants_log(vals, 1.0))
        c.nonfinite = _nonfinite(ls)
        c.title = describe(run, c)
        more.append(c)
    return main, more


def describe(run: str, chart: Chart) -> str:
    """The chart in words (alt text and the static figure's title)."""
    left = [line.label for line in chart.lines if line.axis == "y"]
    right = [line.label for line in chart.lines if line.axis == "y2"]
    parts = [f"{', '.join(left) or chart.ylabel} over steps" + (" (log scale)" if chart.ylog else "")]
    if right:
        parts.append(f"{', '.join(right)} on the right axis" + (" (log scale)" if chart.y2log else ""))
    if chart.note:
        parts.append(chart.note)
    if chart.clipped:
        top = max(v for _, v in chart.clipped)
        parts.append(f"{len(chart.clipped)} point(s) above the axis, up to {humanize.number(top)}, marked at the top edge")
    if chart.changes:
        parts.append(f"{len(chart.changes)} LR change(s) marked")
    if chart.bands:
        parts.append("findings marked: " + ", ".join(f"{c} ({s}, steps {a:.0f} to {b:.0f})" for a, b, c, s in chart.bands[:8]))
    if chart.nonfinite:
        parts.append(f"{len(chart.nonfinite)} NaN/Inf value(s) marked at the top")
    return f"Run {run}: " + "; ".join(parts)


# --- LR range test ---------------------------------------------------------------------------------
def lrfind_chart(analysis: Analysis, run: str, key: str) -> Chart | None:
    """Loss against LR (log x), the suggested LR and every rule's pick marked."""
    lf = analysis.lr_finds.get(run)
    pairs = analysis.lr_find_curve(run, max_points=SMALL_POINTS)
    if lf is None or pairs is None:
        return None
    lr, loss = pairs
    ok = np.isfinite(lr) & (lr > 0)
    lr, loss = lr[ok], loss[ok]
    if len(lr) < 3:
        return None
    order = np.argsort(lr, kind="stable")
    lr, loss = lr[order], loss[order]
    line = Line("train_loss", "loss", "y", "train", lr, loss, points=len(lr) <= FEW_POINTS)
    c = Chart(f"{key}-lrfind", "", "loss", [line], xlabel="learning rate (log)", xlog=True, height=240, width=560, kind="lrfind")
    fin = loss[np.isfinite(loss)]
    if len(fin):
        # The blow-up at the end of a range test is its point, not the curve to read:
        # the axis stops at 2.5x the loss it started from.
        head = fin[: max(3, len(fin) // 10)]
        cap = float(np.median(head)) * 2.5
        lo, hi = float(fin.min()), float(fin.max())
        if hi > cap > lo:
            c.yrange = (lo - 0.05 * (cap - lo), cap)
            over = np.isfinite(loss) & (loss > cap)
            c.clipped = list(zip(lr[over].tolist(), loss[over].tolist()))
    c.nonfinite = [(float(x), "NaN") for x in lr[~np.isfinite(loss)].tolist()]
    picks = {k: float(v) for k, v in sorted(lf.candidates.items()) if v}
    c.extra = {"suggested": lf.suggested_lr, "picks": picks}
    c.title = f"LR range test of {run}: loss against learning rate (log scale)" + (
        f"; suggested LR {humanize.lr(lf.suggested_lr)} ({lf.method})" if lf.suggested_lr else "; no LR suggested"
    )
    return c


# --- sweeps ------------------------------------------------------------------------------------------
POSITIONS = ("best", "good", "near", "too_low", "too_high", "failed")


def sweep_charts(analysis: Analysis, index: int, anchors: dict[str, str]) -> tuple[Chart, Chart | None]:
    """The sweep's best score against LR (log x), and every member's curve of the ranked
    metric on one chart, coloured by LR."""
    sw = analysis.sweeps[index]
    key = f"sweep-{index}"
    pts = sorted(sw.runs, key=lambda r: (r.lr, r.run))
    x = np.array([r.lr for r in pts], dtype=np.float64)
    y = np.array([r.best_val_loss for r in pts], dtype=np.float64)
    line = Line(sw.metric, f"best {sw.metric}", "y", "grey", x, y, points=True)
    score = Chart(f"{key}-score", "", f"best {sw.metric}", [line], xlabel="learning rate (log)", xlog=True, height=260, width=520, kind="sweep")
    fin = y[np.isfinite(y) & (y > 0)]
    score.ylog = len(fin) > 1 and fin.max() / fin.min() > LOG_Y_RATIO
    score.nonfinite = [(float(r.lr), "NaN") for r in pts if not math.isfinite(r.best_val_loss)]
    score.extra = {
        "runs": [[r.run, r.position, anchors.get(r.run, "")] for r in pts],
        "range": list(sw.good_lr_range) if sw.good_lr_range else None,
        "best": sw.best_lr,
    }
    score.title = (
        f"Sweep {sw.name}: best {sw.metric} against learning rate (log scale) for {len(pts)} runs"
        + (f"; best LR {humanize.lr(sw.best_lr)}" if sw.best_lr else "")
        + (f", good range {humanize.lr(sw.good_lr_range[0])} to {humanize.lr(sw.good_lr_range[1])}" if sw.good_lr_range else "")
    )

    lines = []
    for i, r in enumerate(pts):
        s = analysis.series(r.run, sw.metric, max_points=SMALL_POINTS)
        if s is None or not len(s):
            continue
        x, y = _fewer_gaps(s.step.astype(np.float64), s.value.astype(np.float64))
        lines.append(Line(r.run, r.run, "y", f"lr{i}", x, y, spacing=_spacing(s.step, len(s) > SMALL_POINTS // 2), smooth=len(s) > FEW_POINTS))
    overlay = None
    if len(lines) >= 2:
        overlay = Chart(f"{key}-overlay", "", sw.metric, lines, height=260, width=520, kind="overlay")
        _fit_axis(overlay, np.concatenate([line.y for line in lines]))
        overlay.nonfinite = _nonfinite(lines)
        overlay.extra = {"lrs": [r.lr for r in pts if any(line.key == r.run for line in lines)]}
        overlay.title = f"Sweep {sw.name}: {sw.metric} of its {len(lines)} runs over steps, coloured by LR" + (" (log scale)" if overlay.ylog else "")
    return score, overlay
