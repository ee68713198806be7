"""Markdown, JUnit XML, the terminal summary, the ``analyze`` command's outputs and exit codes,
and the README's CLI reference (generated; must match the code)."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import lrreport
from lrreport.analyze.analysis import Analysis, Finding, Sweep, SweepRun
from lrreport.cli import main
from lrreport.report.junit import CHECKS, to_junit
from lrreport.report.markdown import md_escape, to_markdown
from lrreport.report.terminal import print_summary
from lrreport.runs import SCALARS_SCHEMA, ReadError, RunInfo, RunSet
from test_report_html import HOSTILE_RUN, HOSTILE_TAG, build_logdir

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    return build_logdir(tmp_path_factory.mktemp("logs"), tb=False)


@pytest.fixture(scope="module")
def analysis(logdir) -> Analysis:
    return lrreport.analyze(lrreport.load(logdir))


def bare_runset(names: list[str], errors: list[ReadError] | None = None) -> RunSet:
    infos = {n: RunInfo(n, "keras_csv", f"/{n}", metrics=["train_loss"], points=10) for n in names}
    return RunSet("logs", pl.DataFrame(schema=SCALARS_SCHEMA), infos, errors)


def mixed_analysis() -> Analysis:
    """Three runs: one error + one info, one warning, one healthy; a sweep; an unreadable file. Names are hostile."""
    weird = "a|b`c`\x07 <script>x</script>"
    rs = bare_runset([weird, "warn", "fine"], [ReadError("bad/\x01file.csv", "not a CSV <b>")])
    findings = [
        Finding("divergence", "error", weird, "train_loss", "NaN at step 40 | boom.", "Use 1e-3.", 40, 40, {"lr": 0.1}, 0.9, suggested_lr=1e-3),
        Finding("no_lr_logged", "info", weird, None, "No LR.", "Log it.", confidence=1.0),
        Finding("lr_too_low", "warning", "warn", "train_loss", "Slow.", "Try 3x.", 0, 99, {"slope": -1e-4}, 0.6, suggested_lr=0.3),
    ]
    sweep = Sweep("sweep x", "val_loss", [SweepRun("warn", 0.1, 0.5, "too_low"), SweepRun("fine", 0.3, 0.2, "best")], 0.3, (0.2, 0.4), 0.7)
    return Analysis(rs, findings, sweeps=[sweep])


# --- Markdown -------------------------------------------------------------------------------
def test_markdown_content_and_escaping():
    a = mixed_analysis()
    md = to_markdown(a)
    assert "| run | verdict | why | codes |" in md  # the verdict leads each run's row
    table = [line for line in md.splitlines() if line.startswith("| ") and "verdict" not in line]
    assert len(table) == 3
    for line in table:  # an escaped | never splits a cell
        assert len(re.findall(r"(?<!\\)\|", line)) == 5, line
    assert table[0].startswith("| a\\|b") and "`divergence` (0.90)" in table[0]  # in trouble first
    assert "a\\|b\\`c\\`" in md and "\x07" not in md and "<script>" not in md and "&lt;script&gt;" in md
    # errors before warnings; message and advice present
    assert md.index("NaN at step 40") < md.index("Slow.")
    assert "Advice: Use 1e-3." in md
    assert "best LR **0.3**" in md and "0.2–0.4" in md
    assert "Files that could not be read" in md and "not a CSV &lt;b&gt;" in md
    assert "1 errors" in md and "1 warnings" in md and "1 info" in md


def test_markdown_truncated_under_limit():
    names = [f"run-{i:05d}-" + "x" * 80 for i in range(20_000)]
    findings = [Finding("lr_too_high", "warning", n, "train_loss", "m" * 100, "a" * 100, 0, 1) for n in names[:200]]
    a = Analysis(bare_runset(names), findings)
    md = to_markdown(a)
    assert len(md.encode("utf-8")) < 1024 * 1024
    assert "Truncated to stay under GitHub's step-summary limit" in md
    small = to_markdown(a, max_bytes=20_000)
    assert len(small.encode("utf-8")) <= 20_000 and "Truncated" in small


def test_md_escape():
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("`x`") == "\\`x\\`"
    assert md_escape("<b>\n") == "&lt;b&gt; "


# --- JUnit ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fail_on,failures", [("never", 0), ("error", 1), ("warning", 2), ("info", 3)])
def test_junit_failures_follow_fail_on(fail_on, failures):
    a = mixed_analysis()
    xml = to_junit(a, fail_on=fail_on)
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 4  # three runs + unreadable files
    assert len(root.findall(".//failure")) == failures == int(root.get("failures"))
    for suite in suites[:3]:
        assert [c.get("name") for c in suite.findall("testcase")] == list(CHECKS)
        assert int(suite.get("tests")) == len(CHECKS)
    # findings below the threshold are kept as system-out
    assert len(root.findall("testsuite/testcase/system-out")) == 3 - failures
    # the verdict leads each run's suite, in trouble first
    assert [s.find("properties/property[@name='verdict']").get("value") for s in suites[:3]] == ["divergence", "lr_too_low", "healthy"]
    assert suites[0].find("system-out").text.startswith("verdict: divergence (error, confidence 0.90): NaN at step 40")
    err = suites[3].find("testcase/error")
    assert err is not None and err.get("type") == "ReadError" and suites[3].get("errors") == "1"
    assert "\x01" not in xml and "\x07" not in xml  # control characters stripped: valid XML
    if failures:
        f = root.find(".//failure")
        assert f.get("type") == "divergence" and "advice: Use 1e-3." in f.text and "lr: 0.1" in f.text


def test_junit_from_real_logs(analysis):
    root = ET.fromstring(to_junit(analysis, fail_on="warning").encode("utf-8"))
    names = [s.get("name") for s in root.findall("testsuite")]
    assert HOSTILE_RUN in names and "unreadable files" in names
    n_fail = sum(1 for r in analysis.runs for c in {f.code for f in analysis.run_findings(r) if f.severity in ("warning", "error")})
    assert len(root.findall(".//failure")) == n_fail


# --- terminal -------------------------------------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_plain_when_not_a_tty(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = io.StringIO()
    print_summary(mixed_analysis(), out, html_path="r.html")
    text = out.getvalue()
    assert "\x1b[" not in text and "\x07" not in text
    assert "report: r.html" in text and "1 errors" in text and "1 warnings" in text
    assert text.index("divergence") < text.index("lr_too_low")  # worst first


def test_terminal_color_on_tty_unless_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = FakeTTY()
    print_summary(mixed_analysis(), tty)
    assert "\x1b[" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTTY()
    print_summary(mixed_analysis(), tty)
    assert "\x1b[" not in tty.getvalue()


# --- the analyze command --------------------------------------------------------------------
def test_cli_writes_every_output(logdir, tmp_path):
    runner = CliRunner()
    md, junit, html = tmp_path / "s.md", tmp_path / "j.xml", tmp_path / "r.html"
    res = runner.invoke(main, ["analyze", str(logdir), "--json", "-", "--markdown", str(md), "--junit", str(junit), "-o", str(html), "--fail-on", "warning"])
    assert res.exit_code == 1, res.output  # the sweep has warnings and an error
    doc = json.loads(res.stdout)
    assert {r["run"] for r in doc["runs"]} >= {HOSTILE_RUN, "sweep/lr_1"}
    assert md.read_text().startswith("## lrreport")
    ET.parse(junit)
    text = html.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text and HOSTILE_TAG not in text


def test_cli_exit_codes(logdir, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["analyze", str(logdir), "--no-html", "-q"])
    assert ok.exit_code == 0
    assert runner.invoke(main, ["analyze", str(logdir), "--no-html", "-q", "--fail-on", "error"]).exit_code == 1
    assert runner.invoke(main, ["analyze", str(tmp_path / "missing"), "--no-html"]).exit_code == 2
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("nothing to see")
    assert runner.invoke(main, ["analyze", str(junk), "--no-html"]).exit_code == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "trainer_state.json").write_text("{")
    assert runner.invoke(main, ["analyze", str(broken), "--no-html"]).exit_code == 2


def test_cli_default_writes_html_and_summary(logdir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["analyze", str(logdir)])
    assert res.exit_code == 0
    assert (tmp_path / "lrreport-report.html").is_file()
    assert "report: lrreport-report.html" in res.stdout


# --- README ---------------------------------------------------------------------------------
def test_readme_cli_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen_cli_reference", REPO / "scripts" / "gen_cli_reference.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert gen.updated_readme(readme) == readme, "run: python scripts/gen_cli_reference.py"
    for cmd in main.list_commands(None):
        assert f"### `lrreport {cmd}`" in readme


def test_unwritable_output_is_one_line_and_nothing_half_written(tmp_path):
    from click.testing import CliRunner

    from lrreport.cli import main

    logs = Path(__file__).resolve().parent.parent / "sample_logs" / "lr-too-low"
    if not logs.is_dir():
        pytest.skip("sample_logs/ not generated")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ok_json = tmp_path / "ok.json"
    res = CliRunner().invoke(main, ["analyze", str(logs), "--json", str(ok_json), "-o", str(blocker / "r.html")])
    assert res.exit_code == 2
    assert "cannot write" in res.output and str(blocker / "r.html") in res.output
    assert "Traceback" not in res.output
    assert not ok_json.exists()  # all or nothing
    assert not list(tmp_path.glob(".*.tmp"))


def test_terminal_leads_each_run_with_its_verdict_and_cuts_long_names_in_the_middle(monkeypatch):
    monkeypatch.setenv("COLUMNS", "140")
    long = "sweeps/2024-06-01/" + "x" * 60 + "/lr_0.3"
    rs = bare_runset([long, "fine"])
    a = Analysis(rs, [Finding("lr_too_high", "warning", long, "train_loss", "Spiky from step 10.", "Lower it.", 10, 90, {}, 0.7)])
    a.lr_finds["fine"] = lrreport.LRFindResult("fine", 3e-4, "minimum/10: the smoothed loss ...", 0.6)
    out = io.StringIO()
    print_summary(a, out)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("warning  lr_too_high") and "0.70" in lines[1] and "Spiky from step 10." in lines[1]
    assert "sweeps/2024-06" in lines[1] and "…" in lines[1] and "/lr_0.3" in lines[1]  # both ends of the name
    assert lines[2].startswith("ok       healthy")
    assert "LR range test fine: suggested LR 3e-4 (minimum/10, confidence 0.60)" in out.getvalue()


def test_rendering_shows_progress_and_a_first_run_says_it_compiles(capsys, monkeypatch):
    from lrreport.progress import compile_notice
    from lrreport.report.html import Report

    Report(mixed_analysis(), progress=True).to_html()
    assert "rendering" in capsys.readouterr().err  # the bar, as reading and analysing have
    lrreport.load(REPO / "sample_logs" / "healthy-demo")  # event files: the reader is compiled and cached
    assert compile_notice() is None
    monkeypatch.setattr("os.path.exists", lambda p: False)  # a fresh install: no numba cache yet
    assert compile_notice().startswith("lrreport: first large input on this machine: compiling")
