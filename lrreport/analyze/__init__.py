"""Analyze: one verdict per run, with its findings, the sweeps and the LR range tests.

``analyze(runset)`` works in three passes:

1. **Each run alone** (:func:`.per_run.analyze_run`): the detectors of
   :mod:`.detectors` on the run's curves, its LR changes, and a small sweep
   profile (its LR, set-up and robust score). LR range tests are recognised
   and analysed on their own: their blow-up at the end is the point of the test.
2. **Sweeps** (:mod:`.sweeps`): runs of one set-up that differ in their LR;
   each member's place confirms, corrects or adds its ``lr_too_high`` /
   ``lr_too_low`` findings and gives them the LR that worked.
3. **Verdicts** (:mod:`.verdict`): each run's findings weighed into one
   diagnosis, the symptoms folded into their cause.

Codes in ``config.suppress`` are dropped before the verdict is made.
"""

from __future__ import annotations

from ..progress import progress_bar
from ..runs import RunSet
from .analysis import Analysis, Finding, Verdict
from .config import Config, load_config
from .per_run import RunResult, analyze_run, apply_sweep
from .sweeps import assign_sweeps
from .verdict import decide

__all__ = [
    "Analysis",
    "Config",
    "Finding",
    "RunResult",
    "Verdict",
    "analyze",
    "analyze_run",
    "combine_summaries",
    "load_config",
]


def analyze(runset: RunSet, config: Config | None = None, *, progress: bool | None = None) -> Analysis:
    """Analyse every run of ``runset``; see the module docstring."""
    config = config or Config()
    bar = progress_bar(len(runset.runs), "analysing", progress)
    results: dict[str, RunResult] = {}
    for run in runset.runs:
        results[run] = analyze_run(runset, run, config)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return combine(runset, results, config)


def combine_summaries(
    logdir: str, summaries: dict, errors: list, config: Config | None = None, notes: list | None = None
) -> Analysis:
    """The Analysis of runs analysed one by one (:func:`.summary.summarize_run`, in workers
    or on a cluster): sweeps and verdicts from their summaries alone. The RunSet it holds
    has each run's metadata and no points; every output reads the summaries instead."""
    from ..runs import SCALARS_SCHEMA
    import polars as pl

    config = config or Config()
    names = sorted(summaries)
    runset = RunSet(logdir, pl.DataFrame(schema=SCALARS_SCHEMA), {n: summaries[n].info for n in names},
                    errors, notes or [])
    results = {n: summaries[n].result for n in names}
    return combine(runset, results, config, summaries={n: summaries[n] for n in names})


def combine(runset: RunSet, results: dict[str, RunResult], config: Config, summaries: dict | None = None) -> Analysis:
    """Sweeps and verdicts from the per-run results (pass 2 and 3)."""
    profiles = [r.profile for r in results.values() if r.profile is not None]
    sweeps, places = assign_sweeps(profiles, config.sweep_good_factor)
    findings: list[Finding] = []
    verdicts: dict[str, Verdict] = {}
    for run, res in results.items():
        found = apply_sweep(res, places.get(run))
        found = [f for f in found if f.code not in config.suppress]
        verdicts[run], kept = decide(run, found)
        findings.extend(kept)
    return Analysis(
        runset,
        findings,
        sweeps=sweeps,
        lr_finds={run: r.lr_find for run, r in results.items() if r.lr_find is not None},
        lr_changes={run: r.lr_changes for run, r in results.items()},
        verdicts=verdicts,
        summaries=summaries,
    )
