"""The analysis of one run, on its own: detectors, LR changes, LR range test, sweep profile.

:func:`analyze_run` needs only the run's own points and returns a small
:class:`RunResult` (findings, the LR changes, the sweep profile: no raw
points), so runs can be analysed one at a time, in parallel, or elsewhere;
:func:`lrreport.analyze.analyze` then finds the sweeps among the profiles,
lets each run's place in its sweep confirm, correct or add LR findings
(:func:`apply_sweep`), and weighs each run's findings into its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..runs import RunSet
from . import lr_story, signals
from .analysis import Finding, LRChange, LRFindResult
from .config import Config
from .context import RunContext, build_context
from .detectors import DETECTORS
from .detectors._common import fmt
from .lrfind import analyze_lr_find, is_lr_find
from .sweeps import Placement, SweepProfile, profile_run

__all__ = ["RunResult", "analyze_run", "apply_sweep"]

TOO_HIGH = ("divergence", "lr_too_high")


@dataclass
class RunResult:
    """What the analysis of one run produced before the sweeps were known."""

    run: str
    findings: list[Finding]
    lr_changes: list[LRChange] = field(default_factory=list)
    lr_find: LRFindResult | None = None
    is_lr_find: bool = False
    profile: SweepProfile | None = None
    nominal_lr: float | None = None
    hparams: dict = field(default_factory=dict)


def _lr_changes(ctx: RunContext) -> list[LRChange]:
    """Each LR change with what it did to the losses (:mod:`.lr_story`)."""
    if ctx.lr is None:
        return []
    losses = {c.series.metric: (c.step, c.value) for c in (ctx.train, ctx.val) if c is not None}
    ep = ctx.epochs
    epochs = ep is not None and ep.how == "epoch"
    axis = lr_story.story_axis(
        int(ctx.lr.step[0]), int(ctx.lr.step[-1]), ep.step if epochs else None, ep.labels if epochs else None
    )
    try:
        return lr_story.describe_changes(ctx.lr.step, ctx.lr.value, losses, axis)
    except Exception:  # noqa: BLE001 - the story is a nicety: never let it cost the run
        return [LRChange(s, b, a) for s, b, a in signals.lr_changes(ctx.lr.step, ctx.lr.value)]


def run_detectors(ctx: RunContext, config: Config) -> list[Finding]:
    """Every detector's findings on one run (no weighing: that is the verdict's job)."""
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
    return found


def analyze_run(runset: RunSet, run: str, config: Config) -> RunResult:
    """Analyse one run of ``runset`` (which may hold only that run)."""
    ctx = build_context(runset, run, config)
    with np.errstate(all="ignore"):
        changes = _lr_changes(ctx)
    if is_lr_find(ctx):
        with np.errstate(all="ignore"):  # damaged ramps (repeated LRs) are expected input
            res = analyze_lr_find(ctx)
        return RunResult(run, [], changes, res, True, None, ctx.nominal_lr, dict(ctx.info.hparams))
    with np.errstate(all="ignore"):
        profile = profile_run(ctx)
    return RunResult(run, run_detectors(ctx, config), changes, None, False, profile, ctx.nominal_lr, dict(ctx.info.hparams))


def apply_sweep(result: RunResult, place: Placement | None) -> list[Finding]:
    """Confirm, correct or add the LR findings of a run from its place in its sweep."""
    found = result.findings
    if place is None:
        return found
    pos = place.position
    best = place.best_lr
    lr = result.nominal_lr
    ev = dict(place.evidence)
    codes = {f.code for f in found}
    if pos in ("best", "good", "near"):
        # The sweep shows this LR worked about as well as any: intrinsic LR doubts are noise,
        # unless the best LR sits at the edge of the grid (the whole grid may be off).
        grid_lo, grid_hi = place.grid
        keep_low = best == grid_hi and pos != "near"
        keep_high = best == grid_lo and pos != "near"
        return [
            f
            for f in found
            if not (f.code == "lr_too_low" and not keep_low) and not (f.code == "lr_too_high" and not keep_high)
        ]
    if pos in ("too_high", "failed") and lr and best and lr > best:
        found = [f for f in found if f.code not in ("lr_too_low", "plateau")]
        for f in found:
            if f.code in TOO_HIGH:
                f.suggested_lr = best
                f.evidence.update(ev)
                f.advice = (
                    f"Use an LR of about {fmt(best)}: the best of its sweep ({_worked(place)}); "
                    "warmup and gradient clipping make the high end safer."
                )
        if not codes & set(TOO_HIGH):
            found.append(_sweep_finding(result, place, "lr_too_high"))
    elif pos == "too_low" and lr and best and lr < best:
        found = [f for f in found if f.code not in ("lr_too_high", "plateau")]
        for f in found:
            if f.code == "lr_too_low":
                f.suggested_lr = best
                f.evidence.update(ev)
                f.advice = f"Use an LR of about {fmt(best)}: the best of its sweep ({_worked(place)})."
        if "lr_too_low" not in codes:
            found.append(_sweep_finding(result, place, "lr_too_low"))
    return found


def _worked(place: Placement) -> str:
    lo, hi = place.good_range
    text = f"LRs from {fmt(lo)} to {fmt(hi)} worked" if lo != hi else f"of the LRs tried, only {fmt(lo)} worked"
    grid = place.grid
    if place.best_lr == grid[1]:
        text += f"; {fmt(grid[1])} is the highest LR the sweep tried, so try higher ones too"
    elif place.best_lr == grid[0]:
        text += f"; {fmt(grid[0])} is the lowest LR the sweep tried, so try lower ones too"
    return text


def _sweep_finding(result: RunResult, place: Placement, code: str) -> Finding:
    best = place.best_lr
    lr = result.nominal_lr
    ev = place.evidence
    metric = ev.get("sweep_metric", "val_loss")
    score, best_score = ev.get("run_score"), ev.get("sweep_best_score")
    span = result.profile.span.get(metric) if result.profile is not None else None
    side = "higher" if code == "lr_too_high" else "lower"
    reached = "diverged" if score is not None and score == float("inf") else f"held {fmt(score)} at best"
    return Finding(
        code=code,
        severity="warning",
        run=result.run,
        metric=metric,
        start_step=span[0] if span else None,
        end_step=span[1] if span else None,
        message=(
            f"At LR {fmt(lr)} this run {reached} ({metric}), while the same set-up"
            f"{' and seed' if ev.get('sweep_same_seed') else ''} at LR {fmt(best)} held "
            f"{fmt(best_score)}: its LR is {fmt(lr / best if best and lr else None)}x the best of its sweep, "
            f"on the {side} side."
        ),
        advice=f"Use an LR of about {fmt(best)} ({_worked(place)} in this sweep).",
        evidence={**ev, "lr": lr},
        confidence=0.8,
        suggested_lr=best,
    )
