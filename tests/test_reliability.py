"""Reliability: each class of hostile input from the reliability issue, rebuilt.

One bad file costs only itself, nothing is lost or skipped in silence, time and
memory stay bounded. Each test builds the damaged input, reads it beside a good
run, and checks: no exception escapes, the undamaged data is all there, the
damage is said (errors or file notes, with counts), and every renderer and the
CLI finish. Time is bounded by construction (small inputs); a ``timeout`` only
catches hangs; memory is measured in a subprocess where a case could grow.
See docs/reliability.md for the campaign behind these.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import curve, write_keras_csv

import lrreport
from lrreport.cli import main
from lrreport.report import Report
from lrreport.report.jsonout import to_json
from lrreport.report.junit import to_junit
from lrreport.report.markdown import to_markdown
from lrreport.report.terminal import print_summary

REPO = Path(__file__).resolve().parent.parent
HANG = 60  # seconds: a hang detector only; every case here takes well under one


# --- helpers -----------------------------------------------------------------------------------
def good_run(root: Path, name: str = "good") -> Path:
    return write_keras_csv(root / name / "training.log", {"loss": curve(12), "val_loss": curve(12, 2.4, 0.5), "lr": [0.01] * 12})


def render_all(rs) -> dict[str, str]:
    """Every renderer on an analysis of ``rs``; each output must encode as UTF-8."""
    import io

    a = lrreport.analyze(rs)
    out = {
        "json": to_json(a),
        "markdown": to_markdown(a),
        "junit": to_junit(a, fail_on="warning"),
        "html": Report(a, workers=1).to_html(),
    }
    buf = io.StringIO()
    print_summary(a, file=buf, html_path="r.html")
    out["terminal"] = buf.getvalue()
    for text in out.values():
        text.encode("utf-8")
    json.loads(out["json"])
    for run in a.runs:
        a.trace(run)
    return out


def in_time(fn, *args, timeout: float = HANG, **kw):
    """Run ``fn`` in a thread; fail (not hang) if it does not return within ``timeout``."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args, **kw)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"{fn.__name__} did not return within {timeout} s (a hang)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def notes_of(rs, kind: str | None = None) -> list:
    return [n for n in rs.notes if kind is None or n.kind == kind]


_PEAK_RSS = """
def _lrreport_peak_mb():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print('RSS', _lrreport_peak_mb())
"""


def max_rss_mb(code: str, timeout: float = HANG) -> tuple[float, str]:
    """Run ``code`` in a fresh interpreter (this checkout's lrreport first on the path); its peak RSS in MB.

    The peak is the child's own (``VmHWM``, which starts afresh at exec): Linux carries
    ``ru_maxrss`` over from the parent, so a pytest process that once grew past 1 GB (numba
    compiling the reader on an empty cache does) would make every child look that large."""
    prog = textwrap.dedent(code) + _PEAK_RSS
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=timeout, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    rss = float(res.stdout.strip().splitlines()[-1].split()[1])
    return rss, res.stdout


def event_file(path: Path, points: list[tuple[str, int, float]], session_start_at: int | None = None) -> Path:
    """An event file written by TensorBoard's own writer."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        w = RecordWriter(fh)
        w.write(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())
        for i, (tag, step, value) in enumerate(points):
            if session_start_at is not None and i == session_start_at:
                w.write(event_pb2.Event(step=step, session_log=event_pb2.SessionLog(status=1)).SerializeToString())
            summ = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
            w.write(event_pb2.Event(wall_time=1.7e9 + step, step=step, summary=summ).SerializeToString())
        w.flush()
    return path


# --- 1. one bad file aborts the whole tree ---------------------------------------------------------
@pytest.mark.parametrize(
    "yaml_text, key, expect",
    [
        ("lr: 0.01\nstarted: 2024-13-45\n", "started", "2024-13-45"),
        ("lr: 0.01\nseed: !!int '0xZZ'\n", "seed", "0xZZ"),
        ("lr: 0.01\nwhen: 2024-02-30\n", "when", "2024-02-30"),
        ("lr: 0.01\nnet: " + "[" * 300 + "]" * 300 + "\n", "net", None),
        ("lr: 0.01\nnet: " + "[" * 5000 + "]" * 5000 + "\n", None, None),
        ("lr: 0.01\nbig: " + "7" * 5000 + "\n", "big", None),
        ("a: &a [1, *a]\nlr: 0.01\n", "a", None),
    ],
    ids=["bad-date", "bad-int", "feb-30", "deep-nesting", "very-deep-nesting", "5000-digits", "alias-loop"],
)
def test_hostile_hparams_yaml_costs_nothing_else(tmp_path, yaml_text, key, expect):
    run = tmp_path / "lightning_logs" / "version_0"
    run.mkdir(parents=True)
    (run / "hparams.yaml").write_text(yaml_text)
    (run / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n" + "".join(f"{e},{e},{1 / (e + 1)},{1.1 / (e + 1)}\n" for e in range(10)))
    good_run(tmp_path)
    rs = lrreport.load(tmp_path)
    assert set(rs.runs) == {"good", "lightning_logs/version_0"}
    info = rs.runs["lightning_logs/version_0"]
    assert info.points == 20
    if "[" * 5000 in yaml_text:  # refused whole (parsing it would take minutes), and said
        assert not info.hparams and any("nested deeper than 512" in w for w in info.warnings)
    else:
        assert info.hparams["lr"] == 0.01
    if key and expect is not None:
        assert info.hparams[key] == expect
    render_all(rs)


@pytest.mark.parametrize("global_step", ["NaN", "1e400", "-Infinity", "1" * 5000])
def test_trainer_state_with_unusable_global_step(tmp_path, global_step):
    state = '{"global_step": %s, "log_history": [%s]}' % (
        global_step,
        ",".join(f'{{"loss": {1 / (s + 1)}, "learning_rate": 0.001, "epoch": {s / 10}, "step": {s}}}' for s in range(1, 21)),
    )
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "trainer_state.json").write_text(state)
    (tmp_path / "out" / "checkpoint-10").mkdir()
    (tmp_path / "out" / "checkpoint-10" / "trainer_state.json").write_text(state)
    good_run(tmp_path)
    rs = lrreport.load(tmp_path)
    assert rs.runs["out"].points == 40 and "good" in rs.runs
    render_all(rs)


def test_5000_digit_integer_in_a_history(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "history.json").write_text('{"loss": [0.9, 0.8, %s, 0.6], "val_loss": [1.0, 0.9, 0.8, 0.7]}' % ("9" * 5000))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "history.json").write_text('{"loss": {"0": 0.5, "%s": 0.4}}' % ("1" * 5000))
    good_run(tmp_path)
    rs = lrreport.load(tmp_path)
    assert {"a", "b", "good"} <= set(rs.runs)
    loss = rs.series("a", "train_loss").value
    assert loss.tolist()[:2] == [0.9, 0.8] and math.isinf(loss[2]) and loss[3] == 0.6  # the huge value: +Inf, as float() reads it
    render_all(rs)


def test_run_folder_whose_name_is_not_utf8(tmp_path):
    bad = os.fsdecode(b"run-\xff\xfe")
    good_run(tmp_path / bad, "x")
    good_run(tmp_path)
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["good", "run-\\xff\\xfe/x"]
    (tmp_path / bad / "broken.csv").write_text("epoch,loss\n")  # an error line with that path, too
    (tmp_path / bad / "trainer_state.json").write_text("{")
    rs = lrreport.load(tmp_path)
    assert any("\\xff" in e.path for e in rs.errors)
    out = render_all(rs)
    assert "\\xff" in out["markdown"]
    # The CLI path too: the cache key of that folder, the outputs, exit 0 not 3.
    res = CliRunner().invoke(main, ["analyze", str(tmp_path), "--no-html", "--json", "-", "--cache-dir", str(tmp_path.parent / "cache")])
    assert res.exit_code == 0, res.output
    assert "\\xff" in res.output


# --- 2. outputs crash after a good analysis ---------------------------------------------------------
def test_epoch_beyond_int64_renders(tmp_path):
    lines = ["step,epoch,loss,val_loss,lr"] + [f"{i},{i * 10**19},{1 / (i + 1)},{1.2 / (i + 1)},0.01" for i in range(30)]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "log.csv").write_text("\n".join(lines) + "\n")
    rs = lrreport.load(tmp_path)
    assert rs.runs["r"].points == 90
    out = render_all(rs)
    assert json.loads(out["json"])["runs"][0]["points"] == 90


def test_metric_of_plus_and_minus_1e308_is_drawn_clipped(tmp_path):
    lines = ["step,loss,lr"] + [f"{i},{1e308 if i % 2 else -1e308},0.01" for i in range(30)]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "log.csv").write_text("\n".join(lines) + "\n")
    rs = lrreport.load(tmp_path)
    out = render_all(rs)
    assert "<svg" in out["html"]


@pytest.mark.filterwarnings("error::RuntimeWarning")  # drawn without numpy overflow warnings, too
@pytest.mark.parametrize("lr", [1e300, 1e308, 1e-320], ids=["1e300", "1e308", "subnormal"])
def test_lr_at_the_ends_of_a_float_is_drawn(tmp_path, lr):
    """A log LR axis whose ticks would be 10**309 or 10**-324 (OverflowError), and values
    from -1e308 to 1e308 (a span of inf): drawn on a clipped axis, never a crash."""
    lines = ["step,loss,val_loss,lr"] + [f"{i},{1e308 if i % 2 else -1e308},{1.0 / (i + 1)},{lr if i % 3 == 0 else 0.2}" for i in range(30)]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "log.csv").write_text("\n".join(lines) + "\n")
    out = render_all(lrreport.load(tmp_path))
    assert "<svg" in out["html"] and "NaN" not in out["html"].split("<svg", 1)[1].split("</svg>", 1)[0]


MLFLOW_META_LOOP = "run_id: abc\nstatus: &s [1, *s]\n"
MLFLOW_META_BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\nstatus: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def mlflow_run(root: Path, meta: str = "run_id: abc\nstatus: 3\n", lines: str | None = None) -> Path:
    run = root / "mlruns" / "0" / "abc"
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "tags").mkdir()
    (run / "meta.yaml").write_text(meta)
    text = lines if lines is not None else "".join(f"{1000 + i} {2.0 - i * 0.1} {i}\n" for i in range(10))
    (run / "metrics" / "loss").write_text(text)
    (run / "params" / "lr").write_text("0.01")
    return run


@pytest.mark.parametrize("meta", [MLFLOW_META_LOOP, MLFLOW_META_BOMB], ids=["alias-loop", "alias-bomb"])
def test_mlflow_meta_yaml_loop_and_bomb(tmp_path, meta):
    assert len(MLFLOW_META_BOMB) < 450  # the bomb was 407 bytes
    mlflow_run(tmp_path, meta)
    rs = in_time(lrreport.load, tmp_path)
    (name,) = rs.runs
    assert rs.runs[name].points == 10
    assert any("refused" in w for w in rs.runs[name].warnings)
    out = in_time(render_all, rs)
    assert len(out["json"]) < 100_000


def test_mlflow_alias_bomb_memory_is_bounded(tmp_path):
    mlflow_run(tmp_path, MLFLOW_META_BOMB)
    rss, _ = max_rss_mb(
        f"""
        import lrreport
        from lrreport.report.jsonout import to_json
        to_json(lrreport.analyze(lrreport.load({str(tmp_path)!r})))
        """
    )
    assert rss < 1024


def test_internal_error_exits_3_not_1(tmp_path, monkeypatch):
    good_run(tmp_path)
    import lrreport.pipeline as pipeline_mod

    def broken(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(pipeline_mod, "analyze_logdir", broken)  # what `lrreport analyze` calls
    res = CliRunner().invoke(main, ["analyze", str(tmp_path), "--no-html", "--fail-on", "warning"])
    assert res.exit_code == 3
    assert "internal error (ZeroDivisionError: a bug)" in res.output and "report" in res.output
    assert "Traceback" not in res.output and "--debug" in res.output
    res = CliRunner().invoke(main, ["--debug", "analyze", str(tmp_path), "--no-html"])
    assert res.exit_code == 3 and "Traceback" in res.output
    res = CliRunner().invoke(main, ["analyze", str(tmp_path), "--no-html", "--debug"])
    assert res.exit_code == 3 and "Traceback" in res.output


def test_exit_codes_table(tmp_path):
    write_keras_csv(tmp_path / "div" / "training.log", {"loss": [1.0, 2.0, 8.0, float("nan"), float("nan")] * 3, "lr": [1.0] * 15})
    r = CliRunner()
    assert r.invoke(main, ["analyze", str(tmp_path), "--no-html", "-q"]).exit_code == 0
    assert r.invoke(main, ["analyze", str(tmp_path), "--no-html", "-q", "--fail-on", "error"]).exit_code == 1
    assert r.invoke(main, ["analyze", str(tmp_path), "--no-html", "--fail-on", "bogus"]).exit_code == 2
    assert r.invoke(main, ["analyze", str(tmp_path / "nope")]).exit_code == 2
    (tmp_path / "empty").mkdir()
    assert r.invoke(main, ["analyze", str(tmp_path / "empty"), "--no-html"]).exit_code == 2
    assert r.invoke(main, ["ls", str(tmp_path / "empty")]).exit_code == 2
    assert r.invoke(main, ["analyze", str(tmp_path), "--max-file-size", "lots"]).exit_code == 2


# --- 3. one bad entry costs the whole run -------------------------------------------------------------
def test_mlflow_step_beyond_int64_costs_one_line(tmp_path):
    lines = "".join(f"{1000 + i} {2.0 - i * 0.1} {i}\n" for i in range(10)) + "1010 0.5 1e19\n1011 0.4 99999999999999999999\n"
    mlflow_run(tmp_path, lines=lines)
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    assert rs.runs[name].points == 10
    (note,) = notes_of(rs, "damaged")
    assert note.detail.startswith("2 malformed lines skipped") and note.path.endswith("loss")
    render_all(rs)


def test_mlflow_meta_date_feb_30(tmp_path):
    mlflow_run(tmp_path, "run_id: abc\nstatus: 3\nstart_time: 2024-02-30\nend_time: 2024-13-45 10:00:00\n")
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    assert rs.runs[name].points == 10 and rs.runs[name].hparams["mlflow.status"] == 3


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "1e400", "-1e30", '"x"', "null"])
def test_trainer_state_entry_with_bad_step_costs_that_entry(tmp_path, bad):
    entries = [f'{{"loss": {1 / s}, "learning_rate": 0.001, "epoch": {s / 10}, "step": {s}}}' for s in range(1, 11)]
    entries[4] = f'{{"loss": 0.5, "learning_rate": 0.001, "epoch": 0.5, "step": {bad}}}'
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "trainer_state.json").write_text('{"global_step": 10, "log_history": [%s]}' % ",".join(entries))
    rs = lrreport.load(tmp_path)
    assert rs.runs["out"].points == 18  # 9 entries x (loss, learning_rate)
    assert len(notes_of(rs, "damaged")) == 1
    render_all(rs)


# --- 4. data lost or replaced in silence --------------------------------------------------------------
def _csv_rows(n: int = 20) -> list[str]:
    return [f"{e},{0.9 ** e:.6f},{0.95 ** e:.6f},0.01" for e in range(n)]


def test_csv_with_nul_bytes_from_a_crash(tmp_path):
    rows = _csv_rows()
    text = "epoch,loss,val_loss,lr\n" + "\n".join(rows[:10]) + "\n" + "0.5" + "\0" * 4096 + "\n".join(rows[10:]) + "\n"
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "training.log").write_bytes(text.encode())
    rs = lrreport.load(tmp_path)
    assert rs.runs["r"].points == 60  # the cut-off "0.5" before the zeros is not read; every row is
    (note,) = notes_of(rs, "damaged")
    assert "NUL" in note.detail


def test_csv_whose_header_is_not_utf8(tmp_path):
    text = "epoch,loss,val_loss,lr,précision\n".encode("latin-1") + "\n".join(r + ",0.5" for r in _csv_rows()).encode() + b"\n"
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "training.log").write_bytes(text)
    rs = lrreport.load(tmp_path)
    assert rs.runs["r"].points == 80 and "précision" in rs.runs["r"].metrics
    assert any("cp1252" in w for w in rs.runs["r"].warnings)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_csv(tmp_path, encoding):
    text = "epoch,loss,val_loss,lr\r\n" + "\r\n".join(_csv_rows()) + "\r\n"
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "training.log").write_bytes(text.encode(encoding))
    rs = lrreport.load(tmp_path)
    assert rs.runs["r"].points == 60


def test_stray_quote_does_not_swallow_the_rest(tmp_path):
    rows = _csv_rows(245)
    rows[114] = rows[114].replace(",0.01", ',"0.01')
    rows[200] = rows[200].replace(",0.01", ',0.01"')
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "training.log").write_text("epoch,loss,val_loss,lr\n" + "\n".join(rows) + "\n")
    rs = lrreport.load(tmp_path)
    assert rs.runs["r"].points == 245 * 3
    (note,) = notes_of(rs, "damaged")
    assert "stray quote" in note.detail


def test_damaged_trainer_state_replaced_by_checkpoint_copy_is_said(tmp_path):
    entries = [f'{{"loss": {1 / s}, "learning_rate": 0.001, "epoch": {s / 10}, "step": {s}}}' for s in range(1, 81)]
    out = tmp_path / "out"
    (out / "checkpoint-40").mkdir(parents=True)
    (out / "checkpoint-40" / "trainer_state.json").write_text('{"global_step": 40, "log_history": [%s]}' % ",".join(entries[:40]))
    (out / "trainer_state.json").write_text('{"global_step": 80, "log_history": [%s' % ",".join(entries)[:-7])  # cut mid-write
    rs = lrreport.load(tmp_path)
    assert rs.runs["out"].points == 80  # the older copy's 40 entries
    (err,) = rs.errors
    assert err.path.endswith("out/trainer_state.json") and "invalid JSON" in err.error
    (note,) = notes_of(rs, "replaced")
    assert "checkpoint-40" in note.detail and note.run == "out"
    res = CliRunner().invoke(main, ["analyze", str(tmp_path), "--no-html"])
    assert "replaced" in res.output and "could not read" in res.output


def test_several_event_files_of_unrelated_runs_keep_every_point(tmp_path):
    d = tmp_path / "runs"
    event_file(d / "events.out.tfevents.1700000000.hostA.101.0", [("loss", s, 1.0) for s in range(100)])
    event_file(d / "events.out.tfevents.1700000100.hostB.202.0", [("loss", s, 2.0) for s in range(0, 80)])
    event_file(d / "events.out.tfevents.1700000200.hostA.303.0", [("loss", s, 3.0) for s in range(10, 50)])
    rs = lrreport.load(tmp_path)
    assert rs.runs["runs"].points == 220  # TensorBoard keeps all of them (no restart event)
    assert sum("both kept" in w for w in rs.runs["runs"].warnings) == 2


def test_restart_event_and_same_writer_resume_still_purge(tmp_path):
    d = tmp_path / "run"
    pts = [("loss", s, 1.0) for s in range(20)] + [("loss", s, 2.0) for s in range(10, 30)]
    event_file(d / "events.out.tfevents.1700000000.host.7.0", pts, session_start_at=20)
    rs = lrreport.load(tmp_path)
    s = rs.series("run", "train_loss")
    assert s.step.tolist() == list(range(30)) and s.value.tolist() == [1.0] * 10 + [2.0] * 20
    d2 = tmp_path / "run2"
    event_file(d2 / "events.out.tfevents.1700000000.host.7.0", [("loss", s, 1.0) for s in range(20)])
    event_file(d2 / "events.out.tfevents.1700000100.host.7.1", [("loss", s, 2.0) for s in range(10, 30)])
    rs = lrreport.load(tmp_path)
    s = rs.series("run2", "train_loss")
    assert s.step.tolist() == list(range(30)) and s.value.tolist() == [1.0] * 10 + [2.0] * 20


def test_symlink_out_of_the_logdir_is_noted(tmp_path):
    outside = write_keras_csv(tmp_path / "elsewhere" / "training.log", {"loss": curve(8), "lr": [0.01] * 8})
    logdir = tmp_path / "logs"
    (logdir / "linked").mkdir(parents=True)
    os.symlink(outside, logdir / "linked" / "training.log")
    (logdir / "dirlink").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    good_run(logdir)
    rs = lrreport.load(logdir)
    assert rs.runs["linked"].points == 16
    (link,) = notes_of(rs, "link")
    assert link.path.endswith("linked/training.log") and str(outside) in link.detail and link.run == "linked"
    (skipped,) = notes_of(rs, "skipped")
    assert skipped.path.endswith("dirlink") and "not followed" in skipped.detail
    res = CliRunner().invoke(main, ["ls", str(logdir)])
    assert "link: " in res.output and "skipped: " in res.output and "read through a link" in res.output


def test_permission_denied_folder_and_file_are_reported(tmp_path, monkeypatch):
    """Simulated (root reads everything): the walk's and the opener's errors become ReadErrors."""
    good_run(tmp_path)
    good_run(tmp_path, "locked")
    (tmp_path / "closed").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("closed"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    real_access = os.access
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if "locked" in os.fspath(p) else real_access(p, mode, **k))
    rs = lrreport.load(tmp_path)
    assert list(rs.runs) == ["good"]
    errors = {Path(e.path).name: e.error for e in rs.errors}
    assert "Permission denied" in errors["closed"] and "permission denied" in errors["training.log"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_permission_denied_for_real(tmp_path):
    good_run(tmp_path)
    locked = good_run(tmp_path, "locked")
    locked.chmod(0)
    (tmp_path / "closed").mkdir()
    good_run(tmp_path / "closed")
    (tmp_path / "closed").chmod(0)
    try:
        rs = lrreport.load(tmp_path)
    finally:
        (tmp_path / "closed").chmod(0o755)
        locked.chmod(0o644)
    assert list(rs.runs) == ["good"] and len(rs.errors) == 2


# --- 5. hangs and unbounded memory ----------------------------------------------------------------------
@pytest.mark.parametrize("where", ["metrics/val_loss", "params/batch", "tags/mlflow.runName", "meta_fifo"])
def test_fifo_inside_mlflow_does_not_block(tmp_path, where):
    run = mlflow_run(tmp_path)
    if where == "meta_fifo":
        (run / "meta.yaml").unlink()
        os.mkfifo(run / "meta.yaml")
        # not an MLflow run any more (meta.yaml is no file): the tree must still load
    else:
        os.mkfifo(run / where)
    good_run(tmp_path)
    rs = in_time(lrreport.load, tmp_path)
    assert "good" in rs.runs
    if where != "meta_fifo":
        (name,) = [r for r in rs.runs if r != "good"]
        assert rs.runs[name].points == 10
        assert any("FIFO" in n.detail for n in notes_of(rs, "skipped"))


@pytest.mark.parametrize("where", ["metrics/zero", "params/zero", "tags/mlflow.runName"])
def test_dev_zero_link_inside_mlflow_is_refused(tmp_path, where):
    run = mlflow_run(tmp_path)
    os.symlink("/dev/zero", run / where)
    rs = in_time(lrreport.load, tmp_path)
    (name,) = rs.runs
    assert rs.runs[name].points == 10
    assert any("character device" in n.detail for n in notes_of(rs, "skipped"))


def test_event_file_over_the_size_cap(tmp_path):
    d = tmp_path / "run"
    f = event_file(d / "events.out.tfevents.1700000000.host.1.0", [("loss", s, 1.0) for s in range(50)])
    big = d / "events.out.tfevents.1700000001.host.1.1"
    with open(big, "wb") as fh:  # 5 GB, sparse: no disk used
        fh.truncate(5 << 30)
    rs = in_time(lrreport.load, tmp_path)
    assert rs.runs["run"].points == 50
    (err,) = [w for w in rs.runs["run"].warnings if "size cap" in w]
    assert "5.0 GiB is over the 2.0 GiB size cap" in err
    rs = lrreport.load(tmp_path, max_file_bytes=f.stat().st_size - 1)
    assert not rs.runs and "size cap" in rs.errors[0].error
    res = CliRunner().invoke(main, ["ls", str(tmp_path), "--max-file-size", "100"])
    assert res.exit_code == 2 and "size cap" in res.output


def test_sparse_event_file_under_the_cap_is_fast_and_small(tmp_path):
    d = tmp_path / "run"
    event_file(d / "events.out.tfevents.1700000000.host.1.0", [("loss", s, 1.0) for s in range(50)])
    with open(d / "events.out.tfevents.1700000000.host.1.0", "ab") as fh:
        fh.truncate(fh.tell() + (256 << 20))  # 256 MiB of zeros after the records (a crash's preallocation)
    rss, _ = max_rss_mb(
        f"""
        import lrreport
        rs = lrreport.load({str(tmp_path)!r})
        assert rs.runs['run'].points == 50, rs
        assert any(n.kind == 'damaged' for n in rs.notes), rs.notes
        """
    )
    assert rss < 1024


def test_rolled_back_records_are_linear(tmp_path):
    """Records whose CRC holds but whose proto breaks after adding a new tag: each one used to
    rebuild the whole tag table (quadratic). 60,000 of them, beside 20,000 good tags."""
    from lrreport.ingest._tfrecord import masked_crc32c

    def record(data: bytes) -> bytes:
        head = struct.pack("<Q", len(data))
        hb = np.frombuffer(head, np.uint8).copy()
        db = np.frombuffer(data, np.uint8).copy()
        return head + struct.pack("<I", masked_crc32c(hb, 0, 8)) + data + struct.pack("<I", masked_crc32c(db, 0, len(db)))

    def value(tag: bytes, v: float) -> bytes:
        return b"\x0a" + bytes([len(tag)]) + tag + b"\x15" + struct.pack("<f", v)

    def event(step: int, values: bytes) -> bytes:
        return b"\x10" + bytes([step & 0x7F]) + b"\x2a" + bytes([len(values)]) + values

    parts = []
    for i in range(20_000):
        parts.append(record(event(1, b"\x0a" + bytes([len(value(b"g%05d" % i, 1.0))]) + value(b"g%05d" % i, 1.0))))
    for i in range(60_000):
        good = value(b"b%05d" % i, 1.0)
        bad = b"\x0a\x05\x0a\x7fzzz"  # a second value whose tag length runs past its end
        vals = b"\x0a" + bytes([len(good)]) + good + bad
        parts.append(record(event(2, vals)))
    f = tmp_path / "run" / "events.out.tfevents.1700000000.host.1.0"
    f.parent.mkdir()
    f.write_bytes(b"".join(parts))
    ef = in_time(lrreport.ingest.tfevents.read_event_file, f)
    assert len(ef) == 20_000 and ef.n_corrupt == 60_000


@pytest.mark.slow
@pytest.mark.parametrize("case", ["header-10MB", "100k-columns", "million-epochs-csv", "million-epochs-history"])
def test_huge_csv_and_history_shapes_are_linear_and_small(tmp_path, case):
    d = tmp_path / "r"
    d.mkdir()
    if case == "header-10MB":
        cols = [f"loss_{i}_" + "x" * 40 for i in range(200_000)]
        (d / "log.csv").write_text("epoch," + ",".join(cols) + "\n0," + ",".join("0.5" for _ in cols) + "\n1," + ",".join("0.4" for _ in cols) + "\n")
        expect = 2 * (20_000 - 1)  # read up to MAX_COLUMNS, and said (a "partial" file note)
    elif case == "100k-columns":
        cols = [f"loss{i}" for i in range(100_000)]
        (d / "log.csv").write_text("epoch," + ",".join(cols) + "\n" + "".join(f"{e}," + ",".join("0.5" for _ in cols) + "\n" for e in range(3)))
        expect = 3 * (20_000 - 1)
    elif case == "million-epochs-csv":
        n = 1_000_000
        with open(d / "training.log", "w") as fh:
            fh.write("epoch,loss,lr,val_loss\n")
            fh.writelines(f"{e},{1 / (e + 1)},0.01,{1.1 / (e + 1)}\n" for e in range(n))
        expect = 3 * n
    else:
        n = 1_000_000
        (d / "history.json").write_text(json.dumps({"loss": [1 / (e + 1) for e in range(n)], "val_loss": [1.1 / (e + 1) for e in range(n)], "lr": [0.01] * n}))
        expect = 3 * n
    rss, out = max_rss_mb(
        f"""
        import lrreport
        from lrreport.report.jsonout import to_json
        from lrreport.report.markdown import to_markdown
        rs = lrreport.load({str(tmp_path)!r})
        print('points', rs.scalars.height)
        assert {case!r} not in ('header-10MB', '100k-columns') or [n.kind for n in rs.notes] == ['partial'], rs.notes
        a = lrreport.analyze(rs)
        to_json(a); to_markdown(a); [a.trace(r) for r in a.runs]
        """,
        timeout=600,
    )
    assert f"points {expect}" in out
    assert rss < 1024


def test_damaged_pickle_is_bounded(tmp_path):
    import pickle

    (tmp_path / "r").mkdir()
    good = pickle.dumps({"loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.5, 0.4]})
    # LONG_BINPUT with a memo index of 2**32-16: the C unpickler allocates and zeroes the memo up to it.
    (tmp_path / "r" / "history_memo.pkl").write_bytes(b"\x80\x04N" + b"r\xf0\xff\xff\xff" + b".")
    # BINBYTES8 claiming 4 GB of data that is not there.
    (tmp_path / "r" / "history_long.pkl").write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 4 << 30) + b"xx.")
    (tmp_path / "r" / "history_ok.pkl").write_bytes(good)
    rss, out = max_rss_mb(
        f"""
        import lrreport
        rs = lrreport.load({str(tmp_path)!r}, allow_pickle=True)
        print('runs', sorted(rs.runs), len(rs.errors))
        """
    )
    assert "runs ['r/history_ok.pkl'] 2" in out
    assert rss < 1024


# --- 6. environment --------------------------------------------------------------------------------------
@pytest.mark.parametrize("no_cache", [False, True])
def test_importable_with_read_only_install_and_no_home(tmp_path, no_cache):
    """A copy of the package where __pycache__ cannot be created (a file stands in its way:
    this works for root too), HOME a non-folder, no XDG dirs: import, read, analyse, report."""
    import shutil

    pkg = tmp_path / "site" / "lrreport"
    shutil.copytree(REPO / "lrreport", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "templates", pkg / "templates")
    for sub in ("", "ingest", "analyze", "report", "harness", "analyze/detectors"):
        (pkg / sub / "__pycache__").write_text("")  # not a folder: nothing can be cached beside the code
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        for p in sorted(pkg.rglob("*"), reverse=True):
            p.chmod(0o555 if p.is_dir() else 0o444)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "NUMBA_", "MPL", "LRREPORT"))}
    env.update(HOME="/dev/null", PYTHONPATH=str(tmp_path / "site"), PYTHONDONTWRITEBYTECODE="1")
    if no_cache:
        env["LRREPORT_NO_JIT_CACHE"] = "1"
    code = textwrap.dedent(
        f"""
        import lrreport, os
        from lrreport.report import Report
        assert lrreport.__file__.startswith({str(tmp_path)!r})
        rs = lrreport.load({str(REPO / "sample_logs" / "lr-too-high")!r})
        a = lrreport.analyze(rs)
        Report(a, workers=1).to_html()
        print("ok", len(rs.runs), os.environ.get("NUMBA_CACHE_DIR"))
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("ok 1")
    assert len(res.stderr.strip().splitlines()) <= 1, res.stderr  # at most a one-line notice


# --- 7. damage is shown where the user looks ---------------------------------------------------------------
def test_corrupt_record_is_said_on_the_terminal(tmp_path):
    f = event_file(tmp_path / "run" / "events.out.tfevents.1700000000.host.1.0", [("loss", s, 1.0 / (s + 1)) for s in range(40)])
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data[:-7]))  # and a cut-off last record
    res = CliRunner().invoke(main, ["analyze", str(tmp_path), "--no-html"])
    assert res.exit_code == 0
    assert "1 read with damage skipped" in res.output and "1 with an incomplete tail held back" in res.output
    assert "lrreport: damaged: " in res.output and "corrupt records skipped" in res.output
    res = CliRunner().invoke(main, ["ls", str(tmp_path)])
    assert "damaged: " in res.output and "truncated: " in res.output
    doc = json.loads(CliRunner().invoke(main, ["ls", str(tmp_path), "--json"]).stdout)
    assert doc["files"]["damaged"] == 1 and doc["files"]["truncated"] == 1
    doc = json.loads(CliRunner().invoke(main, ["analyze", str(tmp_path), "--no-html", "--json", "-", "-q"]).stdout)
    assert doc["summary"]["files"]["damaged"] == 1 and {n["kind"] for n in doc["file_notes"]} == {"damaged", "truncated"}


def test_output_naming_a_folder_is_a_clean_error(tmp_path):
    good_run(tmp_path / "logs")
    (tmp_path / "out").mkdir()
    for args in (["-o", str(tmp_path / "out")], ["--no-html", "--json", str(tmp_path / "out")], ["--no-html", "--markdown", str(tmp_path / "out")]):
        res = CliRunner().invoke(main, ["analyze", str(tmp_path / "logs"), *args])
        assert res.exit_code == 2 and "it is a folder" in res.output and "Traceback" not in res.output


# --- 8. live files -------------------------------------------------------------------------------------------
def _appending_writer(path: Path, make_line, stop: threading.Event, chunk: int = 7):
    """Append lines in small, unaligned pieces (a writer mid-line when the reader looks)."""
    i = 0
    with open(path, "ab", buffering=0) as fh:
        while not stop.is_set() and i < 4_000:
            line = make_line(i).encode()
            for k in range(0, len(line), chunk):
                fh.write(line[k : k + chunk])
            i += 1


@pytest.mark.parametrize("fmt", ["csv", "mlflow", "text"])
def test_live_file_never_yields_a_cut_off_value(tmp_path, fmt):
    value = [f"{0.07231330071735642 + i * 1e-9!r}" for i in range(4_000)]
    if fmt == "csv":
        path = tmp_path / "r" / "training.log"
        path.parent.mkdir()
        path.write_text("epoch,loss,lr\n")

        def make_line(i):
            return f"{i},{value[i]},0.01\n"

        def values(rs):
            return rs.series("r", "train_loss").value if "r" in rs.runs else np.zeros(0)
    elif fmt == "mlflow":
        run = mlflow_run(tmp_path, lines="")
        path = run / "metrics" / "loss"

        def make_line(i):
            return f"{1700000000000 + i} {value[i]} {i}\n"

        def values(rs):
            return rs.series(next(iter(rs.runs)), "train_loss").value if rs.runs else np.zeros(0)
    else:
        path = tmp_path / "train.log"
        path.write_text("")

        def make_line(i):
            return f"Epoch {i}: loss={value[i]}\n"

        def values(rs):
            return rs.series(next(iter(rs.runs)), "train_loss").value if rs.runs else np.zeros(0)

    allowed = {float(v) for v in value}
    stop = threading.Event()
    t = threading.Thread(target=_appending_writer, args=(path, make_line, stop), daemon=True)
    t.start()
    seen = 0
    held = 0
    try:
        for _ in range(15):
            rs = lrreport.load(tmp_path, workers=1)
            vals = values(rs)
            assert all(float(v) in allowed for v in vals), [v for v in vals if float(v) not in allowed][:3]
            if fmt == "mlflow" and len(vals):
                steps = rs.series(next(iter(rs.runs)), "train_loss").step
                assert steps.tolist() == list(range(len(steps)))  # no spurious step-0 point
            seen = max(seen, len(vals))
            held += any(n.kind == "truncated" for n in rs.notes)
    finally:
        stop.set()
        t.join()
    assert seen > 0


def test_truncated_event_file_keeps_complete_records(tmp_path):
    f = event_file(tmp_path / "run" / "events.out.tfevents.1700000000.host.1.0", [("loss", s, float(s)) for s in range(30)])
    data = f.read_bytes()
    for cut in range(len(data) - 60, len(data)):
        f.write_bytes(data[:cut])
        rs = lrreport.load(tmp_path)
        s = rs.series("run", "train_loss")
        assert s.value.tolist() == [float(x) for x in s.step.tolist()] and len(s) in (28, 29)


def test_time_budget_per_file_stops_a_slow_read(tmp_path):
    """The budget is cooperative: readers whose loops run in Python check it. With no time at
    all, a text log stops at its first check, with a one-line reason, and the others are read."""
    good_run(tmp_path)
    (tmp_path / "train.log").write_text("".join(f"Epoch {e}/50 - loss: {1 / e:.4f}\n" for e in range(1, 51)))
    rs = lrreport.load(tmp_path, max_seconds=0)
    assert "good" in rs.runs
    (err,) = rs.errors
    assert err.path.endswith("train.log") and "longer than the 0 s limit" in err.error
    again = lrreport.load(tmp_path)
    assert len(again.runs) == 2 and not again.errors


def test_axis_arithmetic_at_the_ends_of_a_float():
    """The pieces behind every chart: ticks and scales whose naive sums overflow."""
    from lrreport.report.svg import _Scale, log_ticks, nice_ticks

    assert 1e300 <= log_ticks(0.2, 1.7e308)[-1] <= 1e308
    scale = _Scale(0.2, 1e308, 0.0, 100.0, True)
    lo, hi = scale.domain()  # 10**308.x was an OverflowError
    assert math.isfinite(lo) and math.isfinite(hi)
    assert all(math.isfinite(t) for t in log_ticks(lo, hi))
    ticks = nice_ticks(-1e308, 1e308)
    assert 3 <= len(ticks) <= 21 and all(math.isfinite(t) for t in ticks)
    px = _Scale(-1e308, 1e308, 0.0, 100.0, False)(np.array([-1e308, 0.0, 1e308]))
    assert np.allclose(px, [0.0, 50.0, 100.0])
