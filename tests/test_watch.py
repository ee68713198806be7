"""``lrreport analyze --watch`` beside writers that append while it reads.

Three runs grow at once in one logdir, each written in small pieces that end
mid-record or mid-line (what a reader sees of a training process between two
flushes): a TensorBoard event file, a Keras CSV log, and an MLflow metric
file. Every analysis the watcher makes must show each run as a consistent
prefix of what its writer wrote (steps 0..k with nothing missing), every value
exactly as written (never a number cut short), and the last one all of it.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lrreport.cache import SummaryCache
from lrreport.report import Report
from lrreport.report.jsonout import to_json
from lrreport.watch import watch

N = 1500  # points per writer
CHUNK = 13  # bytes per write: records and lines are cut anywhere


def _loss(i: int) -> float:
    return 0.07231330071735642 + i * 1e-9 + 1.0 / (i + 1)


def _event_records() -> list[bytes]:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    out = []
    for i in range(-1, N):
        buf = io.BytesIO()
        if i < 0:
            event = event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")
        else:
            summ = summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag="loss", simple_value=_loss(i)), summary_pb2.Summary.Value(tag="lr", simple_value=0.01)]
            )
            event = event_pb2.Event(wall_time=1.7e9 + i, step=i, summary=summ)
        RecordWriter(buf).write(event.SerializeToString())
        out.append(buf.getvalue())
    return out


class Writers:
    """One thread appending three runs in unaligned chunks, pausing now and then so the
    watcher sees many different lengths."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.done = threading.Event()
        events = logdir / "tb" / "events.out.tfevents.1700000000.host.1.0"
        events.parent.mkdir(parents=True)
        csv = logdir / "keras" / "training.log"
        csv.parent.mkdir(parents=True)
        run = logdir / "mlruns" / "0" / "abc"
        for sub in ("metrics", "params", "tags"):
            (run / sub).mkdir(parents=True)
        (run / "meta.yaml").write_text("run_id: abc\nexperiment_id: '0'\nstatus: 1\nstart_time: 1700000000000\n")
        (run / "params" / "lr").write_text("0.01")
        (run / "tags" / "mlflow.runName").write_text("live")
        self.streams = [
            (events, _event_records()),
            (csv, [b"epoch,loss,lr\n"] + [f"{i},{_loss(i)!r},0.01\n".encode() for i in range(N)]),
            (run / "metrics" / "loss", [f"{1700000000000 + i} {_loss(i)!r} {i}\n".encode() for i in range(N)]),
        ]
        for path, _ in self.streams:
            path.write_bytes(b"")
        self.thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        handles = [open(path, "ab", buffering=0) for path, _ in self.streams]
        try:
            for i in range(N + 1):
                for fh, (_, records) in zip(handles, self.streams):
                    if i < len(records):
                        data = records[i]
                        for k in range(0, len(data), CHUNK):
                            fh.write(data[k : k + CHUNK])
                if i % 10 == 0:
                    time.sleep(0.01)
        finally:
            for fh in handles:
                fh.close()
            self.done.set()


def _check_prefix(analysis, exact: dict[str, np.ndarray]) -> dict[str, int]:
    """Each run's loss: steps 0..k, every value as written. Returns k + 1 per run."""
    lengths = {}
    for run in analysis.runs:
        info = analysis.run_info(run)
        kind = {"tfevents": "tb", "keras_csv": "keras", "mlflow": "mlflow"}.get(info.source, info.source)
        s = analysis.series(run, "train_loss", None)
        if s is None or len(s) == 0:
            continue
        steps = s.step.astype(np.int64)
        k = int(steps.max()) + 1
        assert steps.min() >= 0 and np.all(np.diff(steps) > 0), (run, steps[:10])
        expected = exact[kind][steps]
        assert np.array_equal(s.value, expected), (run, s.value[s.value != expected][:3], expected[s.value != expected][:3])
        # Nothing missing below the last step: every point of 0..k-1 was read.
        per_step = 2 if kind in ("tb", "keras") else 1  # loss and lr per step; MLflow's lr is a param
        assert info.points == per_step * k, (run, info.points, k)
        lengths[kind] = k
    return lengths


@pytest.fixture
def exact() -> dict[str, np.ndarray]:
    values = np.array([_loss(i) for i in range(N)])
    return {"tb": values.astype(np.float32).astype(np.float64), "keras": values, "mlflow": values}


def test_watch_beside_writers_sees_only_consistent_prefixes(tmp_path, exact):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    writers = Writers(logdir)
    seen: list[dict[str, int]] = []
    stop = threading.Event()

    def on_analysis(analysis, n):
        seen.append(_check_prefix(analysis, exact))
        doc = json.loads(to_json(analysis))  # the outputs --watch writes, each time
        assert all(r["points"] == analysis.run_info(r["run"]).points for r in doc["runs"])
        if n % 4 == 1:
            assert "<html" in Report(analysis, workers=1).to_html()
        if writers.done.is_set() and seen[-1] == {"tb": N, "keras": N, "mlflow": N}:
            stop.set()

    writers.thread.start()
    timer = threading.Timer(120, stop.set)  # a safety net, not a speed limit: the asserts below say what failed
    timer.start()
    try:
        watch(logdir, on_analysis, interval=0.05, stop=stop, cache=SummaryCache(tmp_path / "cache"), workers=1)
    finally:
        timer.cancel()
        writers.thread.join()
    assert seen[-1] == {"tb": N, "keras": N, "mlflow": N}, seen[-1]
    partial = [s for s in seen if s and any(0 < v < N for v in s.values())]
    assert len(partial) >= 2, seen  # the watcher did look while the runs grew
    for kind in ("tb", "keras", "mlflow"):  # each run only ever grows
        lengths = [s.get(kind, 0) for s in seen]
        assert lengths == sorted(lengths), (kind, lengths)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_cli_watch_rewrites_whole_outputs_and_stops_on_ctrl_c(tmp_path):
    """The command itself: each JSON it leaves is whole (written by rename), every run's
    point count a whole number of steps, and Ctrl-C ends it with 130."""
    logdir = tmp_path / "logs"
    logdir.mkdir()
    writers = Writers(logdir)
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, LRREPORT_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrreport", "analyze", str(logdir), "--watch", "0.1", "--workers", "1",
         "-o", str(out / "r.html"), "--json", str(out / "r.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    writers.thread.start()
    docs = []
    try:
        deadline = time.monotonic() + 120  # a safety net only
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "r.json").exists():
                doc = json.loads((out / "r.json").read_text())  # never half-written
                docs.append({r["format"]: r["points"] for r in doc["runs"]})
                if writers.done.is_set() and docs[-1] == {"tfevents": 2 * N, "keras_csv": 2 * N, "mlflow": N}:
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        writers.thread.join()
    assert proc.returncode == 130, err.decode()
    assert docs and docs[-1] == {"tfevents": 2 * N, "keras_csv": 2 * N, "mlflow": N}, (docs[-3:], err.decode()[-2000:])
    assert all(v % 2 == 0 for d in docs for f, v in d.items() if f != "mlflow")
    assert "Traceback" not in err.decode()
