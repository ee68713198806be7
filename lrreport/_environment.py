"""Where compiled code and matplotlib's cache go, so lrreport runs locked down.

A CI container often has a read-only install and no writable HOME. numba's
``@njit(cache=True)`` then has no place for its cache and refuses to decorate
(``RuntimeError: cannot cache function``: ``import lrreport`` failed), and
matplotlib warns at length before falling back to a temporary folder.

:func:`configure` runs once, before anything imports numba or matplotlib:

* numba caches beside the package (``__pycache__``) or in the user cache
  (``$XDG_CACHE_HOME/numba``, ``~/.cache/numba``); when neither is writable
  and ``NUMBA_CACHE_DIR`` is not set, it is pointed at a private folder in the
  temporary directory (created 0700, used only if owned by this user and not
  writable by others: numba's cache files are pickles, so a folder someone else
  could write to would run their code). When no folder at all is writable, the
  kernels are compiled without a cache (:data:`JIT_CACHE` is False) and one
  line on stderr says the start will be slower. ``LRREPORT_NO_JIT_CACHE=1``
  asks for that explicitly.
* matplotlib gets the same private temporary folder through ``MPLCONFIGDIR``
  when its config or cache folder is not writable (and the variable not set).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["JIT_CACHE", "configure"]

#: Whether the numba kernels are compiled with ``cache=True`` (set by :func:`configure`).
JIT_CACHE = True


def _writable_dir(path: Path) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
        return True
    except (OSError, ValueError):
        return False


def _private_temp_dir(name: str) -> Path | None:
    """``<tmp>/lrreport-<uid>/<name>``, only if it is ours and only we can write it."""
    try:
        uid = os.getuid() if hasattr(os, "getuid") else 0
        base = Path(tempfile.gettempdir()) / f"lrreport-{uid}"
        base.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(base)
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            return None
        if hasattr(os, "getuid") and (st.st_uid != uid or st.st_mode & 0o022):
            return None
        path = base / name
        path.mkdir(mode=0o700, exist_ok=True)
        return path if _writable_dir(path) else None
    except (OSError, ValueError):
        return None


def _user_dir(env: str, default: str) -> Path:
    given = os.environ.get(env)
    return Path(given) if given else Path(os.path.expanduser(default))


def _numba_cache_ok() -> bool:
    here = Path(__file__).resolve().parent
    in_tree = all(_writable_dir(here / sub / "__pycache__") for sub in ("ingest", "analyze"))
    return in_tree or _writable_dir(_user_dir("XDG_CACHE_HOME", "~/.cache") / "numba")


def configure() -> None:
    """Point numba's and matplotlib's caches somewhere writable (see the module docstring)."""
    global JIT_CACHE
    if os.environ.get("LRREPORT_NO_JIT_CACHE", "").lower() in ("1", "true", "yes"):
        JIT_CACHE = False
    elif not os.environ.get("NUMBA_CACHE_DIR") and not _numba_cache_ok():
        folder = _private_temp_dir("numba")
        if folder is None:
            JIT_CACHE = False
            sys.stderr.write("lrreport: no writable folder for numba's cache: compiling at every start (slower)\n")
        else:
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            numba_config = sys.modules.get("numba.core.config")
            if numba_config is not None:  # numba imported before lrreport: it read the variable already
                numba_config.CACHE_DIR = str(folder)
    if not os.environ.get("MPLCONFIGDIR") and "matplotlib" not in sys.modules:
        config = _user_dir("XDG_CONFIG_HOME", "~/.config") / "matplotlib"
        cache = _user_dir("XDG_CACHE_HOME", "~/.cache") / "matplotlib"
        if not (_writable_dir(config) and _writable_dir(cache)):
            folder = _private_temp_dir("matplotlib")
            if folder is not None:
                os.environ["MPLCONFIGDIR"] = str(folder)
