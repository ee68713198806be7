"""The one progress bar policy: on stderr, for long work, on a terminal, never under CI."""

from __future__ import annotations

import os
import sys

__all__ = ["compile_notice", "notify_compile", "progress_bar"]

#: Fewer items than this finish before a bar would help.
MIN_ITEMS = 20


def progress_bar(total: int, desc: str, enabled: bool | None = None):
    """A tqdm bar on stderr, or None. ``enabled=None`` decides: at least MIN_ITEMS items,
    stderr is a terminal, and CI is not set."""
    if enabled is None:
        enabled = (
            total >= MIN_ITEMS and sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
        )
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, leave=False)


#: Modules whose numba kernels are compiled on first use and cached (``cache=True``).
COMPILED_MODULES = ("lrreport.ingest._tfrecord",)
#: Set by the CLI (unless --no-progress): say it once when the event-file kernel is about to
#: be compiled. Only inputs past the Python reader's budget ever get there (ingest/_scan.py).
NOTIFY = False
_notified = False


def notify_compile() -> None:
    """Print the compile notice to stderr, once per process, when NOTIFY is on and needed."""
    global _notified
    if not NOTIFY or _notified:
        return
    _notified = True
    notice = compile_notice()
    if notice:
        print(notice, file=sys.stderr, flush=True)


def compile_notice() -> str | None:
    """A one-line notice when numba has not yet cached lrreport's compiled readers on this
    machine (the first run after an install compiles them, for about 20 s); None otherwise,
    or when it cannot tell."""
    import importlib
    import os

    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:
        return None
    missing = 0
    for name in COMPILED_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        indexes = []
        for fn in vars(module).values():
            if not isinstance(fn, CPUDispatcher) or getattr(fn, "_cache", None) is None:
                continue
            try:
                indexes.append(fn._cache._cache_file._index_path)  # numba's cache index for the function
            except AttributeError:
                return None  # another numba: do not guess
        # Some kernels are only ever inlined into others: a module counts as compiled when any is cached.
        missing += bool(indexes) and not any(os.path.exists(i) for i in indexes)
    if not missing:
        return None
    return "lrreport: first large input on this machine: compiling the event-file reader (10-25 s, once; later runs start at once)"
