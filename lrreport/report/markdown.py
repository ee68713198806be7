"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` and merge-request comments.

Compact: the counts, each sweep's best LR range, the LR range tests' suggested
LRs, the top findings (errors first, then warnings) with message and advice, a
table of runs led by their verdict (in trouble first), what each LR change did,
and the files that could not be read. Names from users' files
are escaped so a ``|`` or a backtick cannot break the table, and HTML in them
stays text. GitHub refuses a step summary over 1 MiB, so the text is kept
under :data:`MAX_BYTES` and says what it left out.
"""

from __future__ import annotations

import re

from ..analyze.analysis import SEVERITIES, Analysis, Finding, severity_rank
from ..ingest.base import safe_text
from .terminal import files_line

__all__ = ["MAX_BYTES", "md_code", "md_escape", "to_markdown"]

#: GitHub's limit for one step summary is 1 MiB; leave room for other steps' output.
MAX_BYTES = 1_000_000
#: Findings shown in full (the HTML report and the JSON have all of them).
TOP_FINDINGS = 20
#: Runs whose LR changes are told, and changes per run.
STORY_RUNS = 10
STORY_CHANGES = 5

ICON = {"error": "🔴", "warning": "🟡", "info": "🔵", None: "🟢"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_escape(text: object) -> str:
    """Plain text safe inside a Markdown table cell: no table breaks, no HTML, no emphasis."""
    s = _CONTROL.sub("", safe_text(text)).replace("\r", " ").replace("\n", " ")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_code(text: object) -> str:
    """A code span when the text is a plain identifier or path, else escaped text (a backtick cannot be escaped inside one)."""
    s = safe_text(text)
    return f"`{s}`" if re.fullmatch(r"[\w./:=+, -]+", s) else md_escape(s)


def _lr(v: float | None) -> str:
    return "—" if v is None else f"{v:.3g}"


def _steps(f: Finding) -> str:
    if f.start_step is None:
        return ""
    if f.end_step is None or f.end_step == f.start_step:
        return f" (step {f.start_step})"
    return f" (steps {f.start_step}–{f.end_step})"


class _Budget:
    """Collects lines until the byte budget is spent, then records what was dropped."""

    def __init__(self, limit: int):
        self.lines: list[str] = []
        self.size = 0
        self.limit = limit

    def add(self, line: str) -> bool:
        n = len(line.encode("utf-8")) + 1
        if self.size + n > self.limit:
            return False
        self.lines.append(line)
        self.size += n
        return True


def to_markdown(analysis: Analysis, max_bytes: int = MAX_BYTES, title: str | None = None) -> str:
    a = analysis
    # The closing notes need room whatever happens before them.
    out = _Budget(max_bytes - 2_000)
    counts = a.counts()
    names = a.runs
    healthy = sum(1 for n in names if a.verdict(n).healthy)
    file_counts = a.runset.file_counts()
    file_counts["unreadable"] = 0  # counted on its own
    noted = files_line(file_counts)
    out.add(f"## {md_escape(title) if title else 'lrreport: learning-rate diagnosis'}")
    out.add("")
    out.add(
        f"**{len(names)} runs** · {ICON['error']} {counts['error']} errors · {ICON['warning']} {counts['warning']} warnings · "
        f"{ICON['info']} {counts['info']} info · {healthy} healthy"
        + (f" · {len(a.errors)} unreadable files" if a.errors else "")
        + (f" · files: {md_escape(noted)}" if noted else "")
    )
    out.add("")
    omitted: list[str] = []

    if a.sweeps:
        out.add("### Sweeps")
        out.add("")
        for sw in a.sweeps:
            rng = f", good range {_lr(sw.good_lr_range[0])}–{_lr(sw.good_lr_range[1])}" if sw.good_lr_range else ""
            out.add(f"- **{md_escape(sw.name)}**: best LR **{_lr(sw.best_lr)}**{rng} (on {md_code(sw.metric)}, {len(sw.runs)} runs)")
        out.add("")

    if a.lr_finds:
        out.add("### LR range tests")
        out.add("")
        for run, lf in sorted(a.lr_finds.items()):
            rule = lf.method.split(":", 1)[0]
            pick = f"suggested LR **{_lr(lf.suggested_lr)}** ({md_escape(rule)}, confidence {lf.confidence:.2f})" if lf.suggested_lr else "no LR suggested"
            out.add(f"- **{md_escape(run)}**: {pick}")
        out.add("")

    # Top findings first: they are what a reviewer reads.
    top = sorted(
        (f for f in a.findings if severity_rank(f.severity) >= severity_rank("warning")),
        key=lambda f: (-severity_rank(f.severity), -f.confidence, f.run, f.code),
    )
    if top:
        out.add("### Top findings")
        out.add("")
        shown = 0
        for f in top[:TOP_FINDINGS]:
            block = [
                f"- {ICON[f.severity]} **{f.severity}** {md_code(f.code)} in **{md_escape(f.run)}**{_steps(f)}: {md_escape(f.message)}",
                f"  - Advice: {md_escape(f.advice)}",
            ]
            if not all(out.add(line) for line in block):
                break
            shown += 1
        if shown < len(top):
            omitted.append(f"{len(top) - shown} more warnings/errors")
        out.add("")

    out.add("### Runs")
    out.add("")
    out.add("| run | verdict | why | codes |")
    out.add("|---|---|---|---|")
    order = a.triage_order()
    for i, name in enumerate(order):
        v = a.verdict(name)
        codes = ", ".join(md_code(c) for c in sorted({f.code for f in a.run_findings(name)}))
        why = "" if v.code == "healthy" else md_escape(v.message)
        if not out.add(f"| {md_escape(name)} | {ICON[v.severity]} {md_code(v.code)} ({v.confidence:.2f}) | {why} | {codes} |"):
            omitted.append(f"{len(order) - i} runs in the table")
            break
    out.add("")

    told = [n for n in order if a.lr_changes.get(n)][:STORY_RUNS]
    if told:
        out.add("### What the LR changes did")
        out.add("")
        for name in told:
            changes = a.lr_changes[name]
            if not out.add(f"- **{md_escape(name)}**"):
                break
            for c in changes[:STORY_CHANGES]:
                out.add(f"  - {md_escape(c.where or f'step {c.step}')}: {md_escape(c.story)}")
            if len(changes) > STORY_CHANGES:
                out.add(f"  - … {len(changes) - STORY_CHANGES} more in the HTML report and the JSON")
        out.add("")

    if a.errors:
        out.add("### Files that could not be read")
        out.add("")
        for i, e in enumerate(a.errors):
            if not out.add(f"- {md_code(e.path)}: {md_escape(e.error)}"):
                omitted.append(f"{len(a.errors) - i} unreadable files")
                break
        out.add("")

    if a.runset.notes:
        out.add("### Files read with damage, in part, replaced, skipped or through a link")
        out.add("")
        for i, n in enumerate(a.runset.notes):
            if not out.add(f"- {md_escape(n.kind)}: {md_code(n.path)}: {md_escape(n.detail)}"):
                omitted.append(f"{len(a.runset.notes) - i} file notes")
                break
        out.add("")

    lines = out.lines
    if omitted:
        lines.append(
            f"_Truncated to stay under GitHub's step-summary limit: {md_escape('; '.join(omitted))} left out. "
            "The HTML report and `--json` have everything._"
        )
        lines.append("")
    lines.append(f"<sub>lrreport {md_escape(a.version)} · severities: {', '.join(reversed(SEVERITIES))}</sub>")
    return "\n".join(lines) + "\n"
