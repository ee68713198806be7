"""Opening the files readers touch: regular files only, never blocking, capped in size and time.

Every byte a reader takes from a log goes through this module, so one set of
guarantees covers every format:

* **No blocking, no endless reads.** A path is opened with ``O_NONBLOCK`` (a FIFO
  opens at once instead of waiting for a writer) and ``O_NOCTTY``, and
  ``fstat`` on the opened descriptor decides: anything but a regular file (a
  FIFO, socket, ``/dev/zero`` or a link to one) is refused with a one-line
  :class:`~lrreport.ingest.base.LogReadError`. Deciding on the opened
  descriptor, not on a ``stat`` before it, leaves no window for a swap.
* **A size cap per file**, per kind of file (:data:`DEFAULT_CAPS`), set for
  all data files at once by ``load(max_file_bytes=...)`` / ``--max-file-size``.
  Reads never go past the size the file had when it was opened, so a writer
  appending while we read cannot make a read grow without end.
* **A time budget per file** (cooperative): readers whose loops run in Python
  call :func:`check_time`; a file that takes longer than
  ``ReadLimits.max_seconds`` stops with a clear error instead of holding a CI
  job. The compiled event-file kernel and polars' CSV reader are linear in the
  bytes they are given, which the size cap bounds.
* **Live files.** :func:`complete_lines` returns the bytes up to the last line
  end and the size of the unterminated tail: a line still being written is held
  back (and counted) instead of being read as data (``0.0723133`` for
  ``0.07231330071735642``).

The limits in force are a context variable: :func:`lrreport.ingest.load` sets
them once and every reader, however deep, sees them.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .base import LogReadError

__all__ = [
    "DEFAULT_CAPS",
    "ReadLimits",
    "check_time",
    "collecting_links",
    "complete_lines",
    "current_limits",
    "file_budget",
    "format_size",
    "open_log",
    "parse_size",
    "path_display",
    "read_array",
    "read_bytes",
    "read_head",
    "read_head_tail",
    "using_limits",
]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

#: Default size cap per kind of file. Formats parsed as a whole in memory (JSON,
#: CSV, YAML, pickles) get lower caps than the streamed or compiled ones: a
#: JSON document takes several times its size once parsed.
DEFAULT_CAPS: dict[str, int] = {
    "tfevents": 2 * GiB,  # read whole, parsed by the compiled kernel at memory speed
    "wandb": 2 * GiB,
    "text": 1 * GiB,  # streamed line by line
    "mlflow": 512 * MiB,  # streamed line by line
    "csv": 512 * MiB,  # polars holds every cell as text
    "json": 256 * MiB,  # json.loads: about 4-8x its size in Python objects
    "pickle": 64 * MiB,
    "notebook": 64 * MiB,
}
#: Settings files (hparams.yaml, meta.yaml, config.yaml, MLflow params and tags): small
#: by nature, read with the pure-Python YAML parser; a user's data cap does not raise it.
CONFIG_CAP = 4 * MiB

#: Per file: time after which a reader's Python loop gives up (cooperative, see check_time).
DEFAULT_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class ReadLimits:
    """The bounds every reader works within. ``max_file_bytes`` None: each kind's default."""

    max_file_bytes: int | None = None
    max_seconds: float = DEFAULT_MAX_SECONDS
    #: The logdir (its real path): a file read from outside it, through a link, is noted.
    root: str | None = None

    def cap(self, kind: str) -> int:
        if kind == "config":
            return CONFIG_CAP
        if self.max_file_bytes is not None:
            return self.max_file_bytes
        return DEFAULT_CAPS.get(kind, 2 * GiB)


_LIMITS: contextvars.ContextVar[ReadLimits] = contextvars.ContextVar("lrreport_read_limits", default=ReadLimits())
_DEADLINE: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar("lrreport_deadline", default=None)
_LINKS: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar("lrreport_links", default=None)


@contextlib.contextmanager
def collecting_links() -> Iterator[list[tuple[str, str]]]:
    """Collect (path, real path) of every file opened inside that lies outside the logdir."""
    found: list[tuple[str, str]] = []
    token = _LINKS.set(found)
    try:
        yield found
    finally:
        _LINKS.reset(token)


def _note_if_outside(path: str | os.PathLike) -> None:
    found = _LINKS.get()
    root = current_limits().root
    if found is None or not root:
        return
    real = os.path.realpath(path)
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        found.append((os.fspath(path), real))


def current_limits() -> ReadLimits:
    return _LIMITS.get()


@contextlib.contextmanager
def using_limits(limits: ReadLimits) -> Iterator[ReadLimits]:
    """Readers called inside see ``limits`` (threads: run them in a copied context)."""
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


@contextlib.contextmanager
def file_budget(path: str | os.PathLike) -> Iterator[None]:
    """Start the time budget of one file (or run) being read; :func:`check_time` enforces it."""
    token = _DEADLINE.set((time.monotonic() + current_limits().max_seconds, str(path)))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_time(path: str | os.PathLike | None = None) -> None:
    """Raise LogReadError when the current file's time budget is spent (cheap: call it often)."""
    d = _DEADLINE.get()
    if d is not None and time.monotonic() > d[0]:
        limit = current_limits().max_seconds
        raise LogReadError(path or d[1], f"reading took longer than the {limit:g} s limit per file: stopped")


def format_size(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def parse_size(text: str) -> int:
    """``"2G"``, ``"512MiB"``, ``"100k"``, ``"1000000"`` -> bytes (ValueError when malformed)."""
    t = str(text).strip().lower().replace(" ", "")
    for suffix in ("ib", "b"):
        if t.endswith(suffix) and t[: -len(suffix)][-1:].isalpha():
            t = t[: -len(suffix)]
            break
    else:
        if t.endswith("b"):
            t = t[:-1]
    mult = {"k": KiB, "m": MiB, "g": GiB, "t": GiB << 10}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    value = float(t)  # ValueError for garbage
    if not value >= 0 or value * mult > 1 << 62:
        raise ValueError(f"not a size: {text!r}")
    return int(value * mult)


def _kind_of_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "vanished while being read (deleted or rotated?)"
    return exc.strerror or str(exc)


@contextlib.contextmanager
def open_log(path: str | os.PathLike, kind: str | None) -> Iterator[tuple[object, int]]:
    """Open a log file for reading: (binary file object, its size at open). Refuses special
    files and files over the cap of ``kind`` (None: no cap) with LogReadError; never blocks."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise LogReadError(path, f"cannot read: {_reason(exc)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LogReadError(path, f"skipped: {_kind_of_mode(st.st_mode)}, not a regular file (reading it could block or never end)")
        cap = current_limits().cap(kind) if kind is not None else None
        if cap is not None and st.st_size > cap:
            raise LogReadError(
                path,
                f"{format_size(st.st_size)} is over the {format_size(cap)} size cap for {kind} files "
                "(raise it with --max-file-size or load(max_file_bytes=...))",
            )
        if hasattr(os, "O_NONBLOCK"):
            try:
                import fcntl

                fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            except (ImportError, OSError):
                pass
        fh = os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
    _note_if_outside(path)
    with fh:
        yield fh, st.st_size


def _read_upto(fh, size: int, path) -> bytes:
    chunks = []
    left = size
    try:
        first = fh.read(size) if size else b""  # one allocation for the usual single read
        if len(first) == size or not first:
            return first
        chunks.append(first)
        left -= len(first)
        while left > 0:
            b = fh.read(min(left, 16 * MiB))
            if not b:
                break  # the file shrank while we read (truncated by its writer): keep what we have
            chunks.append(b)
            left -= len(b)
    except OSError as exc:
        raise LogReadError(path, f"cannot read: {_reason(exc)}") from None
    return b"".join(chunks)


def read_bytes(path: str | os.PathLike, kind: str) -> bytes:
    """The whole file as it was when opened (bounded by the kind's cap)."""
    with open_log(path, kind) as (fh, size):
        return _read_upto(fh, size, path)


def read_head(path: str | os.PathLike, n: int) -> bytes:
    """The first ``n`` bytes of a regular file (b"" for anything else: sniffing never raises).
    No size cap: only the head is read."""
    try:
        with open_log(path, None) as (fh, size):
            return _read_upto(fh, min(n, size), path)
    except LogReadError:
        return b""


def complete_lines(data: bytes) -> tuple[bytes, int]:
    """(``data`` up to and including its last ``\\n``, length of the unterminated tail held back)."""
    end = data.rfind(b"\n")
    if end == len(data) - 1:
        return data, 0
    return data[: end + 1], len(data) - end - 1


def path_display(path: str | os.PathLike) -> str:
    """A path as text that always encodes: bytes that are not UTF-8 in a name are shown as ``\\xNN``."""
    s = os.fspath(path)
    if isinstance(s, bytes):
        return s.decode("utf-8", "backslashreplace")
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return os.fsencode(s).decode("utf-8", "backslashreplace")


def is_inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
        return True
    except ValueError:
        return False


def read_head_tail(path: str | os.PathLike, head: int, tail: int) -> tuple[bytes, bytes, int]:
    """(first ``head`` bytes, last ``tail`` bytes when the file is longer than both, size);
    empty for anything that is not a regular file. Never raises: it is for sniffing."""
    try:
        with open_log(path, None) as (fh, size):
            h = _read_upto(fh, min(head, size), path)
            t = b""
            if size > head + tail:
                fh.seek(size - tail)
                t = _read_upto(fh, tail, path)
            return h, t, size
    except (LogReadError, OSError):
        return b"", b"", 0


def read_array(path: str | os.PathLike, kind: str):
    """The whole file (as it was when opened, within the kind's cap) as a uint8 numpy array,
    read straight into it: no second copy of a large file."""
    import numpy as np

    with open_log(path, kind) as (fh, size):
        buf = np.empty(size, dtype=np.uint8)
        view = memoryview(buf)
        got = 0
        try:
            while got < size:
                k = fh.readinto(view[got : got + 16 * MiB])
                if not k:
                    break  # the file shrank while we read: keep what we have
                got += k
        except OSError as exc:
            raise LogReadError(path, f"cannot read: {_reason(exc)}") from None
        return buf[:got] if got < size else buf
