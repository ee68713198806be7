"""Watch a logdir while training writes it, and renew the report as it grows.

TensorBoard reloads its logdir every few seconds; ``lrreport analyze --watch``
does the same for the report: it analyses the logdir, writes the outputs, then
polls the files' fingerprints (path, size, modification time) every
``interval`` seconds and analyses again when one changed or a run appeared.
The summary cache (:mod:`lrreport.cache`) makes each renewal re-read only the
sources that changed. The readers never take a half-written record or line as
data (an event file's truncated last record, a CSV or MLflow metric file's
last line without its newline: held back until complete), so every report
written while a run trains shows a consistent prefix of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .analyze.analysis import Analysis
from .cache import SummaryCache, fingerprint
from .ingest.detect import discover

__all__ = ["watch"]


def _state(logdir: Path, allow_pickle: bool) -> tuple[str, ...]:
    """What the logdir holds now: each source's fingerprint (new runs, grown files)."""
    return tuple(sorted(fingerprint(s, "") for s in discover(logdir, allow_pickle)))


def watch(
    path: str | Path,
    on_analysis: Callable[[Analysis, int], Any],
    *,
    interval: float = 5.0,
    stop: threading.Event | None = None,
    max_updates: int | None = None,
    cache: SummaryCache | None = None,
    **analyze_kwargs: Any,
) -> int:
    """Analyse ``path`` now and again whenever it changes, calling ``on_analysis(analysis, n)``
    after each analysis (n = 1, 2, ...), until ``stop`` is set or ``max_updates`` were made.
    Returns how many analyses were made."""
    from .pipeline import analyze_logdir

    logdir = Path(path)
    stop = stop or threading.Event()
    cache = cache if cache is not None else SummaryCache()
    allow_pickle = bool(analyze_kwargs.get("allow_pickle", False))
    updates = 0
    last: tuple[str, ...] | None = None
    while not stop.is_set():
        state = _state(logdir, allow_pickle) if logdir.exists() else ()
        if state != last:
            analysis = analyze_logdir(logdir, cache=cache, **analyze_kwargs)
            updates += 1
            on_analysis(analysis, updates)
            last = state
            if max_updates is not None and updates >= max_updates:
                break
        stop.wait(interval)
    return updates
