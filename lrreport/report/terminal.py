"""The short summary printed after ``lrreport analyze``: runs that need a look, counts, the report path.

Colour only on a terminal and never with ``NO_COLOR`` set (https://no-color.org).
Run names are printed with control characters replaced, so a hostile name cannot
send escape sequences to the terminal.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import TextIO

from ..analyze.analysis import Analysis, severity_rank

__all__ = ["files_line", "plain", "print_summary"]

#: Rows in the table; the rest are counted (unhealthy runs come first).
MAX_ROWS = 25

_COLORS = {"error": "\x1b[31;1m", "warning": "\x1b[33m", "info": "\x1b[36m", "ok": "\x1b[32m", "dim": "\x1b[2m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(text: object) -> str:
    from ..ingest.base import safe_text

    return _CONTROL.sub("?", safe_text(text))


def plain(text: object) -> str:
    """Text safe to print on a terminal: no control characters (no escape sequences from a
    hostile run name), nothing that cannot be encoded."""
    return _plain(text)


#: How the files' outcomes are worded, in the order they are listed.
FILE_WORDS = (
    ("unreadable", "unreadable"),
    ("damaged", "read with damage skipped"),
    ("truncated", "with an incomplete tail held back"),
    ("partial", "read in part"),
    ("replaced", "replaced by another copy"),
    ("skipped", "skipped"),
    ("link", "read through a link out of the logdir"),
)


def files_line(counts: dict[str, int]) -> str:
    """``"1 unreadable, 2 read with damage skipped"`` from ``RunSet.file_counts()`` ("" when all is well)."""
    return ", ".join(f"{counts[k]} {words}" for k, words in FILE_WORDS if counts.get(k))


def _use_color(file: TextIO, color: bool | None) -> bool:
    if color is not None:
        return color
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):
        return False


def print_summary(analysis: Analysis, file: TextIO, html_path: str | None = None, color: bool | None = None) -> None:
    a = analysis
    on = _use_color(file, color)

    def paint(text: str, style: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if on else text

    names = a.runs
    order = sorted(names, key=lambda n: (-severity_rank(a.worst_severity(n)), n))
    width = shutil.get_terminal_size((100, 24)).columns
    name_w = max(3, min(max((len(_plain(n)) for n in names), default=3), max(20, width - 40)))
    lines = [f"{'run':<{name_w}}  {'worst':<8} codes"]
    for name in order[:MAX_ROWS]:
        worst = a.worst_severity(name) or "ok"
        shown = _plain(name)
        if len(shown) > name_w:
            shown = "…" + shown[-(name_w - 1) :]
        codes = ", ".join(sorted({f.code for f in a.run_findings(name)}))
        lines.append(f"{shown:<{name_w}}  {paint(f'{worst:<8}', worst)} {codes}")
    if len(order) > MAX_ROWS:
        rest = order[MAX_ROWS:]
        rest_healthy = sum(1 for n in rest if a.is_healthy(n))
        lines.append(paint(f"… {len(rest)} more runs ({rest_healthy} healthy)", "dim"))

    c = a.counts()
    healthy = sum(1 for n in names if a.is_healthy(n))
    parts = [
        paint(f"{c['error']} errors", "error") if c["error"] else "0 errors",
        paint(f"{c['warning']} warnings", "warning") if c["warning"] else "0 warnings",
        f"{c['info']} info",
        paint(f"{healthy}/{len(names)} runs healthy", "ok" if healthy == len(names) else "bold"),
    ]
    if a.runset.errors:
        parts.append(paint(f"{len(a.runset.errors)} unreadable files", "error"))
    lines.append("")
    lines.append(", ".join(parts))
    counts = a.runset.file_counts()
    counts["unreadable"] = 0  # said above
    noted = files_line(counts)
    if noted:
        lines.append(paint(f"files: {noted} (listed below; all in --json and the report)", "warning"))
    for sw in a.sweeps:
        rng = f" (good {sw.good_lr_range[0]:.3g}–{sw.good_lr_range[1]:.3g})" if sw.good_lr_range else ""
        best = f"{sw.best_lr:.3g}" if sw.best_lr is not None else "—"
        lines.append(f"sweep {_plain(sw.name)}: best LR {best}{rng}")
    if html_path:
        lines.append(f"report: {_plain(html_path)}")
    file.write("\n".join(lines) + "\n")
    file.flush()
