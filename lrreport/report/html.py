"""The HTML report: one self-contained file, triage first, every curve explorable.

It opens from a CI artifact on a laptop with no network: no CDN, no web fonts, no
external link of any kind, and a Content-Security-Policy that lets nothing be fetched
and runs only the report's own script and style (allowed by their SHA-256 hashes).
Templates are Jinja2 with autoescape on (run, tag and hparam names come from users'
files); a folder named by ``LRREPORT_TEMPLATES`` overrides any of them.

The page, top to bottom: which runs are in trouble and why (each run's verdict, a
table sorted by severity then confidence, sortable and filterable), the sweeps, then
one section per run in the same order (healthy runs collapsed in long reports): its
verdict, an interactive chart of its losses and LR (uPlot, vendored and inlined once:
hover values, drag to zoom, double-click to reset, TensorBoard's smoothing, log or
linear, findings and LR changes marked), the story of each LR change, the findings
with their evidence in words, and the epoch trace.

Drawing costs milliseconds per run: the page gets each run's downsampled series as a
small JSON block and draws a chart only when it scrolls into view; beside it sits a
static SVG written without matplotlib (:mod:`.svg`) for readers without JavaScript.

The report only reads the :class:`~lrreport.analyze.analysis.Analysis` through its
accessors; it never recomputes a finding.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html as _html
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ..analyze.analysis import SEVERITIES, Analysis, Finding, severity_rank
from ..progress import progress_bar
from . import charts, humanize
from .output import write_atomic
from .svg import DEFAULT_SMOOTHING, chart_svg

__all__ = ["Report", "template_dirs"]

#: Reports with more runs than this collapse their healthy runs (and list them last).
COLLAPSE_HEALTHY_ABOVE = 20
#: A report of more runs than this builds its runs' sections in worker processes (starting
#: them costs about a second; a run's section some milliseconds).
RENDER_PROCESSES_ABOVE = 300
#: Above this many runs each line carries fewer points (the page stays under ~30 KB a run);
#: the run summaries keep series at these sizes (analyze/summary.py).
from ..analyze.summary import COMPACT_ABOVE, COMPACT_POINTS  # noqa: E402
#: Runs in trouble shown open; the rest start collapsed (the table above lists them all).
OPEN_TROUBLED = 40
#: Epoch-trace rows shown per run (the JSON and ``Analysis.trace`` have them all).
MAX_TRACE_ROWS = 200
#: In a report of more than COMPACT_ABOVE runs, each run's trace shows its first and last
#: rows only (the JSON keeps every row): a thousand runs' full traces are 200,000 cells.
COMPACT_TRACE_ROWS = 40
#: LR changes told in the run's section (the trace and the JSON have every one).
MAX_STORIES = 12

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
    env.filters["num"] = humanize.number
    env.filters["lr"] = humanize.lr
    return env


@functools.lru_cache(maxsize=8)
def _assets(dirs: tuple[str, ...]) -> tuple[str, str, str]:
    """(style, script, the CSP) of the page: vendored uPlot and lrreport's own, joined, with
    their hashes, so the policy allows exactly these and nothing injected."""
    env = _cached_environment(dirs)

    def source(name: str) -> str:
        return env.loader.get_source(env, name)[0]

    style = source("vendor/uPlot.min.css").strip() + "\n" + source("_style.css")
    script = source("vendor/uPlot.iife.min.js").strip() + "\n" + source("_report.js")
    # A data block or a style cannot end its element early: the page holds them verbatim.
    for text, tag in ((style, "</style"), (script, "</script")):
        if tag in text.lower():
            raise ValueError(f"a template asset contains {tag}>")

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"

    csp = f"default-src 'none'; style-src {sha(style)}; script-src {sha(script)}; img-src data:; base-uri 'none'; form-action 'none'"
    return style, script, csp


def _steps(f: Finding) -> str:
    if f.start_step is None:
        return ""
    if f.end_step is None or f.end_step == f.start_step:
        return f"step {f.start_step:,}"
    return f"steps {f.start_step:,}–{f.end_step:,}"


def _anchor(prefix: str, index: int, name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40]
    return f"{prefix}-{index}" + (f"-{slug}" if slug else "")


def _display_name(run: str, hparams: dict) -> str:
    """The run's name as its logger named it, when the folder is a hash (MLflow's runName)."""
    name = str(hparams.get("mlflow.runName") or "").strip()
    return name if name and name != run.rsplit("/", 1)[-1] else ""


class Report:
    """A self-contained HTML report of an Analysis; displays inline in notebooks.

    >>> Report(analysis).save("report.html")      # doctest: +SKIP

    ``workers``: processes that build the runs' sections of a long report (default: one
    per core; 1 renders here). They are used for reports of more than
    ``RENDER_PROCESSES_ABOVE`` runs whose Analysis holds per-run summaries (the CLI's path):
    each worker gets the runs it draws, alone, and the page is the same byte for byte.
    ``progress`` shows a bar on stderr while rendering (None: on a terminal, for long reports).
    """

    def __init__(self, analysis: Analysis, title: str | None = None, workers: int | None = None, progress: bool | None = None):
        self.analysis = analysis
        self.title = title or f"lrreport: {analysis.logdir}"
        self.workers = workers
        self.progress = progress

    # --- public -------------------------------------------------------------------------
    def to_html(self) -> str:
        dirs = tuple(str(d) for d in template_dirs())
        style, script, csp = _assets(dirs)
        ctx = self._context()
        ctx.update(style=Markup(style), script=Markup(script), csp=Markup(csp))  # built here: hashes and keywords
        return _cached_environment(dirs).get_template("report.html.j2").render(**ctx)

    def save(self, path: str | os.PathLike) -> str:
        write_atomic(path, self.to_html())
        return str(path)

    def _repr_html_(self) -> str:
        """The report in an iframe that takes the height of its content (the report tells its
        parent through ``postMessage``) and scrolls the notebook to a contents link's target.
        Without the script (an untrusted notebook) it is a scrollable frame whose links work."""
        doc = self.to_html()
        frame = "lrreport-" + hashlib.sha256(doc.encode("utf-8")).hexdigest()[:12]
        listener = (
            "(function(){var f=document.getElementById(%r);if(!f)return;"
            "window.addEventListener('message',function(e){var d=e.data;"
            "if(!f.isConnected||e.source!==f.contentWindow||!d||typeof d.lrreport!=='string')return;"
            "if(d.lrreport==='height'&&d.h>0){f.style.height=Math.ceil(d.h)+'px';}"
            "else if(d.lrreport==='scroll'){var y=f.getBoundingClientRect().top+d.y,el=f.parentElement;"
            "while(el&&el!==document.body&&el!==document.documentElement){var s=getComputedStyle(el).overflowY;"
            "if((s==='auto'||s==='scroll')&&el.scrollHeight>el.clientHeight){el.scrollTop+=y-el.getBoundingClientRect().top;return;}"
            "el=el.parentElement;}window.scrollBy(0,y);}});})();" % frame
        )
        return (
            f'<iframe id="{frame}" class="lrreport-frame" srcdoc="{_html.escape(doc, quote=True)}" '
            f'title="{_html.escape(self.title, quote=True)}" '
            'style="width:100%;height:720px;border:1px solid #ccc;border-radius:4px" '
            'sandbox="allow-scripts"></iframe>'
            f"<script>{listener}</script>"
        )

    # --- building the context -------------------------------------------------------------
    def _context(self) -> dict[str, Any]:
        a = self.analysis
        order = a.triage_order()
        anchors = {name: _anchor("run", i, name) for i, name in enumerate(order)}
        collapse = len(order) > COLLAPSE_HEALTHY_ABOVE
        bar = progress_bar(len(order), "rendering", self.progress)
        runs = []
        troubled = 0
        points = charts.MAX_POINTS if len(order) <= COMPACT_ABOVE else COMPACT_POINTS
        for entry in self._run_entries(order, anchors, points, bar):
            healthy = entry["healthy"]
            entry["open"] = not collapse or (not healthy and troubled < OPEN_TROUBLED)
            troubled += not healthy
            runs.append(entry)
        if bar is not None:
            bar.close()

        sweeps = []
        for i, sw in enumerate(a.sweeps):
            score, overlay = charts.sweep_charts(a, i, anchors)
            data = {"score": score.to_json()}
            if overlay is not None:
                data["overlay"] = overlay.to_json()
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
                    "score_svg": Markup(chart_svg(score)),
                    "score_caption": _sweep_caption(sw),
                    "overlay_svg": Markup(chart_svg(overlay)) if overlay is not None else None,
                    "data": Markup(_data_block(data)),
                }
            )

        verdicts = {}
        for r in runs:
            v = r["verdict"]
            verdicts.setdefault(v["code"], {"code": v["code"], "title": v["title"], "severity": v["severity"] or "ok", "n": 0})
            verdicts[v["code"]]["n"] += 1
        chips = sorted(verdicts.values(), key=lambda c: (-severity_rank(None if c["severity"] == "ok" else c["severity"]), -c["n"], c["code"]))
        return {
            "title": self.title,
            "version": a.version,
            "logdir": a.logdir,
            "counts": a.counts(),
            "severities": list(reversed(SEVERITIES)),
            "n_runs": len(order),
            "n_healthy": sum(1 for r in runs if r["healthy"]),
            "n_points": a.n_points,
            "verdict_chips": chips,
            "runs": runs,
            "sweeps": sweeps,
            "errors": [{"path": e.path, "error": e.error} for e in a.errors],
            "smoothing": DEFAULT_SMOOTHING,
            "collapsed": collapse,
        }

    def _run_entries(self, order: list[str], anchors: dict[str, str], points: int, bar) -> list[dict[str, Any]]:
        """Each run's section, in ``order``: here, or in worker processes for a long report."""
        a = self.analysis
        workers = self.workers if self.workers is not None else (os.cpu_count() or 1)
        if workers > 1 and len(order) > RENDER_PROCESSES_ABOVE and all(a.has_summary(n) for n in order):
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            size = max(1, -(-len(order) // (4 * workers)))
            chunks = [order[i : i + size] for i in range(0, len(order), size)]
            # Spawned, not forked: polars and numba hold threads a fork would copy half-alive.
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
                futures = [
                    pool.submit(_render_sections, self.title, [(a.for_run(n), n, anchors[n]) for n in chunk], points)
                    for chunk in chunks
                ]
                out = []
                for fut in futures:
                    part = fut.result()
                    out += part
                    if bar is not None:
                        bar.update(len(part))
                return out
        out = []
        for name in order:
            out.append(self._run(name, anchors[name], points))
            if bar is not None:
                bar.update(1)
        return out

    def _run(self, name: str, anchor: str, max_points: int) -> dict[str, Any]:
        a = self.analysis
        info = a.run_info(name)
        fs = a.run_findings(name)
        v = a.verdict(name)
        main, more = charts.run_charts(a, name, anchor, max_points)
        data: dict[str, Any] = {}
        if main is not None:
            data["main"] = main.to_json()
        if more:
            data["more"] = "[" + ",".join(c.to_json() for c in more) + "]"
        lrfind = None
        lf = a.lr_finds.get(name)
        if lf is not None:
            chart = charts.lrfind_chart(a, name, anchor)
            if chart is not None:
                data["lrfind"] = chart.to_json()
            lrfind = {
                "suggested": lf.suggested_lr,
                "method": lf.method,
                "confidence": lf.confidence,
                "candidates": sorted(lf.candidates.items()),
                "range": (lf.lr_min, lf.lr_max),
                "svg": Markup(chart_svg(chart)) if chart is not None else None,
            }
        changes = a.lr_changes.get(name, [])
        worst = a.worst_severity(name)
        return {
            "name": name,
            "display": _display_name(name, info.hparams),
            "id": anchor,
            "source": info.source,
            "points": info.points,
            "metrics": list(info.metrics),
            "hparams": [(str(k), humanize.number(val)) for k, val in sorted(info.hparams.items(), key=lambda kv: str(kv[0]))],
            "warnings": list(info.warnings),
            "worst": worst,
            "healthy": v.healthy,
            "verdict": _verdict(v),
            "codes": sorted({f.code for f in fs}, key=lambda c: (-max(severity_rank(f.severity) for f in fs if f.code == c), c)),
            "findings": [_finding(f) for f in fs],
            "main_svg": Markup(chart_svg(main)) if main is not None else None,
            "main_caption": _caption(main) if main is not None else "",
            "more": [{"label": c.ylabel, "svg": Markup(chart_svg(c))} for c in more],
            "lrfind": lrfind,
            "changes": [
                {"n": i + 1, "where": c.where or f"step {c.step:,}", "kind": c.kind, "helped": c.helped, "story": c.story}
                for i, c in enumerate(changes[:MAX_STORIES])
            ],
            "n_changes": len(changes),
            "trace": self._trace(name, MAX_TRACE_ROWS if max_points > COMPACT_POINTS else COMPACT_TRACE_ROWS),
            "data": Markup(_data_block(data)) if data else None,
        }

    def _trace(self, run: str, max_rows: int = MAX_TRACE_ROWS) -> dict[str, Any] | None:
        try:
            df = self.analysis.trace(run)
        except ImportError:  # an analyzer without the epoch trace
            return None
        if df is None or df.height == 0:
            return None
        total = df.height
        if total > max_rows:
            head = max_rows // 2
            df = df.head(head).vstack(df.tail(max_rows - head))
        columns, cells = [], []
        for name in df.columns:
            values = df[name].to_numpy()
            if values.dtype.kind == "f":
                if np.isnan(values).all():
                    continue  # a column the run never logged
                fmt = humanize.lr if name.startswith("lr") else humanize.number
                cells.append([fmt(v) for v in values.tolist()])
            elif values.dtype.kind in "iu":
                cells.append([f"{v:,}" for v in values.tolist()])
            else:
                cells.append(["" if v is None else str(v) for v in values.tolist()])
            columns.append(name)
        # The rows are joined here, not in the template: a 1000-run report has 200,000 cells, and
        # a template loop spends ~10 us on each.
        opens = ["<td>" if c == "observation" else '<td class="num">' for c in columns]
        body = "\n".join(
            "<tr>" + "".join(f"{o}{escape(v)}</td>" for o, v in zip(opens, row)) + "</tr>" for row in zip(*cells)
        )
        return {"columns": columns, "body": Markup(body), "total": total, "shown": df.height}


def _render_sections(title: str, items: list[tuple[Analysis, str, str]], points: int) -> list[dict[str, Any]]:
    """A worker's share of a long report: the sections of runs, each from its own slice."""
    return [Report(part, title=title, workers=1)._run(name, anchor, points) for part, name, anchor in items]


def _data_block(data: dict[str, str]) -> str:
    """The JSON of a section's charts (each value already JSON, with ``<`` escaped)."""
    return "{" + ",".join(f'"{k}":{v}' for k, v in data.items()) + "}"


def _verdict(v) -> dict[str, Any]:
    return {
        "code": v.code,
        "title": humanize.VERDICT_TITLES.get(v.code, v.code.replace("_", " ")),
        "severity": v.severity,
        "confidence": v.confidence,
        "message": v.message,
        "symptoms": list(v.symptoms),
        "alternatives": [{"code": alt.code, "confidence": alt.confidence, "why_not": alt.why_not} for alt in v.alternatives],
    }


def _finding(f: Finding) -> dict[str, Any]:
    values = []
    for key in FINDING_VALUES:
        v = getattr(f, key)
        if v is not None:
            values.append((key.replace("_", " "), humanize.lr(v) if key == "suggested_lr" else humanize.number(v)))
    rows = humanize.evidence_rows(f.evidence)
    symptoms = f.evidence.get("symptoms") or []
    return {
        "code": f.code,
        "severity": f.severity,
        "metric": f.metric,
        "steps": _steps(f),
        "message": f.message,
        "advice": f.advice,
        "confidence": f.confidence,
        "evidence": [(w, t) for w, t, g in rows if g == ""],
        "context": [(w, t) for w, t, g in rows if g == "sweep"],
        "thresholds": [(w, t) for w, t, g in rows if g == "threshold"],
        "symptoms": [str(s) for s in symptoms] if isinstance(symptoms, (list, tuple)) else [str(symptoms)],
        "suggested": values,
    }


def _caption(chart: charts.Chart) -> str:
    """The key to a run's chart, in words."""
    left = [line.label for line in chart.lines if line.axis == "y"]
    right = [line.label for line in chart.lines if line.axis == "y2"]
    parts = [
        f"{', '.join(left) or chart.ylabel} over steps" + (" (log scale)" if chart.ylog else "")
        + (f"; {', '.join(right)} on the right axis" + (" (log scale)" if chart.y2log else "") if right else "")
    ]
    if chart.note:
        parts.append(chart.note)
    if any(line.smooth for line in chart.lines):
        parts.append("dense curves smoothed (the slider at the top), the raw curve faint behind")
    if chart.bands:
        parts.append("shaded, with a bar at the top: where each finding applies")
    if chart.changes:
        parts.append("vertical lines: the LR changes, numbered as in the list below (green: it helped; red: it did not)")
    if chart.nonfinite:
        parts.append("× at the top: NaN/Inf values")
    if chart.clipped:
        top = max(v for _, v in chart.clipped)
        parts.append(
            f"▲ at the top: {len(chart.clipped)} point{'s' if len(chart.clipped) != 1 else ''} above the axis, "
            f"up to {humanize.number(top)} (“all points” shows them)"
        )
    return "; ".join(parts) + "."


def _sweep_caption(sw) -> str:
    lo_hi = sw.good_lr_range
    if lo_hi and lo_hi[0] != lo_hi[1]:
        rng = f"the band: LRs from {humanize.lr(lo_hi[0])} to {humanize.lr(lo_hi[1])}, within reach of the best"
    elif lo_hi:
        rng = f"the vertical line: {humanize.lr(lo_hi[0])}, the only LR that worked"
    else:
        rng = "no LR worked well enough to mark a range"
    return (
        f"Best {sw.metric} of each run against its learning rate (log x). Marked: {rng}; "
        "★ best, ● good, ▼ too low, ▲ too high, × no result (at the top edge)."
    )
