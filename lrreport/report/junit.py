"""JUnit XML for CI test views (GitLab ``artifacts:reports:junit``, Jenkins, GitHub test reporters).

One ``<testsuite>`` per run, in trouble first, and one ``<testcase>`` per check, a
check being a finding code of FINDINGS.md: it passes when the run has no finding of
that code. The run's verdict leads: in the suite's properties (``verdict``,
``verdict_severity``, ``verdict_confidence``) and as the first line of its
``<system-out>``, with what each LR change did and an LR range test's suggestion.
Findings at or above ``fail_on`` become ``<failure>`` (message, evidence and
advice in the body); findings below it go to ``<system-out>``, so nothing is
lost and nothing fails that should not. Files that could not be read form one
more testsuite whose testcases carry an ``<error>``.

Built with ``xml.etree`` (escaping is its job) after stripping the characters
XML 1.0 cannot hold at all: run and tag names come from users' files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..analyze.analysis import Analysis, Finding, severity_rank
from ..ingest.base import safe_text

__all__ = ["CHECKS", "to_junit"]

#: Every finding code of FINDINGS.md, in its order; each is one testcase per run.
CHECKS = (
    "divergence",
    "lr_too_high",
    "lr_too_low",
    "plateau",
    "overfitting",
    "schedule_too_aggressive",
    "warmup_needed",
    "lr_group_imbalance",
    "suspicious_validation",
    "no_lr_logged",
)

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    return _NOT_XML.sub("", safe_text(value))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    try:
        return str(v)
    except Exception:
        return f"<{type(v).__name__}>"


def _body(f: Finding) -> str:
    lines = [f"[{f.severity}] {f.code} on {f.metric or 'run'}"]
    if f.start_step is not None:
        lines.append(f"steps: {f.start_step}–{f.end_step if f.end_step is not None else f.start_step}")
    lines.append(f"message: {f.message}")
    lines.append(f"advice: {f.advice}")
    for key in ("suggested_lr", "group", "best_step", "best_epoch", "suggested_cut_step", "warmup_steps"):
        v = getattr(f, key)
        if v is not None:
            lines.append(f"{key}: {_fmt(v)}")
    if f.evidence:
        lines.append("evidence:")
        lines += [f"  {k}: {_fmt(v)}" for k, v in sorted(f.evidence.items(), key=lambda kv: str(kv[0]))]
    lines.append(f"confidence: {f.confidence:.2f}")
    return xml_text("\n".join(lines))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def to_junit(analysis: Analysis, fail_on: str = "never") -> str:
    """The JUnit XML document; ``fail_on`` is error | warning | info | never (as ``--fail-on``)."""
    a = analysis
    threshold = severity_rank(fail_on) if fail_on != "never" else 99
    extra = sorted({f.code for f in a.findings} - set(CHECKS))  # codes added after FINDINGS.md was written
    checks = list(CHECKS) + extra
    root = ET.Element("testsuites", {"name": "lrreport"})
    total_tests = total_failures = total_errors = 0

    for run in a.triage_order():
        fs = a.run_findings(run)
        v = a.verdict(run)
        suite = _sub(root, "testsuite", name=run, tests=len(checks), failures=0, errors=0, skipped=0)
        props = _sub(suite, "properties")
        _sub(props, "property", name="verdict", value=v.code)
        _sub(props, "property", name="verdict_severity", value=v.severity or "ok")
        _sub(props, "property", name="verdict_confidence", value=f"{v.confidence:.2f}")
        _sub(props, "property", name="format", value=a.run_info(run).source)
        _sub(props, "property", name="worst_severity", value=a.worst_severity(run) or "ok")
        lf = a.lr_finds.get(run)
        if lf is not None and lf.suggested_lr:
            _sub(props, "property", name="lr_find_suggested_lr", value=_fmt(lf.suggested_lr))
        story = [f"verdict: {v.code} ({v.severity or 'ok'}, confidence {v.confidence:.2f}): {v.message}"]
        story += [f"LR change at {c.where or f'step {c.step}'}: {c.story}" for c in a.lr_changes.get(run, [])]
        failures = 0
        for code in checks:
            case = _sub(suite, "testcase", classname=run, name=code)
            mine = [f for f in fs if f.code == code]
            failing = [f for f in mine if severity_rank(f.severity) >= threshold]
            quiet = [f for f in mine if severity_rank(f.severity) < threshold]
            if failing:
                failures += 1
                worst = max(failing, key=lambda f: severity_rank(f.severity))
                _sub(case, "failure", "\n\n".join(_body(f) for f in failing), message=worst.message, type=code)
            if quiet:
                _sub(case, "system-out", "\n\n".join(_body(f) for f in quiet))
        _sub(suite, "system-out", "\n".join(story))
        suite.set("failures", str(failures))
        total_tests += len(checks)
        total_failures += failures

    if a.errors:
        suite = _sub(root, "testsuite", name="unreadable files", tests=len(a.errors), failures=0, errors=len(a.errors), skipped=0)
        for e in a.errors:
            case = _sub(suite, "testcase", classname="unreadable files", name=e.path)
            _sub(case, "error", e.error, message=e.error, type="ReadError")
        total_tests += len(a.errors)
        total_errors += len(a.errors)

    if a.runset.notes:
        # Files read with damage, in part, replaced, skipped or through a link: visible in CI
        # test views as skipped cases, one per file and outcome.
        suite = _sub(root, "testsuite", name="files read with damage or skipped", tests=len(a.runset.notes), failures=0, errors=0, skipped=len(a.runset.notes))
        for n in a.runset.notes:
            case = _sub(suite, "testcase", classname=f"file notes.{n.kind}", name=n.path)
            _sub(case, "skipped", f"{n.kind}: {n.detail}" + (f" (run {n.run})" if n.run else ""), message=f"{n.kind}: {n.detail}")
        total_tests += len(a.runset.notes)

    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
