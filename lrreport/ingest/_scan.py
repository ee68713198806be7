"""Which reader parses an event file: Python for the first megabytes of a process, numba after.

Both readers return the same results for the same bytes (tests hold them to
it, damaged files included); they differ in what they cost:

* :mod:`._tfrecord_py` (Python and numpy) costs nothing to start and parses
  about 6 MB of scalar events a second (~8 us a record);
* :mod:`._tfrecord` (numba) parses ~400-700 MB a second, but a process pays
  0.3-0.5 s to import numba and load the compiled kernel from numba's cache, and
  the first run after an install compiles it: 7-20 s on a 2-core machine.

So a process reads its first :data:`PYTHON_BYTES` of event files in Python and
switches to the kernel only once the input is large enough to pay that back.
``lrreport analyze sample_logs`` (0.3 MB of event files) never imports numba;
a logdir of hundreds of megabytes loses at most ~1.3 s to the Python reader
before the kernel takes over. Once the kernel has run in a process, every
later file goes to it.
"""

from __future__ import annotations

import importlib.util
import sys
import threading

import numpy as np

from . import _tfrecord_py
from ._tfrecord_py import (
    N_STATS,
    STAT_CORRUPT,
    STAT_MALFORMED,
    STAT_RECORDS,
    STAT_SKIPPED_BYTES,
    STAT_TRUNCATED,
)

__all__ = [
    "N_STATS",
    "PYTHON_BYTES",
    "STAT_CORRUPT",
    "STAT_MALFORMED",
    "STAT_RECORDS",
    "STAT_SKIPPED_BYTES",
    "STAT_TRUNCATED",
    "kernel_used",
    "purge_superseded",
    "scan_events",
]

#: Bytes of event files a process parses in Python before it hands files to the numba kernel.
#: 8 MB take ~1.3 s in Python; the kernel costs ~0.8 s to start from a warm cache and 7-20 s
#: to compile after an install, so below this the Python reader wins or loses little.
PYTHON_BYTES = 8 << 20

_lock = threading.Lock()
_python_bytes = 0
_kernel_ready = False


def _take_python_budget(nbytes: int) -> bool:
    global _python_bytes
    with _lock:
        if _kernel_ready or _python_bytes + nbytes > PYTHON_BYTES:
            return False
        _python_bytes += nbytes
        return True


def _skip_blas_probe() -> None:
    """Load numba's array-math registry without its BLAS probe.

    numba's CPU target imports ``numba.np.arraymath`` before it compiles or loads any
    function, and that module decides whether ``np.dot`` may call BLAS by importing
    ``scipy.linalg`` - about 0.3 s, most of what loading the cached reader costs in a fresh
    process, for a kernel that does no linear algebra. The probe's import is hidden for
    that one import, and numba's flag is set from whether scipy is installed at all, which
    is what the probe finds on any working scipy: jitted code that calls ``np.dot`` later
    in the process behaves as before."""
    key = "scipy.linalg.cython_blas"
    if "numba.np.arraymath" in sys.modules or key in sys.modules:
        return
    sys.modules[key] = None  # type: ignore[assignment]  # makes the import raise ImportError
    try:
        import numba.np.arraymath as arraymath
    finally:
        if key in sys.modules and sys.modules[key] is None:
            del sys.modules[key]
    arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None


def _kernel():
    global _kernel_ready
    # Imports numba; the first call compiles the kernel unless numba's cache has it.
    if not _kernel_ready:
        from ..progress import notify_compile

        notify_compile()
        try:
            _skip_blas_probe()
        except Exception:  # noqa: BLE001 - a numba without this module: nothing to skip
            pass
    from . import _tfrecord

    _kernel_ready = True
    return _tfrecord


def kernel_used() -> bool:
    """Whether this process has handed anything to the numba kernel."""
    return _kernel_ready


def scan_events(buf: np.ndarray):
    """Parse every record of an event file held in ``buf``; see :func:`._tfrecord.scan_events`."""
    if _take_python_budget(int(buf.shape[0])):
        return _tfrecord_py.scan_events(buf)
    return _kernel().scan_events(buf)


def purge_superseded(tag_id, step, tag_stream, start_pos, start_step, start_stream) -> np.ndarray:
    """Keep-mask of TensorBoard's purge after restarts; see :func:`._tfrecord.purge_superseded`."""
    if _kernel_ready:  # the run was large enough for the kernel to read: its purge is compiled
        return _kernel().purge_superseded(tag_id, step, tag_stream, start_pos, start_step, start_stream)
    return _tfrecord_py.purge_superseded(tag_id, step, tag_stream, start_pos, start_step, start_stream)
