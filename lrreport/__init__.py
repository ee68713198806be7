"""lrreport: what the learning rate did to your training run, in plain words.

    >>> import lrreport
    >>> runs = lrreport.load("logs/")          # every run under logs/, any format
    >>> analysis = lrreport.analyze(runs)      # findings with evidence and advice
    >>> lrreport.Report(analysis).save("report.html")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .analyze import analyze
from .analyze.analysis import Analysis, Finding, LRFindResult, Sweep
from .ingest import LogReadError, load
from .report import Report
from .runs import ReadError, RunInfo, RunSet

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
