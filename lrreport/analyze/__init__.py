"""Analyze: run every detector on every run, find sweeps and LR range tests.

``analyze(runset)`` builds one :class:`~.context.RunContext` per run, finds
LR range tests (analysed on their own: their blow-up at the end is the point
of the test), runs the detectors of :mod:`.detectors` on the other runs,
then the sweep analysis, which confirms, corrects or adds ``lr_too_high`` /
``lr_too_low`` findings from what the other runs of the sweep reached, and
gives them a suggested LR from the range that worked. Codes in
``config.suppress`` are dropped at the end.
"""

from __future__ import annotations

import numpy as np

from ..progress import progress_bar
from ..runs import RunSet
from . import signals
from .analysis import Analysis, Finding, LRChange
from .config import Config, load_config
from .context import RunContext, build_context
from .detectors import DETECTORS
from .detectors._common import fmt
from .lrfind import analyze_lr_find, is_lr_find
from .sweeps import find_sweeps

__all__ = ["Analysis", "Config", "Finding", "analyze", "load_config"]

TOO_HIGH = ("divergence", "lr_too_high")


def _lr_changes(ctx: RunContext) -> list[LRChange]:
    if ctx.lr is None:
        return []
    return [LRChange(s, b, a) for s, b, a in signals.lr_changes(ctx.lr.step, ctx.lr.value)]


def _run_detectors(ctx: RunContext, config: Config) -> list[Finding]:
    found: list[Finding] = []
    for code, detect in DETECTORS.items():
        if code in config.suppress:
            continue
        try:
            # Huge and non-finite values are expected input: no numpy warnings for them.
            with np.errstate(all="ignore"):
                found.extend(detect(ctx))
        except Exception as exc:  # noqa: BLE001
            # A detector must never cost the report; say what failed instead.
            found.append(
                Finding(
                    code="analysis_error",
                    severity="info",
                    run=ctx.run,
                    metric=None,
                    message=f"The {code} check could not run on this run ({type(exc).__name__}: {exc}).",
                    advice="Please report this with the log file.",
                    confidence=1.0,
                )
            )
    codes = {f.code for f in found}
    # One explanation per symptom: a diverged run is not also "too high"; an early
    # blow-up that recovered is a warmup question.
    if "divergence" in codes:
        found = [f for f in found if f.code not in ("lr_too_high", "lr_too_low", "plateau", "warmup_needed")]
    elif "warmup_needed" in codes:
        found = [f for f in found if f.code != "lr_too_high" or f.start_step is None or f.evidence.get("spikes", 0) > 3]
    if "lr_too_high" in codes:
        found = [f for f in found if f.code not in ("lr_too_low", "plateau")]
    if "overfitting" in codes:
        # A validation loss that climbs is not flat: the plateau is the overfitting.
        found = [f for f in found if not (f.code == "plateau" and f.metric == "val_loss")]
    if "schedule_too_aggressive" in codes:
        found = [f for f in found if f.code not in ("lr_too_low", "plateau")]
    return found


def _apply_sweep(ctx: RunContext, found: list[Finding]) -> list[Finding]:
    """Confirm, correct or add the LR findings of a run from its place in its sweep."""
    pos = ctx.sweep_position
    if pos is None:
        return found
    best = ctx.sweep_best_lr
    lo, hi = ctx.sweep_good_range or (best, best)
    ev = dict(ctx.sweep_evidence)
    codes = {f.code for f in found}
    if pos in ("best", "good", "near"):
        # The sweep shows this LR worked about as well as any: intrinsic LR doubts are noise,
        # unless the best LR sits at the edge of the grid (the whole grid may be off).
        grid_lo, grid_hi = ctx.sweep_grid or (None, None)
        keep_low = best == grid_hi and pos != "near"
        keep_high = best == grid_lo and pos != "near"
        return [
            f
            for f in found
            if not (f.code == "lr_too_low" and not keep_low) and not (f.code == "lr_too_high" and not keep_high)
        ]
    if pos in ("too_high", "failed") and ctx.nominal_lr and best and ctx.nominal_lr > best:
        found = [f for f in found if f.code != "lr_too_low"]
        for f in found:
            if f.code in TOO_HIGH:
                f.suggested_lr = best
                f.evidence.update(ev)
                f.advice = (
                    f"Use an LR of about {fmt(best)}: the best of its sweep ({_worked(lo, hi, ctx)}); "
                    "warmup and gradient clipping make the high end safer."
                )
        if not codes & set(TOO_HIGH):
            found.append(_sweep_finding(ctx, "lr_too_high", ev))
    elif pos == "too_low" and ctx.nominal_lr and best and ctx.nominal_lr < best:
        found = [f for f in found if f.code != "lr_too_high"]
        for f in found:
            if f.code == "lr_too_low":
                f.suggested_lr = best
                f.evidence.update(ev)
                f.advice = f"Use an LR of about {fmt(best)}: the best of its sweep ({_worked(lo, hi, ctx)})."
        if "lr_too_low" not in codes:
            found.append(_sweep_finding(ctx, "lr_too_low", ev))
    return found


def _worked(lo: float, hi: float, ctx: RunContext | None = None) -> str:
    text = f"LRs from {fmt(lo)} to {fmt(hi)} worked" if lo != hi else f"of the LRs tried, only {fmt(lo)} worked"
    grid = ctx.sweep_grid if ctx is not None else None
    if grid and ctx.sweep_best_lr == grid[1]:
        text += f"; {fmt(grid[1])} is the highest LR the sweep tried, so try higher ones too"
    elif grid and ctx.sweep_best_lr == grid[0]:
        text += f"; {fmt(grid[0])} is the lowest LR the sweep tried, so try lower ones too"
    return text


def _sweep_finding(ctx: RunContext, code: str, ev: dict) -> Finding:
    best = ctx.sweep_best_lr
    lo, hi = ctx.sweep_good_range or (best, best)
    lr = ctx.nominal_lr
    metric = ev.get("sweep_metric", "val_loss")
    score, best_score = ev.get("run_score"), ev.get("sweep_best_score")
    curve = ctx.val if metric == "val_loss" else ctx.train
    side = "higher" if code == "lr_too_high" else "lower"
    reached = "diverged" if score is not None and score == float("inf") else f"reached {fmt(score)}"
    return Finding(
        code=code,
        severity="warning",
        run=ctx.run,
        metric=metric,
        start_step=curve.first_step if curve is not None else None,
        end_step=curve.last_step if curve is not None else None,
        message=(
            f"At LR {fmt(lr)} this run {reached} (best {metric}), while the same set-up at LR {fmt(best)} reached "
            f"{fmt(best_score)}: its LR is {fmt(lr / best if best else None)}x the best of its sweep, on the {side} side."
        ),
        advice=f"Use an LR of about {fmt(best)} ({_worked(lo, hi, ctx)} in this sweep).",
        evidence={**ev, "lr": lr},
        confidence=0.8,
        suggested_lr=best,
    )


def analyze(runset: RunSet, config: Config | None = None, *, progress: bool | None = None) -> Analysis:
    """Run every detector on every run of ``runset``; see the module docstring."""
    config = config or Config()
    contexts = {run: build_context(runset, run, config) for run in runset.runs}
    lr_finds = {}
    lr_find_runs: set[str] = set()
    for run, ctx in contexts.items():
        if is_lr_find(ctx):
            lr_find_runs.add(run)
            with np.errstate(all="ignore"):  # damaged ramps (repeated LRs) are expected input
                res = analyze_lr_find(ctx)
            if res is not None:
                lr_finds[run] = res

    sweeps = find_sweeps(contexts, skip=lr_find_runs)
    findings: list[Finding] = []
    changes: dict[str, list[LRChange]] = {}
    bar = progress_bar(len(contexts), "analysing", progress)
    for run, ctx in contexts.items():
        with np.errstate(all="ignore"):
            changes[run] = _lr_changes(ctx)
        if run not in lr_find_runs:
            found = _apply_sweep(ctx, _run_detectors(ctx, config))
            findings.extend(f for f in found if f.code not in config.suppress)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return Analysis(runset, findings, sweeps=sweeps, lr_finds=lr_finds, lr_changes=changes)
