"""The short summary printed after ``lrreport analyze``: one line per run led by its verdict,
in trouble first, then the counts, the sweeps, the LR range tests and the report path.

Colour only on a terminal and never with ``NO_COLOR`` set (https://no-color.org).
Run names are printed with control characters replaced, so a hostile name cannot
send escape sequences to the terminal; a name too long for its column loses its
middle (the folder it starts with and the run it ends with both stay).
"""

from __future__ import annotations

import os
import re
import shutil
from typing import TextIO

from ..analyze.analysis import Analysis
from . import humanize

__all__ = ["files_line", "plain", "print_summary", "shorten"]

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


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle replaced by an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = (width - 1 + 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def print_summary(analysis: Analysis, file: TextIO, html_path: str | None = None, color: bool | None = None) -> None:
    a = analysis
    on = _use_color(file, color)

    def paint(text: str, style: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if on else text

    order = a.triage_order()
    width = shutil.get_terminal_size((100, 24)).columns
    code_w = max([len("verdict")] + [len(a.verdict(n).code) for n in order[:MAX_ROWS]])
    lead = 9 + code_w + 8  # severity, verdict, confidence
    name_w = max(3, min(max((len(_plain(n)) for n in order), default=3), max(24, (width - lead) // 3)))
    why_w = width - (lead + name_w + 2)
    lines = [f"{'':<9}{'verdict':<{code_w}}  conf  {'run':<{name_w}}  {'why' if why_w >= 40 else ''}".rstrip()]
    for name in order[:MAX_ROWS]:
        v = a.verdict(name)
        sev = v.severity or "ok"
        row = f"{paint(f'{sev:<8}', sev)} {v.code:<{code_w}}  {v.confidence:.2f}  {shorten(_plain(name), name_w):<{name_w}}"
        why = "" if v.code == "healthy" else _plain(v.message)
        if why and why_w >= 40:  # the reason beside the run, cut at its end
            row += "  " + (why if len(why) <= why_w else why[: why_w - 1] + "…")
        elif why:  # a narrow terminal: the reason on its own line
            row = row.rstrip() + "\n" + " " * 9 + (why if len(why) <= width - 9 else why[: width - 10] + "…")
        lines.append(row.rstrip())
    if len(order) > MAX_ROWS:
        rest = order[MAX_ROWS:]
        rest_healthy = sum(1 for n in rest if a.verdict(n).healthy)
        lines.append(paint(f"… {len(rest)} more runs ({rest_healthy} healthy)", "dim"))

    c = a.counts()
    healthy = sum(1 for n in order if a.verdict(n).healthy)
    parts = [
        paint(f"{c['error']} errors", "error") if c["error"] else "0 errors",
        paint(f"{c['warning']} warnings", "warning") if c["warning"] else "0 warnings",
        f"{c['info']} info",
        paint(f"{healthy}/{len(order)} runs healthy", "ok" if healthy == len(order) else "bold"),
    ]
    if a.errors:
        parts.append(paint(f"{len(a.errors)} unreadable files", "error"))
    lines.append("")
    lines.append(", ".join(parts))
    counts = a.runset.file_counts()
    counts["unreadable"] = 0  # said above
    noted = files_line(counts)
    if noted:
        lines.append(paint(f"files: {noted} (listed below; all in --json and the report)", "warning"))
    for sw in a.sweeps:
        rng = f" (good {humanize.lr(sw.good_lr_range[0])}–{humanize.lr(sw.good_lr_range[1])})" if sw.good_lr_range else ""
        lines.append(f"sweep {_plain(sw.name)}: best LR {humanize.lr(sw.best_lr)}{rng}")
    for run, lf in sorted(a.lr_finds.items()):
        if lf.suggested_lr:
            rule = lf.method.split(":", 1)[0]
            lines.append(f"LR range test {_plain(run)}: suggested LR {humanize.lr(lf.suggested_lr)} ({_plain(rule)}, confidence {lf.confidence:.2f})")
        else:
            lines.append(f"LR range test {_plain(run)}: no LR suggested")
    if html_path:
        lines.append(f"report: {_plain(html_path)}")
    file.write("\n".join(lines) + "\n")
    file.flush()
