"""A cache of per-source summaries, so a second analysis of a logdir redoes only what changed.

Each source found under a logdir (a run folder, or a file holding runs) is
fingerprinted by the files it is read from: path, size and modification time
in nanoseconds, as TensorBoard's reloader and ``make`` judge freshness. A
source whose fingerprint, lrreport version and settings are unchanged is not
read again: its summaries (:class:`~lrreport.analyze.summary.RunSummary`,
kilobytes each) come from the cache. A log that grows (training still
running) changes its size and is read again; the others cost a ``stat``.

The cache lives in ``$LRREPORT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lrreport``,
else ``~/.cache/lrreport``, in a folder only its owner can read (entries are
pickles: never load a cache another user can write). Where no such folder can
be made (a read-only home in a locked-down CI container) the cache is off and
everything is read afresh, with no error. Entries are written atomically;
ones unused for ``MAX_AGE_DAYS`` are removed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from . import __version__
from .ingest.detect import RunSource

__all__ = ["SummaryCache", "default_cache_dir", "fingerprint"]

ENV = "LRREPORT_CACHE_DIR"
MAX_AGE_DAYS = 30
#: Files beside a run's logs that readers also take settings from.
SIDE_FILES = ("hparams.yaml", "hparams.yml", "hparams.json", "meta.yaml")


def default_cache_dir() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lrreport"


def _files_of(src: RunSource) -> list[Path]:
    files: set[Path] = set()
    for _, part in src.parts:
        if part.is_dir():
            files.update(p for p in part.rglob("*") if p.is_file())
        else:
            files.add(part)
    if src.root.is_dir():
        files.update(src.root / n for n in SIDE_FILES if (src.root / n).is_file())
    return sorted(files)


def fingerprint(src: RunSource, settings: str) -> str:
    """A key that changes when any file the source is read from changes, or lrreport does."""
    h = hashlib.sha256()

    def add(text: str) -> None:  # a path that is not UTF-8 keeps its bytes (surrogateescape)
        h.update(text.encode("utf-8", "surrogateescape"))

    add(f"{__version__}\0{settings}\0{src.root}\0{src.single_file}\0")
    for kind, part in src.parts:
        add(f"{kind}\0{part}\0")
    for f in _files_of(src):
        try:
            st = f.stat()
        except OSError:
            add(f"{f}\0missing\0")
            continue
        add(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0")
    return h.hexdigest()


class SummaryCache:
    """Summaries by fingerprint, one file each."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = self._prepare()
        self.hits = 0
        self.misses = 0

    def _prepare(self) -> bool:
        try:
            (self.root / "summaries").mkdir(parents=True, exist_ok=True, mode=0o700)
            st = self.root.stat()
            # Only a folder of our own: a pickle from someone else's folder could run their code.
            if hasattr(os, "getuid") and st.st_uid != os.getuid():
                return False
            if stat.S_IMODE(st.st_mode) & 0o022:
                os.chmod(self.root, 0o700)
            probe = self.root / "summaries" / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
            return True
        except OSError:
            return False

    def _path(self, key: str) -> Path:
        return self.root / "summaries" / f"{key}.pkl"

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        p = self._path(key)
        try:
            with open(p, "rb") as fh:
                value = pickle.load(fh)
            os.utime(p)  # recently used: kept by the clean-up
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        if not self.enabled:
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=self.root / "summaries", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(key))
        except (OSError, pickle.PickleError, TypeError, AttributeError):
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass

    def clean(self, max_age_days: float = MAX_AGE_DAYS) -> int:
        """Remove entries unused for ``max_age_days``; how many went."""
        if not self.enabled:
            return 0
        limit = time.time() - max_age_days * 86400
        gone = 0
        for p in (self.root / "summaries").glob("*.pkl"):
            try:
                if p.stat().st_mtime < limit:
                    p.unlink()
                    gone += 1
            except OSError:
                continue
        return gone
