"""What the report needs of one run, and nothing more: the unit a worker sends back.

Analysing a thousand runs must not cost a thousand runs' points in one
process. :func:`summarize_run` analyses one run on its own (its findings
before the sweeps are known, its LR changes, its sweep profile) and keeps what
the outputs draw: each metric downsampled to the sizes the report asks for
(each bucket's first, lowest, highest and last point, and every NaN/Inf, so
spikes survive), the epoch trace without its finding notes, the LR range
test's (lr, loss) pairs. :func:`lrreport.analyze.combine_summaries` then finds
the sweeps and makes the verdicts from these alone, and gives the same
:class:`~.analysis.Analysis` (byte for byte, in every output) as analysing the
full RunSet would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..runs import RunInfo, RunSet, Series
from .config import Config
from .per_run import RunResult, analyze_run
from .signals import downsample_keep_extremes
from .trace import TraceBase, trace_base

__all__ = ["COMPACT_ABOVE", "COMPACT_POINTS", "DISPLAY_POINTS", "SMALL_POINTS", "RunSummary", "summarize_run"]

#: The sizes the report draws series at: a run's main chart, the same in a long report
#: (compact), and the small charts (sweep overlays, LR range tests, NaN checks).
DISPLAY_POINTS, COMPACT_POINTS, SMALL_POINTS = 1000, 500, 300
#: A report of more runs than this draws its main charts at COMPACT_POINTS.
COMPACT_ABOVE = 100


@dataclass
class RunSummary:
    """One run, analysed alone, as small as the report allows."""

    info: RunInfo
    result: RunResult
    #: (metric, max_points) -> the display series (at most about max_points points)
    display: dict[tuple[str, int], Series] = field(default_factory=dict)
    trace: TraceBase | None = None
    lr_find: tuple[np.ndarray, np.ndarray] | None = None  #: (lr, loss) of an LR range test, in step order

    def series(self, metric: str, max_points: int | None) -> Series | None:
        """The display series at one of the stored sizes; another size is cut from the largest
        stored copy (what a caller outside the report may ask for)."""
        sizes = sorted(n for m, n in self.display if m == metric)
        if not sizes:
            return None
        if max_points in sizes:
            return self.display[(metric, max_points)]
        s = self.display[(metric, sizes[-1])]
        if max_points is None or len(s) <= max_points:
            return s
        return _cut(s, max_points)


def _cut(s: Series, max_points: int) -> Series:
    if len(s) <= max_points:
        return s
    idx = downsample_keep_extremes(s.value, max_points)
    return Series(run=s.run, metric=s.metric, step=s.step[idx], value=s.value[idx], epoch=s.epoch[idx])


def lr_find_pairs(runset: RunSet, run: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(lr, loss) at the steps that log both, in step order."""
    loss, lr = runset.series(run, "train_loss"), runset.series(run, "lr")
    if loss is None or lr is None:
        return None
    _, il, ir = np.intersect1d(loss.step, lr.step, return_indices=True)
    return lr.value[ir], loss.value[il]


def summarize_run(runset: RunSet, run: str, config: Config, *, compact: bool = False) -> RunSummary:
    """Analyse ``run`` of ``runset`` alone and keep what the outputs need. ``compact``: the
    report will hold many runs and draw main charts at COMPACT_POINTS."""
    result = analyze_run(runset, run, config)
    sizes = (COMPACT_POINTS if compact else DISPLAY_POINTS, SMALL_POINTS)
    display: dict[tuple[str, int], Series] = {}
    for metric in runset.runs[run].metrics:
        s = runset.series(run, metric)
        if s is None:
            continue
        for n in sizes:
            display[(metric, n)] = _cut(s, n)
    with np.errstate(all="ignore"):
        trace = trace_base(runset, run, result.lr_changes)
    pairs = lr_find_pairs(runset, run) if result.lr_find is not None else None
    return RunSummary(info=runset.runs[run], result=result, display=display, trace=trace, lr_find=pairs)
