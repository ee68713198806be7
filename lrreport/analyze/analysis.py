"""The result model every renderer reads: Finding, Sweep, LRFindResult, Analysis.

Detectors produce :class:`Finding` objects; :func:`lrreport.analyze.analyze`
gathers them, the sweep results and the LR range test results into one
:class:`Analysis`. Renderers (HTML, JSON, Markdown, JUnit, terminal) only read
it; nothing here formats for a particular output. The JSON shape is the
contract in ``docs/findings.md``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..runs import RunSet

__all__ = [
    "SEVERITIES",
    "Alternative",
    "Analysis",
    "Finding",
    "LRChange",
    "LRFindResult",
    "LossResponse",
    "Sweep",
    "SweepRun",
    "Verdict",
    "severity_rank",
]

SEVERITIES = ("info", "warning", "error")


def severity_rank(sev: str | None) -> int:
    """info=1, warning=2, error=3, none=0 (for 'worst' and --fail-on)."""
    return SEVERITIES.index(sev) + 1 if sev in SEVERITIES else 0


#: Integers kept as integers in outputs; beyond int64 a value is damage, written as a float.
_INT64 = 1 << 63
#: Nesting kept by clean(): hyperparameters are flat (lrreport.ingest); evidence is shallow.
MAX_CLEAN_DEPTH = 16


def clean_number(x: Any) -> Any:
    """JSON-safe numbers: NaN/Inf become strings, numpy scalars become Python ones, floats rounded to 6
    significant digits, integers beyond int64 floats (or "Infinity"); never raises."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        if -_INT64 <= x < _INT64:
            return x
        try:
            x = float(x)
        except OverflowError:
            return "Infinity" if x > 0 else "-Infinity"
    try:
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        try:
            return str(x)
        except Exception:
            return f"<{type(x).__name__}>"
    if hasattr(x, "dtype") and getattr(x.dtype, "kind", "f") in "iu":
        return int(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    if f == 0:
        return 0.0
    return float(f"{f:.6g}")


def clean(obj: Any, _depth: int = 0, _path: frozenset = frozenset()) -> Any:
    """``obj`` with every number made JSON-safe (:func:`clean_number`); a container that
    contains itself, or nests deeper than MAX_CLEAN_DEPTH, is cut with a text saying so."""
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in _path:
            return "<loop>"
        if _depth >= MAX_CLEAN_DEPTH:
            return "<nested too deeply>"
        inner = _path | {id(obj)}
        if isinstance(obj, dict):
            return {str(k): clean(v, _depth + 1, inner) for k, v in obj.items()}
        return [clean(v, _depth + 1, inner) for v in obj]
    return clean_number(obj)


@dataclass
class Finding:
    """One diagnosis of one run (see FINDINGS.md for the codes)."""

    code: str
    severity: str
    run: str
    metric: str | None
    message: str
    advice: str
    start_step: int | None = None
    end_step: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.5
    suggested_lr: float | None = None
    group: str | None = None
    best_step: int | None = None
    best_epoch: float | None = None
    suggested_cut_step: int | None = None
    warmup_steps: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "run": self.run,
            "metric": self.metric,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "message": self.message,
            "advice": self.advice,
            "evidence": dict(sorted(self.evidence.items())),
            "confidence": round(float(self.confidence), 3),
        }
        for key in ("suggested_lr", "group", "best_step", "best_epoch", "suggested_cut_step", "warmup_steps"):
            val = getattr(self, key)
            if val is not None:
                d[key] = val
        return clean(d)


@dataclass(frozen=True)
class Alternative:
    """An explanation the verdict weighed and did not pick, and why."""

    code: str
    confidence: float
    why_not: str

    def to_dict(self) -> dict[str, Any]:
        return clean({"code": self.code, "confidence": round(float(self.confidence), 3), "why_not": self.why_not})


@dataclass
class Verdict:
    """The one diagnosis of a run: ``healthy``, or its primary problem's code.

    ``symptoms`` are the codes the primary problem explains (folded into its
    evidence, not reported again); ``alternatives`` every other explanation
    that was weighed, with why it lost.
    """

    run: str
    code: str  #: "healthy", a finding code, or "lr_uncertain" when the evidence cannot decide
    severity: str | None  #: the primary finding's severity; None when healthy
    confidence: float
    message: str
    alternatives: list[Alternative] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return severity_rank(self.severity) < severity_rank("warning")

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "code": self.code,
                "severity": self.severity,
                "confidence": round(float(self.confidence), 3),
                "message": self.message,
                "symptoms": list(self.symptoms),
                "alternatives": [a.to_dict() for a in self.alternatives],
            }
        )


@dataclass
class SweepRun:
    run: str
    lr: float
    best_val_loss: float  #: NaN when the run diverged or has no validation
    position: str  #: best | good | too_high | too_low | failed
    metric: str = "val_loss"


@dataclass
class Sweep:
    """Runs of one set-up that differ in their LR (and seed, and the format they were written in)."""

    name: str  #: what the runs share, e.g. "LR sweep in runs/: optimizer=SGD, batch_size=32"
    metric: str  #: the metric runs are ranked on (val_loss, else train_loss)
    runs: list[SweepRun]
    best_lr: float | None
    good_lr_range: tuple[float, float] | None  #: LRs whose result is close to the best
    confidence: float = 0.5
    score: str = ""  #: the statistic each run was scored by, in words
    seeds: int = 0  #: seeds that each cover the grid
    seed_agreement: float | None = None  #: share of those seeds whose own best LR is the pooled best (or its neighbour)
    seed_best_lrs: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "name": self.name,
                "metric": self.metric,
                "score": self.score,
                "best_lr": self.best_lr,
                "good_lr_range": list(self.good_lr_range) if self.good_lr_range else None,
                "confidence": round(self.confidence, 3),
                "seeds": self.seeds,
                "seed_agreement": self.seed_agreement,
                "seed_best_lrs": dict(sorted(self.seed_best_lrs.items())),
                "runs": [
                    {"run": r.run, "lr": r.lr, "best_" + r.metric: r.best_val_loss, "position": r.position}
                    for r in self.runs
                ],
            }
        )


@dataclass
class LRFindResult:
    """An LR range test found in the logs, and the LR it suggests."""

    run: str
    suggested_lr: float | None
    method: str  #: how it was chosen (e.g. "valley")
    confidence: float
    candidates: dict[str, float] = field(default_factory=dict)  #: every rule's pick
    lr_min: float | None = None
    lr_max: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "run": self.run,
                "suggested_lr": self.suggested_lr,
                "method": self.method,
                "confidence": round(self.confidence, 3),
                "candidates": dict(sorted(self.candidates.items())),
                "lr_min": self.lr_min,
                "lr_max": self.lr_max,
            }
        )


@dataclass(frozen=True)
class LossResponse:
    """What one loss did around an LR change (see :mod:`.lr_story`), read on its means per
    epoch (or per unit of steps) over a window on each side. Slopes are per the change's
    ``unit`` (negative: falling); levels are those means."""

    metric: str
    slope_before: float  #: least-squares slope of the means before the change
    slope_after: float
    level_before: float  #: the last mean before the change
    level_start: float  #: the first mean after it
    level_after: float  #: the last mean of the window after it
    n_before: int  #: means (epochs) on each side
    n_after: int
    gap: float  #: units between the last mean before and the first after
    noise_before: float  #: residual standard deviation about each side's line (0 with two means)
    noise_after: float
    se_slope_before: float
    se_slope_after: float
    span_before: float  #: units covered by each side's means
    span_after: float
    nonfinite_after: int = 0  #: NaN/Inf points in the window after

    @property
    def step_change(self) -> float:
        """The first mean after the change minus the last before it (negative: it dropped)."""
        return self.level_start - self.level_before

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "metric": self.metric,
                "slope_before": self.slope_before,
                "slope_after": self.slope_after,
                "level_before": self.level_before,
                "level_start": self.level_start,
                "level_after": self.level_after,
                "step_change": self.step_change,
                "means_before": self.n_before,
                "means_after": self.n_after,
                "noise_before": self.noise_before,
                "noise_after": self.noise_after,
                "nonfinite_after": self.nonfinite_after,
            }
        )


@dataclass(frozen=True)
class LRChange:
    """A step where the logged LR changed (a scheduler acted), and what it did to the losses."""

    step: int
    before: float
    after: float
    kind: str = "cut"  #: cut | raise | warmup_end | restart
    epoch: float | None = None  #: the epoch it falls in (None: the run logs no epochs)
    where: str = ""  #: "epoch 5", or "step 1,250" when the run logs no epochs
    unit: str = "epoch"  #: what the slopes are per ("epoch", or e.g. "500 steps")
    window: float | None = None  #: units looked at on each side
    losses: tuple[LossResponse, ...] = ()  #: the judged loss first
    helped: bool | None = None  #: None: no clear effect, or too few points
    reason: str = ""  #: why, in a few words
    story: str = ""  #: what it did, in one line with its numbers (``where`` not repeated)

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "step": self.step,
                "epoch": self.epoch,
                "where": self.where,
                "kind": self.kind,
                "lr_before": self.before,
                "lr_after": self.after,
                "unit": self.unit,
                "window": self.window,
                "helped": self.helped,
                "reason": self.reason,
                "story": self.story,
                "losses": [r.to_dict() for r in self.losses],
            }
        )


class Analysis:
    """Everything lrreport concluded about a RunSet: per run a verdict and its findings,
    the sweeps, the LR range tests and the LR changes."""

    def __init__(
        self,
        runset: RunSet,
        findings: list[Finding],
        sweeps: list[Sweep] | None = None,
        lr_finds: dict[str, LRFindResult] | None = None,
        lr_changes: dict[str, list[LRChange]] | None = None,
        traces: dict[str, pl.DataFrame] | None = None,
        version: str | None = None,
        verdicts: dict[str, Verdict] | None = None,
        summaries: dict[str, Any] | None = None,
    ):
        from .. import __version__

        self.runset = runset
        #: run -> RunSummary (analyze/summary.py) when the runs were analysed one by one and
        #: only their summaries kept (the CLI's path); the RunSet then holds no points.
        self._summaries = dict(summaries or {})
        self.sweeps = list(sweeps or [])
        self.lr_finds = dict(lr_finds or {})
        self.lr_changes = dict(lr_changes or {})
        self._traces = dict(traces or {})
        self.version = version or __version__
        verdicts = dict(verdicts or {})
        if len(verdicts) < len(runset.runs):
            # Findings handed in without verdicts (a caller's own list): weigh them here.
            from .verdict import decide

            by_run: dict[str, list[Finding]] = {}
            for f in findings:
                by_run.setdefault(f.run, []).append(f)
            for run in runset.runs:
                if run not in verdicts:
                    verdicts[run], _ = decide(run, by_run.get(run, []), fold=False)
        self.verdicts = {run: verdicts[run] for run in runset.runs if run in verdicts}
        self.findings = sorted(
            findings, key=lambda f: (f.run, -severity_rank(f.severity), f.code, f.start_step or 0, f.metric or "")
        )

    # --- per run ----------------------------------------------------------------
    @property
    def runs(self) -> list[str]:
        return self.runset.run_names

    # --- what renderers read (never the RunSet's raw table directly) ------------------------
    @property
    def logdir(self) -> str:
        return self.runset.logdir

    @property
    def errors(self) -> list:
        """Files that could not be read (``ReadError``: path, one-line reason)."""
        return self.runset.errors

    @property
    def n_points(self) -> int:
        return sum(info.points for info in self.runset.runs.values())

    def run_info(self, run: str):
        """The run's ``RunInfo``: format, files, hyperparameters, metrics, warnings."""
        return self.runset.runs[run]

    def series(self, run: str, metric: str, max_points: int | None = None):
        """One metric of one run, in step order, for display: every point, or at most about
        ``max_points`` chosen per bucket as its first, lowest, highest and last (spikes survive;
        NaN/Inf points are always kept). None when the run does not log the metric."""
        if run in self._summaries:
            return self._summaries[run].series(metric, max_points)
        s = self.runset.series(run, metric)
        if s is None or max_points is None or len(s) <= max_points:
            return s
        from ..runs import Series
        from .signals import downsample_keep_extremes

        idx = downsample_keep_extremes(s.value, max_points)
        return Series(run=s.run, metric=s.metric, step=s.step[idx], value=s.value[idx], epoch=s.epoch[idx])

    def lr_find_curve(self, run: str, max_points: int | None = None):
        """The LR range test of ``run`` as (lr, loss) arrays in step order, for a loss-against-LR
        plot: the steps that log both. At most about ``max_points`` pairs (each bucket's first,
        lowest, highest and last loss, as :meth:`series`). None when the run is not an LR range
        test or lacks either series."""
        if run not in self.lr_finds:
            return None
        if run in self._summaries:
            pairs = self._summaries[run].lr_find
        else:
            from .summary import lr_find_pairs

            pairs = lr_find_pairs(self.runset, run)
        if pairs is None:
            return None
        lrs, losses = pairs
        if max_points is not None and len(losses) > max_points:
            from .signals import downsample_keep_extremes

            idx = downsample_keep_extremes(losses, max_points)
            lrs, losses = lrs[idx], losses[idx]
        return lrs, losses

    def verdict(self, run: str) -> Verdict:
        """The run's one diagnosis (``healthy`` or its primary problem)."""
        return self.verdicts[run]

    def triage_order(self) -> list[str]:
        """The runs, what needs a look first: by their verdict's severity, then its confidence,
        then their worst finding, then name (the order every report lists them in)."""

        def key(run: str):
            v = self.verdicts.get(run)
            sev, conf = (v.severity, round(float(v.confidence), 3)) if v is not None else (None, 0.0)
            return (-severity_rank(sev), -conf, -severity_rank(self.worst_severity(run)), run)

        return sorted(self.runs, key=key)

    def has_summary(self, run: str) -> bool:
        """Whether the run is held as its summary (the CLI's path), not as raw points."""
        return run in self._summaries

    def for_run(self, run: str) -> Analysis:
        """The run alone: an Analysis of just what its own report section reads (its info,
        findings, verdict, LR changes and range test, summary and trace), small enough to
        send to a worker process. Only for runs held as summaries."""
        rs = self.runset
        one = RunSet(rs.logdir, rs.scalars.clear(), {run: rs.runs[run]}, [], [])
        return Analysis(
            one,
            self.run_findings(run),
            lr_finds={run: self.lr_finds[run]} if run in self.lr_finds else None,
            lr_changes={run: self.lr_changes[run]} if run in self.lr_changes else None,
            traces={run: self._traces[run]} if run in self._traces else None,
            version=self.version,
            verdicts={run: self.verdicts[run]},
            summaries={run: self._summaries[run]},
        )

    def run_findings(self, run: str) -> list[Finding]:
        # Indexed once per findings list: a 1000-run report asks for each run's several times.
        key = (id(self.findings), len(self.findings))
        if getattr(self, "_by_run_key", None) != key:
            by_run: dict[str, list[Finding]] = {}
            for f in self.findings:
                by_run.setdefault(f.run, []).append(f)
            self._by_run, self._by_run_key = by_run, key
        return list(self._by_run.get(run, ()))

    def worst_severity(self, run: str | None = None) -> str | None:
        fs = self.findings if run is None else self.run_findings(run)
        worst = max((severity_rank(f.severity) for f in fs), default=0)
        return SEVERITIES[worst - 1] if worst else None

    def is_healthy(self, run: str) -> bool:
        return severity_rank(self.worst_severity(run)) < severity_rank("warning")

    def trace(self, run: str) -> pl.DataFrame:
        """The epoch-by-epoch table: epoch, step, train_loss, val_loss, val_acc, lr, observation."""
        if run not in self.runset.runs:
            raise KeyError(f"no run named {run!r}")
        if run not in self._traces:
            from .trace import build_trace, finish_trace

            summary = self._summaries.get(run)
            if summary is not None and summary.trace is not None:
                self._traces[run] = finish_trace(summary.trace, self.run_findings(run))
            else:
                self._traces[run] = build_trace(self.runset, run, self.run_findings(run), self.lr_changes.get(run, []))
        return self._traces[run]

    def counts(self) -> dict[str, int]:
        c = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            c[f.severity] += 1
        return c

    def verdict_counts(self) -> dict[str, int]:
        """How many runs got each verdict code."""
        out: dict[str, int] = {}
        for v in self.verdicts.values():
            out[v.code] = out.get(v.code, 0) + 1
        return dict(sorted(out.items()))

    # --- tables -------------------------------------------------------------------
    def to_polars(self) -> pl.DataFrame:
        """One row per finding."""
        schema = {
            "run": pl.String,
            "code": pl.String,
            "severity": pl.String,
            "metric": pl.String,
            "start_step": pl.Int64,
            "end_step": pl.Int64,
            "confidence": pl.Float64,
            "suggested_lr": pl.Float64,
            "message": pl.String,
            "advice": pl.String,
        }
        rows = [{k: getattr(f, k) for k in schema} for f in self.findings]
        return pl.DataFrame(rows, schema=schema)

    def to_pandas(self):
        return self.to_polars().to_pandas()

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of FINDINGS.md."""
        runs = []
        for name, info in self.runset.runs.items():
            runs.append(
                {
                    "run": name,
                    "format": info.source,
                    "metrics": list(info.metrics),
                    "points": info.points,
                    "hparams": clean(dict(sorted(info.hparams.items(), key=lambda kv: str(kv[0])))),
                    "warnings": list(info.warnings),
                    "verdict": self.verdicts[name].to_dict() if name in self.verdicts else None,
                    "worst_severity": self.worst_severity(name),
                    "lr_find": self.lr_finds[name].to_dict() if name in self.lr_finds else None,
                    "lr_changes": [c.to_dict() for c in self.lr_changes.get(name, [])],
                    "findings": [f.to_dict() for f in self.run_findings(name)],
                }
            )
        return {
            "lrreport_version": self.version,
            "logdir": self.runset.logdir,
            "summary": {
                "runs": len(runs),
                "healthy": sum(1 for v in self.verdicts.values() if v.healthy),
                "unreadable_files": len(self.runset.errors),
                "files": self.runset.file_counts(),
                "findings": self.counts(),
                "verdicts": self.verdict_counts(),
            },
            "runs": runs,
            "sweeps": [s.to_dict() for s in self.sweeps],
            "errors": [e.to_dict() for e in self.runset.errors],
            "file_notes": [n.to_dict() for n in self.runset.notes],
        }

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"Analysis({len(self.runs)} runs: {c['error']} errors, {c['warning']} warnings, "
            f"{c['info']} info; {len(self.sweeps)} sweeps)"
        )

    def _repr_html_(self) -> str:
        rows = []
        for f in self.findings:
            rows.append(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(str(v))}</td>"
                    for v in (f.run, f.severity, f.code, f.start_step, f.end_step, f.message, f.advice)
                )
                + "</tr>"
            )
        head = "".join(f"<th>{h}</th>" for h in ("run", "severity", "code", "from", "to", "message", "advice"))
        return (
            f"<p><b>{html.escape(repr(self))}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
