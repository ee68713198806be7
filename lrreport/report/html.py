"""The HTML report: one self-contained file (CSS, figures and a few lines of script inline).

It opens from a CI artifact on a laptop with no network: no CDN, no web fonts, no
external link of any kind, and a Content-Security-Policy that forbids fetching
anything. Templates are Jinja2 with autoescape on (run, tag and hparam names come
from users' files); a folder named by ``LRREPORT_TEMPLATES`` overrides any of them.

The report only reads the :class:`~lrreport.analyze.analysis.Analysis`; it never
recomputes a finding. Series are downsampled for drawing only (see ``plots``).
"""

from __future__ import annotations

import functools
import html as _html
import math
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ..analyze.analysis import SEVERITIES, Analysis, Finding, severity_rank
from . import plots
from .output import write_atomic

__all__ = ["Report", "template_dirs"]

#: Above this many runs each run gets a compact figure (loss and LR only, shorter panels).
COMPACT_FIGURES_ABOVE = 100
#: Rendering figures in worker processes pays off from about this many figures.
PARALLEL_FROM = 12
#: Epoch-trace rows shown per run (the JSON and ``Analysis.trace`` have them all).
MAX_TRACE_ROWS = 200
#: Metrics drawn when a run has no loss at all.
MAX_OTHER_METRICS = 4

FINDING_VALUES = ("suggested_lr", "group", "best_step", "best_epoch", "suggested_cut_step", "warmup_steps")


def template_dirs() -> list[Path]:
    """Where templates are looked up, first match wins: $LRREPORT_TEMPLATES, then the shipped ones."""
    import lrreport

    dirs: list[Path] = []
    override = os.environ.get("LRREPORT_TEMPLATES")
    if override:
        dirs.append(Path(override))
    shipped = Path(lrreport.__file__).parent / "templates"
    dirs.append(shipped if shipped.is_dir() else Path(lrreport.__file__).parent.parent / "templates")
    return dirs


def _environment() -> Environment:
    return _cached_environment(tuple(str(d) for d in template_dirs()))


@functools.lru_cache(maxsize=8)
def _cached_environment(dirs: tuple[str, ...]) -> Environment:
    # Cached per lookup path: compiling the templates costs more than rendering a small report.
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in dirs]),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "htm", "xml"), default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = fmt_num
    env.filters["lr"] = fmt_lr
    return env


# --- formatting ----------------------------------------------------------------------------
def fmt_num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_num(x) for x in v) + "]"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {fmt_num(x)}" for k, x in v.items())
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Inf" if f > 0 else "-Inf"
    if f == int(f) and abs(f) < 1e9:
        return str(int(f))
    return f"{f:.4g}"


def fmt_lr(v: Any) -> str:
    if v is None:
        return "—"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "NaN" if math.isnan(f) else f"{f:.3g}"


def _steps(f: Finding) -> str:
    if f.start_step is None:
        return ""
    if f.end_step is None or f.end_step == f.start_step:
        return f"step {f.start_step}"
    return f"steps {f.start_step}–{f.end_step}"


def _anchor(prefix: str, index: int, name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40]
    return f"{prefix}-{index}" + (f"-{slug}" if slug else "")


def _render_one(job: tuple[str, Any]) -> str:
    kind, spec = job
    if kind == "run":
        return plots.render_run_svg(spec)
    if kind == "lrfind":
        return plots.render_lrfind_svg(*spec)
    return plots.render_sweep_svg(*spec)


def _workers() -> int:
    env = os.environ.get("LRREPORT_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(2, os.cpu_count() or 1))


def render_all(jobs: list[tuple[str, Any]], workers: int | None = None) -> list[str]:
    """Draw every figure, in worker processes when there are many (same bytes either way)."""
    workers = _workers() if workers is None else workers
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if workers > 1 and len(jobs) >= PARALLEL_FROM and can_fork and multiprocessing.parent_process() is None:
        # fork, not spawn: spawn re-runs a user's unguarded script in every worker.
        # The workers only draw (numpy + matplotlib), so nothing that forking breaks.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_render_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    return [_render_one(j) for j in jobs]


class Report:
    """A self-contained HTML report of an Analysis; displays inline in notebooks.

    >>> Report(analysis).save("report.html")      # doctest: +SKIP
    """

    def __init__(self, analysis: Analysis, title: str | None = None, workers: int | None = None):
        self.analysis = analysis
        self.title = title or f"lrreport: {analysis.runset.logdir}"
        self.workers = workers

    # --- public -------------------------------------------------------------------------
    def to_html(self) -> str:
        ctx = self._context()
        template = _environment().get_template("report.html.j2")
        return template.render(**ctx)

    def save(self, path: str | os.PathLike) -> str:
        write_atomic(path, self.to_html())
        return str(path)

    def _repr_html_(self) -> str:
        doc = _html.escape(self.to_html(), quote=True)
        return (
            f'<iframe srcdoc="{doc}" title="{_html.escape(self.title, quote=True)}" '
            'style="width:100%;height:720px;border:1px solid #ccc;border-radius:4px" '
            'sandbox="allow-scripts"></iframe>'
        )

    # --- building the context -------------------------------------------------------------
    def _context(self) -> dict[str, Any]:
        a = self.analysis
        rs = a.runset
        names = a.runs
        compact = len(names) > COMPACT_FIGURES_ABOVE
        anchors = {name: _anchor("run", i, name) for i, name in enumerate(names)}

        jobs: list[tuple[str, Any]] = []
        runs: list[dict[str, Any]] = []
        for name in names:
            info = rs.runs[name]
            fs = a.run_findings(name)
            spec = self._run_figure(name, compact)
            entry: dict[str, Any] = {
                "name": name,
                "id": anchors[name],
                "source": info.source,
                "points": info.points,
                "metrics": list(info.metrics),
                "hparams": [(str(k), fmt_num(v)) for k, v in sorted(info.hparams.items(), key=lambda kv: str(kv[0]))],
                "warnings": list(info.warnings),
                "worst": a.worst_severity(name),
                "codes": sorted({f.code for f in fs}, key=lambda c: (-max(severity_rank(f.severity) for f in fs if f.code == c), c)),
                "findings": [self._finding(f) for f in fs],
                "figure": None,
                "lrfind": None,
                "trace": self._trace(name),
                "changes": len(a.lr_changes.get(name, [])),
            }
            if spec is not None:
                entry["figure_job"] = len(jobs)
                entry["caption"] = spec.caption
                jobs.append(("run", spec))
            lf = a.lr_finds.get(name)
            if lf is not None:
                entry["lrfind"] = {
                    "suggested": lf.suggested_lr,
                    "method": lf.method,
                    "confidence": lf.confidence,
                    "candidates": sorted(lf.candidates.items()),
                    "range": (lf.lr_min, lf.lr_max),
                    "figure": None,
                }
                job = self._lrfind_job(name, lf)
                if job is not None:
                    entry["lrfind"]["figure_job"] = len(jobs)
                    jobs.append(("lrfind", job))
            runs.append(entry)

        sweeps = []
        for i, sw in enumerate(a.sweeps):
            points = [(r.run, float(r.lr), float(r.best_val_loss), r.position) for r in sw.runs]
            label = (
                f"Sweep {sw.name}: best {sw.metric} against learning rate (log scale) for {len(sw.runs)} runs"
                + (f"; best LR {fmt_lr(sw.best_lr)}" if sw.best_lr else "")
                + (f", good range {fmt_lr(sw.good_lr_range[0])} to {fmt_lr(sw.good_lr_range[1])}" if sw.good_lr_range else "")
            )
            sweeps.append(
                {
                    "id": f"sweep-{i}",
                    "name": sw.name,
                    "metric": sw.metric,
                    "best_lr": sw.best_lr,
                    "range": sw.good_lr_range,
                    "confidence": sw.confidence,
                    "runs": [
                        {"name": r.run, "href": anchors.get(r.run), "lr": r.lr, "best": r.best_val_loss, "position": r.position}
                        for r in sorted(sw.runs, key=lambda r: (r.lr, r.run))
                    ],
                    "figure_job": len(jobs),
                }
            )
            jobs.append(("sweep", (f"sweep\x00{i}\x00{sw.name}", label, points, sw.good_lr_range, sw.metric)))

        svgs = render_all(jobs, self.workers)
        for entry in runs:
            if "figure_job" in entry:
                entry["figure"] = Markup(svgs[entry.pop("figure_job")])
            if entry["lrfind"] and "figure_job" in entry["lrfind"]:
                entry["lrfind"]["figure"] = Markup(svgs[entry["lrfind"].pop("figure_job")])
        for sw in sweeps:
            sw["figure"] = Markup(svgs[sw.pop("figure_job")])

        counts = a.counts()
        return {
            "title": self.title,
            "version": a.version,
            "logdir": rs.logdir,
            "counts": counts,
            "severities": list(reversed(SEVERITIES)),
            "n_runs": len(names),
            "n_healthy": sum(1 for n in names if a.is_healthy(n)),
            "n_points": rs.scalars.height,
            "runs": runs,
            "sweeps": sweeps,
            "errors": [{"path": e.path, "error": e.error} for e in rs.errors],
            "palette": plots.TOL_BRIGHT,
        }

    @staticmethod
    def _finding(f: Finding) -> dict[str, Any]:
        values = []
        for key in FINDING_VALUES:
            v = getattr(f, key)
            if v is not None:
                values.append((key, fmt_lr(v) if key == "suggested_lr" else fmt_num(v)))
        return {
            "code": f.code,
            "severity": f.severity,
            "metric": f.metric,
            "steps": _steps(f),
            "message": f.message,
            "advice": f.advice,
            "confidence": f.confidence,
            "evidence": [(str(k), fmt_num(v)) for k, v in sorted(f.evidence.items(), key=lambda kv: str(kv[0]))],
            "suggested": values,
        }

    def _trace(self, run: str) -> dict[str, Any] | None:
        try:
            df = self.analysis.trace(run)
        except ImportError:  # an analyzer without the epoch trace
            return None
        if df is None or df.height == 0:
            return None
        empty = [c for c in df.columns if df[c].dtype.is_float() and df[c].fill_nan(None).null_count() == df.height]
        df = df.drop(empty)  # a column the run never logged
        total = df.height
        if total > MAX_TRACE_ROWS:
            head = MAX_TRACE_ROWS // 2
            df = df.head(head).vstack(df.tail(MAX_TRACE_ROWS - head))
        rows = [[fmt_lr(v) if col.startswith("lr") and v is not None else ("" if v is None else fmt_num(v)) for col, v in zip(df.columns, row)] for row in df.iter_rows()]
        return {"columns": list(df.columns), "rows": rows, "total": total, "shown": df.height}

    # --- figure specs (data only; drawing happens in plots) ---------------------------------
    def _run_figure(self, run: str, compact: bool) -> plots.RunFigure | None:
        rs = self.analysis.runset
        metrics = rs.metrics(run)
        if not metrics:
            return None
        points = plots.MAX_POINTS // 2 if compact else plots.MAX_POINTS

        def panel(ms: list[str], ylabel: str, log_ratio: float) -> plots.Panel | None:
            lines, bad, ys = [], [], []
            taken = {plots.METRIC_COLOR[m] for m in ms if m in plots.METRIC_COLOR}
            free = iter([c for c in plots.CYCLE if c not in taken] * 4)
            for m in ms:
                s = rs.series(run, m)
                if s is None or len(s) == 0:
                    continue
                color = plots.METRIC_COLOR.get(m) or next(free)
                few = len(s) <= 60
                line, nonfinite = plots.prepare_line(m, s.step, s.value, color, max_points=points, marker="o" if few else None)
                if line is not None:
                    lines.append(line)
                    ys.append(line.y)
                if len(nonfinite):
                    bad.append(nonfinite)
            if not lines and not bad:
                return None
            return plots.Panel(
                ylabel=lines[0].label if len(lines) == 1 else ylabel,
                lines=lines,
                log_y=plots.wants_log(ys, log_ratio),
                nonfinite_x=np.concatenate(bad) if bad else None,
            )

        loss_ms = [m for m in ("train_loss", "val_loss") if m in metrics]
        if not loss_ms:
            loss_ms = [m for m in metrics if "loss" in m.lower() and not m.startswith(("lr", "update_ratio"))][:MAX_OTHER_METRICS]
        lr_ms = [m for m in metrics if m == "lr" or m.startswith("lr/")]
        ratio_ms = [m for m in metrics if m.startswith("update_ratio/")]
        if compact:
            lr_ms = ["lr"] if "lr" in lr_ms else lr_ms[:1]
            ratio_ms = []
        panels: list[plots.Panel] = []
        ylabel = "loss"
        if loss_ms:
            p = panel(loss_ms, "loss", plots.LOG_Y_RATIO)
        else:
            other = [m for m in metrics if m not in lr_ms and not m.startswith("update_ratio/") and m != "epoch"]
            other = other[:MAX_OTHER_METRICS]
            ylabel = "value"
            p = panel(other, "value", plots.LOG_Y_RATIO) if other else None
        if p is not None:
            panels.append(p)
        if lr_ms:
            p = panel(lr_ms, "learning rate", plots.LOG_LR_RATIO)
            if p is not None and sum(len(line.x) for line in p.lines) >= 2:
                p.show_findings = bool(not panels)
                for line in p.lines:
                    line.marker = None
                    # The overall LR often equals one group's: dashed, so both stay visible.
                    line.style = "--" if line.label == "lr" and len(p.lines) > 1 else "-"
                p.height = 0.62
                panels.append(p)
        if ratio_ms:
            p = panel(ratio_ms, "update/weight", 10.0)
            if p is not None:
                p.show_findings = False
                p.height = 0.75
                panels.append(p)
        if not panels:
            return None
        if panels[0].show_findings is False:
            panels[0].show_findings = True

        spans = []
        for f in self.analysis.run_findings(run):
            if f.start_step is None:
                continue
            end = f.end_step if f.end_step is not None else f.start_step
            spans.append((float(f.start_step), float(end), f.code, f.severity))
        changes = [float(c.step) for c in self.analysis.lr_changes.get(run, [])]

        first = ", ".join(line.label for line in panels[0].lines) or ylabel
        parts = [f"{first} over steps" + (" (log scale)" if panels[0].log_y else "")]
        caption = [parts[0][0].upper() + parts[0][1:]]
        for p in panels[1:]:
            text = ", ".join(line.label for line in p.lines) + " below" + (" (log scale)" if p.log_y else "")
            parts.append(text)
            caption.append(text)
        if changes:
            parts.append(f"{len(changes)} LR change(s) marked by dotted lines")
            caption.append(f"dotted lines: the {len(changes)} step(s) where the LR changed")
        if spans:
            parts.append("findings shaded: " + ", ".join(f"{c} ({s}, steps {a:.0f} to {b:.0f})" for a, b, c, s in spans[:8]))
            caption.append("bars at the top: where each finding applies, labelled with its code")
        if any(p.nonfinite_x is not None and len(p.nonfinite_x) for p in panels):
            parts.append("NaN/Inf values marked by x at the top")
            caption.append("red × at the top: NaN/Inf values")
        title = f"Run {run}: " + "; ".join(parts)
        return plots.RunFigure(
            key=f"run\x00{run}",
            title=title,
            panels=panels,
            spans=spans,
            changes=changes,
            panel_height=1.45 if compact else 1.9,
            caption="; ".join(caption) + ".",
        )

    def _lrfind_job(self, run: str, lf) -> tuple | None:
        rs = self.analysis.runset
        loss = rs.series(run, "train_loss")
        lr = rs.series(run, "lr")
        if loss is None or lr is None:
            return None
        steps, il, ir = np.intersect1d(loss.step, lr.step, return_indices=True)
        if len(steps) < 3:
            return None
        title = f"LR range test of {run}: loss against learning rate (log scale)" + (
            f"; suggested LR {fmt_lr(lf.suggested_lr)} ({lf.method})" if lf.suggested_lr else "; no LR suggested"
        )
        cands = {k: float(v) for k, v in lf.candidates.items() if v is not None}
        return (f"lrfind\x00{run}", title, lr.value[ir], loss.value[il], lf.suggested_lr, cands)
