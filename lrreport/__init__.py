"""lrreport: what the learning rate did to your training run, in plain words.

    >>> import lrreport
    >>> runs = lrreport.load("logs/")          # every run under logs/, any format
    >>> analysis = lrreport.analyze(runs)      # findings with evidence and advice
    >>> lrreport.Report(analysis).save("report.html")
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import _environment

_environment.configure()  # before numba or matplotlib is imported: caches where they can be written

from .analyze import analyze  # noqa: E402
from .analyze.analysis import Analysis, Finding, LRFindResult, Sweep  # noqa: E402
from .ingest import LogReadError, load  # noqa: E402
from .report import Report  # noqa: E402
from .runs import ReadError, RunInfo, RunSet  # noqa: E402

__all__ = [
    "Analysis",
    "Finding",
    "LRFindResult",
    "LogReadError",
    "ReadError",
    "Report",
    "RunInfo",
    "RunSet",
    "Sweep",
    "__version__",
    "analyze",
    "load",
]
