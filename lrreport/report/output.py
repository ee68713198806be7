"""Writing outputs whole or not at all: a crash mid-write never leaves half a report."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["OutputError", "write_all", "write_atomic", "write_output"]


def _encoded(text: str) -> bytes:
    # Valid UTF-8 whatever the text holds: a lone surrogate (a name whose bytes were not
    # UTF-8, escaped upstream in any case) is written as a backslash escape, never a crash.
    return text.encode("utf-8", "backslashreplace")


def _not_a_folder(target: Path, dest: str) -> None:
    if target.is_dir():
        raise OutputError(f"cannot write {dest}: it is a folder (name a file in it, e.g. {os.path.join(dest, 'lrreport-report.html')})")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    _not_a_folder(target, str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = _encoded(data) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        # mkstemp makes the file private (0600); a report is an ordinary file (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def write_output(dest: str, data: str) -> None:
    """``-`` writes to stdout; anything else is a path written atomically."""
    if dest == "-":
        text = data if data.endswith("\n") else data + "\n"
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            sys.stdout.flush()
            buffer.write(_encoded(text))
            buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    else:
        write_atomic(dest, data)


class OutputError(Exception):
    """An output that could not be written; ``str()`` is a one-line reason naming the path."""


def write_all(outputs: list[tuple[str, str]]) -> None:
    """Write every (path, text) or none: all go to temporary files first, and are renamed
    into place only when every one of them was written. ``-`` goes to stdout, last."""
    staged: list[tuple[str, Path]] = []
    try:
        for dest, text in outputs:
            if dest == "-":
                continue
            target = Path(dest)
            _not_a_folder(target, dest)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(_encoded(text))
            except OSError as exc:
                raise OutputError(f"cannot write {dest}: {exc.strerror or exc}") from None
            staged.append((tmp, target))
        umask = os.umask(0)
        os.umask(umask)
        try:
            for tmp, target in staged:
                os.chmod(tmp, 0o666 & ~umask)
                os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        staged = []
    finally:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    for dest, text in outputs:
        if dest == "-":
            write_output(dest, text)
