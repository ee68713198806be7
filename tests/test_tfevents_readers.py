"""The two event-file readers give the same results: Python/numpy (no compile) and the numba kernel.

Small inputs are read in Python (:mod:`lrreport.ingest._scan` decides), so
``test_tfevents.py`` exercises the Python reader; this module re-runs every
test of it with the numba kernel forced, and compares the two readers' raw
outputs on real-world files, fuzzed damage and random restart sequences.
Also: the EMA that replaced a numba loop, and that a fresh process analyses
``sample_logs`` without importing numba at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import conftest
from hypothesis import given, settings
from hypothesis import strategies as st

# Every test of test_tfevents.py, collected again here, where the fixture below forces the kernel.
from test_tfevents import *  # noqa: F403
from test_tfevents import REFERENCE, TEMPLATES, keras_scalar, simple_event, tensor, tensor_event, write_events

from lrreport.ingest import _scan, _tfrecord_py
from lrreport.ingest.tfevents import read_event_files, read_tfevents_run

REPO = Path(__file__).resolve().parent.parent
REALWORLD = conftest.REALWORLD / "tfevents"  # ../shared/realworld, or $LRREPORT_REALWORLD


@pytest.fixture(autouse=True)
def numba_kernel(monkeypatch):
    """Every file of these tests goes to the numba kernel (the budget of the Python reader is spent)."""
    monkeypatch.setattr(_scan, "PYTHON_BYTES", -1)
    monkeypatch.setattr(_scan, "_kernel_ready", False)  # restored after the test: later modules start fresh


def kernel():
    from lrreport.ingest import _tfrecord

    return _tfrecord


def assert_same_scan(buf: np.ndarray) -> tuple:
    a = kernel().scan_events(buf)
    b = _tfrecord_py.scan_events(buf)
    names = ("tag_id", "step", "wall_time", "value", "tag_off", "tag_len", "starts", "specials", "stats")
    for name, x, y in zip(names, a, b):
        assert x.dtype == y.dtype and x.shape == y.shape, name
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), name
        else:
            assert np.array_equal(x, y), name
    return b


def event_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "tfevents" in p.name)


# --- the readers agree -----------------------------------------------------------------------


def test_sample_and_realworld_files_read_the_same():
    files = event_files(REPO / "sample_logs") + (event_files(REALWORLD) if REALWORLD.is_dir() else [])
    assert len(files) >= 14
    points = 0
    for f in files:
        points += len(assert_same_scan(np.fromfile(f, dtype=np.uint8))[0])
    assert points > 6000


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(0, len(REFERENCE[0]) - 1), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, len(REFERENCE[0]))),
    insert=st.one_of(st.none(), st.tuples(st.integers(0, len(REFERENCE[0])), st.binary(min_size=1, max_size=40))),
    splice=st.one_of(st.none(), st.tuples(st.integers(0, len(REFERENCE[0])), st.integers(0, len(REFERENCE[0])))),
)
def test_damaged_files_read_the_same(edits, cut, insert, splice):
    """Flipped bytes, inserted garbage, a stretch of the file copied elsewhere, a cut tail."""
    buf = bytearray(REFERENCE[0])
    for pos, byte in edits:
        buf[pos] = byte
    if insert is not None:
        buf[insert[0] : insert[0]] = insert[1]
    if splice is not None:
        a, b = sorted(splice)
        buf[a:a] = buf[a : min(b, a + 200)]
    if cut is not None:
        del buf[cut:]
    assert_same_scan(np.frombuffer(bytes(buf), dtype=np.uint8))


@settings(max_examples=400, deadline=None)
@given(
    which=st.lists(st.integers(0, len(TEMPLATES) - 1), min_size=1, max_size=8),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10_000),
    target=st.integers(0, 7),
)
def test_malformed_events_with_valid_crc_read_the_same(which, edits, cut, target):
    """Damage inside the Event proto, CRCs valid: the wire-format walk itself must agree."""
    from lrreport.ingest._tfrecord_py import masked_crc32c_spans

    out = bytearray()
    for k, i in enumerate(which):
        data = bytearray(TEMPLATES[i])
        if k == target % len(which):
            for pos, byte in edits:
                data[pos % len(data)] = byte
            del data[cut % (len(data) + 1) :]
        head = len(data).to_bytes(8, "little")
        for part in (head, bytes(data)):
            crc = int(masked_crc32c_spans(np.frombuffer(part or b"\0", np.uint8), [0], [len(part)])[0])
            out += part + crc.to_bytes(4, "little")
    assert_same_scan(np.frombuffer(bytes(out), dtype=np.uint8))


def test_every_scalar_encoding_reads_the_same(tmp_path: Path):
    from tensorboard.compat.proto import event_pb2

    events = [simple_event("s", i, v) for i, v in enumerate([0.5, float("nan"), float("inf"), -0.0, 1e-45])]
    events += [keras_scalar("k", i, 1.0 / (i + 1)) for i in range(3)]
    events += [
        tensor_event("d", 1, tensor(2, double_val=[2.5])),
        tensor_event("d", 2, tensor(2, tensor_content=np.float64(-3.25).tobytes())),
        tensor_event("h", 1, tensor(19, half_val=[15360])),
        tensor_event("h", 2, tensor(19, half_val=[0x7C01])),
        tensor_event("h", 3, tensor(19, tensor_content=np.float16(-0.1).tobytes())),
        tensor_event("b", 1, tensor(14, half_val=[0x3F80])),
        tensor_event("i", 1, tensor(3, int_val=[-7])),
        tensor_event("i", 2, tensor(3, tensor_content=np.int32(-2**31).tobytes())),
        tensor_event("l", 1, tensor(9, int64_val=[2**62 + 1])),
        tensor_event("l", 2, tensor(9, tensor_content=np.int64(-(2**63)).tobytes())),
        tensor_event("v", 1, tensor(1, dims=(2,), float_val=[1.0, 2.0])),
        tensor_event("one", 1, tensor(1, dims=(1, 1), float_val=[4.0])),
        event_pb2.Event(step=5, session_log=event_pb2.SessionLog(status=1)),
    ]
    path = write_events(tmp_path, events)
    kept = assert_same_scan(np.fromfile(path, dtype=np.uint8))
    assert len(kept[0]) == 5 + 3 + 11 and kept[6].tolist() == [[19, 5]]  # all but the 2-element tensor


@settings(max_examples=300, deadline=None)
@given(
    points=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), max_size=120),
    starts=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 30), st.integers(0, 2)), max_size=4),
    streams=st.lists(st.integers(0, 2), min_size=5, max_size=5),
)
def test_restart_purge_is_the_same(points, starts, streams):
    tag = np.array([t for t, _ in points], dtype=np.int32)
    step = np.array([s for _, s in points], dtype=np.int64)
    starts = sorted((min(p, len(points)), s, k) for p, s, k in starts)
    sp = np.array([p for p, _, _ in starts], dtype=np.int64)
    ss = np.array([s for _, s, _ in starts], dtype=np.int64)
    sk = np.array([k for _, _, k in starts], dtype=np.int64)
    tag_stream = np.array(streams, dtype=np.int64)
    a = kernel().purge_superseded(tag, step, tag_stream, sp, ss, sk)
    b = _tfrecord_py.purge_superseded(tag, step, tag_stream, sp, ss, sk)
    assert np.array_equal(a, b)


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=3000),
    spans=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000)), min_size=1, max_size=30),
)
def test_batched_crc_matches_the_kernel(data, spans):
    buf = np.frombuffer(data + b"\0", dtype=np.uint8)
    n = len(data)
    starts = [min(a, n) for a, _ in spans]
    lengths = [min(ln, n - s) for s, (_, ln) in zip(starts, spans)]
    got = _tfrecord_py.masked_crc32c_spans(buf, starts, lengths)
    want = [kernel().masked_crc32c(buf, s, s + ln) for s, ln in zip(starts, lengths)]
    assert got.tolist() == want


def test_long_records_crc(tmp_path: Path):
    """A record of many 64-byte chunks (a graph, a big hparams set) is checked in Python ints."""
    rng = np.random.default_rng(3)
    buf = rng.integers(0, 256, 300_000, dtype=np.uint8)
    starts, lengths = [0, 5, 1000, 7], [300_000, 100_000, 64 * 17, 64 * 16 + 1]
    got = _tfrecord_py.crc32c_spans(buf, starts, lengths)
    assert got.tolist() == [kernel().crc32c(buf, s, s + ln) for s, ln in zip(starts, lengths)]


# --- which reader runs -----------------------------------------------------------------------


def test_budget_spent_then_kernel_same_run(tmp_path: Path, monkeypatch):
    """A run whose files straddle the Python reader's budget: some files each way, one result."""
    run = tmp_path / "run"
    for k in range(6):
        write_events(run / f"part{k}", [simple_event("loss", k * 50 + s, float(s)) for s in range(50)])
    files = event_files(run)
    monkeypatch.setattr(_scan, "PYTHON_BYTES", 10**9)
    everything_python = read_tfevents_run(run, files)
    assert not _scan.kernel_used()
    monkeypatch.setattr(_scan, "_python_bytes", 0)
    monkeypatch.setattr(_scan, "PYTHON_BYTES", 2 * files[0].stat().st_size + 10)
    mixed = read_tfevents_run(run, files, workers=1)
    assert _scan.kernel_used()
    assert mixed.frame.equals(everything_python.frame)
    assert [len(r) for r in read_event_files(files)] == [50] * 6


# --- the EMA ---------------------------------------------------------------------------------


def reference_ema(x: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased EMA, the loop numba used to compile."""
    out = np.empty(len(x))
    last, decay = 0.0, 1.0
    for i, v in enumerate(x.tolist()):
        last = last * weight + (1.0 - weight) * v
        decay *= weight
        out[i] = last / (1.0 - decay) if 1.0 - decay > 0 else v
    return out


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 3000),
    weight=st.one_of(st.sampled_from([0.0, 0.5, 0.9, 0.999, 1.0]), st.floats(0.0, 1.0)),
    scale=st.floats(-8, 8),
    seed=st.integers(0, 2**32 - 1),
    bad=st.lists(st.tuples(st.integers(0, 2999), st.sampled_from([np.nan, np.inf, -np.inf])), max_size=3),
)
def test_ema_equals_tensorboards_recurrence(n, weight, scale, seed, bad):
    from lrreport.analyze.signals import debiased_ema

    x = np.random.default_rng(seed).standard_normal(n) * 10.0**scale
    for i, v in bad:
        if i < n:
            x[i] = v
    got = debiased_ema(x, weight)
    want = reference_ema(x, min(max(weight, 0.0), 0.999))
    if np.isfinite(x).all():  # pandas' ewm: the same weighted mean, summed in another order
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * (np.abs(x).max() if n else 0))
    else:  # NaN/Inf take the loop itself: identical
        assert np.array_equal(got, want, equal_nan=True)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 3000),
    weight=st.one_of(st.sampled_from([1e-9, 3.7e-5, 0.049, 0.05, 0.6, 0.999]), st.floats(1e-12, 0.999)),
    scale=st.floats(-8, 150),
    seed=st.integers(0, 2**32 - 1),
)
def test_drawn_smoothing_equals_tensorboards_recurrence(n, weight, scale, seed):
    """The static charts' smoothing (blocks of cumulative sums, or a truncated sum for light
    weights) against the recurrence itself, to 1e-9 of the series' largest value."""
    from lrreport.report.svg import _ema_blocks

    x = np.random.default_rng(seed).standard_normal(n) * 10.0**scale + 1.0
    got = _ema_blocks(x, weight)
    want = reference_ema(x, weight)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(x).max())


# --- a fresh process never compiles for small inputs -----------------------------------------

FRESH = """
import json, runpy, sys
sys.argv = ["lrreport", "analyze", {logdir!r}, "-q", "-o", {html!r}, "--json", {json!r}]
code = 0
try:
    runpy.run_module("lrreport", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
from lrreport.ingest import _scan
print(json.dumps({{"exit": code, "numba": sorted(m for m in sys.modules if m == "numba" or m.startswith("numba.")),
                  "kernel": _scan.kernel_used()}}))
"""


def test_fresh_process_analyses_sample_logs_without_numba(tmp_path: Path):
    code = FRESH.format(logdir=str(REPO / "sample_logs"), html=str(tmp_path / "r.html"), json=str(tmp_path / "r.json"))
    env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(dir=tmp_path), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res == {"exit": 0, "numba": [], "kernel": False}
    assert json.loads((tmp_path / "r.json").read_text()) and (tmp_path / "r.html").stat().st_size > 0
    assert not any(Path(env["NUMBA_CACHE_DIR"]).iterdir())  # nothing was compiled


def test_kernel_loads_without_scipy_linalg_and_leaves_numba_whole():
    """Loading the reader's kernel skips numba's BLAS probe (an import of scipy.linalg, most
    of the kernel's start-up in a fresh process), and jitted np.dot still works after it."""
    code = (
        "import sys, numpy as np\n"
        "from lrreport.ingest import _scan\n"
        "k = _scan._kernel(); k.scan_events(np.zeros(1, np.uint8))\n"
        "assert 'scipy.linalg' not in sys.modules, 'probe ran'\n"
        "assert 'scipy.linalg.cython_blas' not in sys.modules\n"
        "import numba\n"
        "f = numba.njit(lambda a, b: np.dot(a, b))\n"
        "assert f(np.ones(3), np.arange(3.0)) == 3.0\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]
