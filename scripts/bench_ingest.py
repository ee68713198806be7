"""Benchmark reading TensorBoard event files: lrreport against the usual readers, every tool the same way.

Two logdirs of ``--scalars`` scalars each (default 1.5M), 8 runs each, in the
byte format the real writers produce:

* ``simple``: ``Summary.Value.simple_value``, one value per Event, as PyTorch's
  SummaryWriter and TF1 write them (``run_NN/events.out.tfevents.*``);
* ``tf2``: float32 scalar tensors, as Keras' TensorBoard callback writes them
  under TF2 (``tf.summary.scalar``: ``tensor_content``, "scalars" plugin
  metadata with ``DATA_CLASS_SCALAR`` on every event), in ``run_NN/train`` and
  ``run_NN/validation``, ``batch_*`` tags every step and ``epoch_*`` every 100.

Every tool is timed the same way: a fresh process for every measurement, from
the moment it is started to the end of its first call reading the whole
logdir (no subset, nothing extrapolated), the rows it returned counted; the
median of ``--repeat`` measurements is printed. The tools:

* ``lrreport.load(logdir)`` (numba's cache warm: a run after the first);
* tbparse ``SummaryReader(logdir)``: rows of ``.scalars`` + ``.tensors``;
* TensorBoard's ``EventMultiplexer`` (``size_guidance`` 0: every point) without
  TensorFlow (TensorBoard's Python record reader; TensorFlow is hidden from it
  even when installed) and with TensorFlow (TF's C++ record reader; needs an
  interpreter with tensorflow: the current one, or ``--tf-python``);
* rustboard, TensorBoard's Rust data server (``tensorboard-data-server``):
  ``--reload once --samples-per-plugin scalars=all``, timed to its "Finished
  load cycle" log line; its rows are counted afterwards over its gRPC API.

Then lrreport alone, first call on an empty numba cache (what the first run
after an install pays) against a warm one: ``lrreport.load`` of the simple
set, and ``lrreport analyze sample_logs`` without and with the HTML report.

The files are framed here (TFRecord: length, masked CRC-32C, data, masked
CRC-32C) around Event protos built with TensorBoard's own proto classes;
every reader verifies the CRCs, so a wrong one would show as missing rows.

    python scripts/bench_ingest.py                      # ~8 min on 2 cores
    python scripts/bench_ingest.py --scalars 5000000 --repeat 5 --tf-python /path/to/tf-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIMPLE_TAGS = ("train/loss", "train/lr", "train/grad_norm", "train/accuracy")
BATCH_TAGS = ("batch_loss", "batch_accuracy")  # Keras' TensorBoard callback, update_freq="batch"
EPOCH_TAGS = ("epoch_loss", "epoch_accuracy", "epoch_learning_rate")
VAL_TAGS = ("epoch_loss", "epoch_accuracy")
STEPS_PER_EPOCH = 100


# --- writing the logdirs -------------------------------------------------------------------------


def _frame(payloads: list[bytes]) -> bytes:
    """TFRecord framing of serialized Events, CRCs computed in one batch."""
    from lrreport.ingest._tfrecord_py import masked_crc32c_spans

    k = len(payloads)
    lens = np.fromiter((len(p) for p in payloads), dtype=np.int64, count=k)
    headers = lens.astype("<u8").view(np.uint8)
    hcrc = masked_crc32c_spans(headers, np.arange(k) * 8, np.full(k, 8)).tolist()
    data = np.frombuffer(b"".join(payloads), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]])
    dcrc = masked_crc32c_spans(data, offsets, lens).tolist()
    head, tail = struct.Struct("<QI").pack, struct.Struct("<I").pack
    parts = []
    for p, n, hc, dc in zip(payloads, lens.tolist(), hcrc, dcrc):
        parts += (head(n, hc), p, tail(dc))
    return b"".join(parts)


def _file_name(t0: float, k: int, v2: bool) -> str:
    return f"events.out.tfevents.{int(t0)}.{socket.gethostname()}.{os.getpid()}.{k}" + (".v2" if v2 else "")


def _write_simple_run(run_dir: str, n_scalars: int, seed: int) -> int:
    from tensorboard.compat.proto.event_pb2 import Event

    rng = np.random.default_rng(seed)
    t0 = 1.7e9 + seed * 1e5
    n_steps = n_scalars // len(SIMPLE_TAGS)
    values = rng.standard_normal(n_steps * len(SIMPLE_TAGS)).astype(np.float32).tolist()
    payloads = [Event(wall_time=t0, file_version="brain.Event:2").SerializeToString()]
    ev = Event()  # one message, fields overwritten per event: building protos is the slow part
    value = ev.summary.value.add()
    i = 0
    for step in range(n_steps):
        ev.wall_time = t0 + step * 0.01
        ev.step = step
        for tag in SIMPLE_TAGS:  # one value per event, as torch's add_scalar writes them
            value.tag = tag
            value.simple_value = values[i]
            payloads.append(ev.SerializeToString())
            i += 1
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / _file_name(t0, 0, False)).write_bytes(_frame(payloads))
    return i


def _write_tf2_run(run_dir: str, n_scalars: int, seed: int) -> int:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import DATA_CLASS_SCALAR, SummaryMetadata

    rng = np.random.default_rng(seed)
    t0 = 1.7e9 + seed * 1e5
    per_epoch = STEPS_PER_EPOCH * len(BATCH_TAGS) + len(EPOCH_TAGS) + len(VAL_TAGS)
    n_epochs = max(1, n_scalars // per_epoch)
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"), data_class=DATA_CLASS_SCALAR)
    head = Event(wall_time=t0, file_version="brain.Event:2")
    head.source_metadata.writer = "tensorflow.core.util.events_writer"
    train, val = [head.SerializeToString()], [head.SerializeToString()]
    ev = Event()
    value = ev.summary.value.add()
    value.metadata.CopyFrom(meta)
    value.tensor.dtype = 1  # DT_FLOAT
    value.tensor.tensor_shape.SetInParent()
    x = rng.standard_normal(n_epochs * per_epoch).astype(np.float32)
    raw = [x[i : i + 1].tobytes() for i in range(x.shape[0])]
    i = 0

    def emit(out: list[bytes], tag: str, step: int, wall: float) -> None:
        nonlocal i
        ev.wall_time, ev.step, value.tag = wall, step, tag
        value.tensor.tensor_content = raw[i]
        out.append(ev.SerializeToString())
        i += 1

    for epoch in range(n_epochs):
        for b in range(STEPS_PER_EPOCH):
            step = epoch * STEPS_PER_EPOCH + b
            for tag in BATCH_TAGS:
                emit(train, tag, step, t0 + step * 0.05)
        wall = t0 + (epoch + 1) * STEPS_PER_EPOCH * 0.05
        for tag in EPOCH_TAGS:
            emit(train, tag, epoch, wall)
        for tag in VAL_TAGS:
            emit(val, tag, epoch, wall + 1.0)
    for sub, payloads in (("train", train), ("validation", val)):
        d = Path(run_dir) / sub
        d.mkdir(parents=True, exist_ok=True)
        (d / _file_name(t0, 0 if sub == "train" else 1, True)).write_bytes(_frame(payloads))
    return i


def build_logdir(out: Path, form: str, n_scalars: int, n_runs: int) -> int:
    """Write one set; returns the number of scalars written."""
    writer = _write_simple_run if form == "simple" else _write_tf2_run
    per_run = n_scalars // n_runs
    jobs = [(str(out / f"run_{k:02d}"), per_run, k) for k in range(n_runs)]
    with ProcessPoolExecutor(max_workers=min(n_runs, os.cpu_count() or 1)) as pool:
        return sum(pool.map(writer, *zip(*jobs)))


# --- the tools, each in a fresh process ----------------------------------------------------------

_DONE = 'print("BENCH " + json.dumps({{"rows": int(n), "t_end": time.time(), "note": note}}))'

LRREPORT = f"""
import json, sys, time
sys.path.insert(0, {{root!r}})
import lrreport
rs = lrreport.load({{logdir!r}})
n = rs.scalars.height
from lrreport.ingest import _scan
note = "numba kernel" if _scan.kernel_used() else "Python reader"
{_DONE}
"""

STARTUP = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import lrreport
t1 = time.perf_counter()
import numpy as np
from lrreport.ingest import _scan
kernel = _scan._kernel()  # import numba, then load the kernel from numba's cache (or compile it)
kernel.scan_events(np.zeros(1, np.uint8))
kernel.purge_superseded(
    np.zeros(2, np.int32), np.arange(2, dtype=np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64),
    np.zeros(0, np.int64), np.zeros(0, np.int64),
)
print("BENCH " + json.dumps({{"import": t1 - t0, "kernel": time.perf_counter() - t1}}))
"""

TBPARSE = f"""
import json, time
from tbparse import SummaryReader
r = SummaryReader({{logdir!r}})
n = len(r.scalars) + len(r.tensors)
note = "rows of .scalars + .tensors"
{_DONE}
"""

MULTIPLEXER = f"""
import json, sys, time, types
if {{hide_tf}}:  # TensorBoard then uses its own Python record reader even where TensorFlow is installed
    sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")
from tensorboard.backend.event_processing import event_multiplexer
m = event_multiplexer.EventMultiplexer(size_guidance={{{{"scalars": 0, "tensors": 0}}}})
m.AddRunsFromDirectory({{logdir!r}})
m.Reload()
n = 0
for run, tags in m.Runs().items():
    n += sum(len(m.Scalars(run, t)) for t in tags["scalars"])
    n += sum(len(m.Tensors(run, t)) for t in tags["tensors"])
from tensorboard.compat import tf
note = "TensorFlow " + tf.__version__ + " record reader" if tf.__name__ == "tensorflow" else "TensorBoard's Python record reader"
{_DONE}
"""


def run_child(python: str, code: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(seconds from process start to the end of the call, rows, note)."""
    t0 = time.time()
    out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{python} failed ({out.returncode}): {out.stderr.strip().splitlines()[-3:]}")
    res = json.loads(lines[-1][6:])
    return res["t_end"] - t0, res["rows"], res["note"]


def run_rustboard(logdir: Path) -> tuple[float, int, str]:
    """rustboard: start it, wait for 'Finished load cycle', then count its rows over gRPC."""
    import grpc
    from tensorboard.data.proto import data_provider_pb2 as pb
    from tensorboard.data.proto import data_provider_pb2_grpc as pb_grpc
    from tensorboard_data_server import server_binary

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        args = [server_binary(), "--logdir", str(logdir), "--reload", "once", "--samples-per-plugin", "scalars=all"]
        args += ["--port", "0", "--port-file", str(port_file), "-v"]
        t0 = time.time()
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            for line in proc.stderr:
                if "Finished load cycle" in line:
                    break
            else:
                raise RuntimeError("rustboard exited before finishing its load cycle")
            seconds = time.time() - t0
            while not port_file.exists() or not port_file.read_text().strip():
                time.sleep(0.01)
            port = int(port_file.read_text())
            opts = [("grpc.max_receive_message_length", -1)]
            with grpc.insecure_channel(f"localhost:{port}", options=opts) as channel:
                stub = pb_grpc.TensorBoardDataProviderStub(channel)
                plugin = pb.PluginFilter(plugin_name="scalars")
                listing = stub.ListScalars(pb.ListScalarsRequest(plugin_filter=plugin))
                rows = 0
                for run in listing.runs:
                    req = pb.ReadScalarsRequest(
                        plugin_filter=plugin,
                        run_tag_filter=pb.RunTagFilter(runs=pb.RunFilter(names=[run.run_name])),
                        downsample=pb.Downsample(num_points=2**31 - 1),
                    )
                    for r in stub.ReadScalars(req).runs:
                        rows += sum(len(t.data.step) for t in r.tags)
        finally:
            proc.kill()
            proc.wait()
    return seconds, rows, "rows over gRPC ReadScalars"


def median_of(repeat: int, fn) -> tuple[float, int, str]:
    runs = [fn() for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), runs[-1][1], runs[-1][2]


def has_tensorflow(python: str) -> bool:
    code = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('tensorflow') else 1)"
    return subprocess.run([python, "-c", code], capture_output=True, check=False).returncode == 0


def cli_seconds(python: str, args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of a whole ``python -m lrreport ...`` process."""
    t0 = time.perf_counter()
    subprocess.run([python, "-m", "lrreport", *args], env=env, cwd=str(ROOT), check=True, capture_output=True)
    return time.perf_counter() - t0


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scalars", type=int, default=1_500_000, help="scalars in each set (default 1.5M)")
    ap.add_argument("--runs", type=int, default=8, help="runs in each set (default 8)")
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process measurements per tool; the median is printed")
    ap.add_argument("--out", type=Path, help="write the logdirs here (kept); default a temp dir (removed)")
    ap.add_argument("--tf-python", help="a Python with tensorflow and tensorboard for the with-TensorFlow row")
    ap.add_argument("--skip-cold", action="store_true", help="do not measure lrreport on an empty numba cache")
    ap.add_argument("--tools", default="all", help="comma list of lrreport,tbparse,tensorboard,tensorboard+tf,rustboard")
    args = ap.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="lrreport-bench-")
    root = args.out or Path(tmp)
    try:
        return _bench(args, root, Path(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(args, root: Path, tmp: Path) -> int:
    python = sys.executable
    tools = {"lrreport", "tbparse", "tensorboard", "tensorboard+tf", "rustboard"}
    if args.tools != "all":
        tools = set(args.tools.split(","))
    tf_python = args.tf_python or (python if has_tensorflow(python) else None)

    sets: dict[str, tuple[Path, int]] = {}
    for form in ("simple", "tf2"):
        d = root / form
        if d.exists():
            shutil.rmtree(d)
        t = time.perf_counter()
        written = build_logdir(d, form, args.scalars, args.runs)
        files = [p for p in d.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        print(f"{form}: {d}, {args.runs} runs, {len(files)} files, {size / 1e6:.0f} MB, "
              f"{written:,} scalars; written in {time.perf_counter() - t:.1f}s")
        sets[form] = (d, written)

    warm_cache = str(tmp / "numba-warm")
    env_warm = dict(os.environ, NUMBA_CACHE_DIR=warm_cache)
    # The "warm" state: byte-compiled modules (what pip does at install time) and numba's cache filled.
    subprocess.run([python, "-c", STARTUP.format(root=str(ROOT))], env=env_warm, capture_output=True, check=True)

    rows: list[tuple[str, str, float, int, str]] = []  # set, tool, seconds, rows, note
    def measure(set_name: str, tool: str, fn) -> None:
        rows.append((set_name, tool, *median_of(args.repeat, fn)))

    for form, (d, _) in sets.items():
        ld = str(d)
        if "lrreport" in tools:
            code = LRREPORT.format(root=str(ROOT), logdir=ld)
            measure(form, "lrreport.load", lambda code=code: run_child(python, code, env_warm))
        if "rustboard" in tools:
            measure(form, "rustboard (TensorBoard's Rust data server)", lambda d=d: run_rustboard(d))
        if "tensorboard+tf" in tools and tf_python:
            code = MULTIPLEXER.format(logdir=ld, hide_tf=False)
            measure(form, "TensorBoard EventMultiplexer + TensorFlow", lambda code=code: run_child(tf_python, code))
        if "tensorboard" in tools:
            code = MULTIPLEXER.format(logdir=ld, hide_tf=True)
            measure(form, "TensorBoard EventMultiplexer, no TensorFlow", lambda code=code: run_child(python, code))
        if "tbparse" in tools:
            code = TBPARSE.format(logdir=ld)
            measure(form, "tbparse SummaryReader", lambda code=code: run_child(python, code))

    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f}; every tool in a fresh process, timed from its start to "
          f"the end of its first call on the whole set; median of {args.repeat}")
    print(f"{'set':7} {'tool':44} {'rows':>11} {'seconds':>8} {'scalars/s':>11} {'x lrreport':>10}  note")
    ok = True
    for form, tool, sec, n, note in rows:
        written = sets[form][1]
        lr = next((r[2] for r in rows if r[0] == form and r[1] == "lrreport.load"), float("nan"))
        flag = "" if n == written else f"  ROWS DIFFER: {n:,} of {written:,} written"
        ok &= n == written or tool != "lrreport.load"
        print(f"{form:7} {tool:44} {n:>11,} {sec:>8.2f} {n / sec:>11,.0f} {sec / lr:>9.2f}x  {note}{flag}")
    if not tf_python and "tensorboard+tf" in tools:
        print("TensorBoard + TensorFlow: not measured (no tensorflow here; pass --tf-python)")

    if "lrreport" in tools:
        splits = []
        for _ in range(args.repeat):
            out = subprocess.run([python, "-c", STARTUP.format(root=str(ROOT))], env=env_warm, capture_output=True,
                                 text=True, check=True)
            splits.append(json.loads(out.stdout.split("BENCH ")[-1]))
        print(f"lrreport's fixed start-up in a fresh process, median of {args.repeat}: "
              f"import lrreport (numpy, polars, ...) {statistics.median(x['import'] for x in splits):.2f}s; "
              f"import numba and load the kernel from a warm cache {statistics.median(x['kernel'] for x in splits):.2f}s")

    if not args.skip_cold:
        print()
        print(f"lrreport, first call in a fresh process: empty numba cache (first run after an install) vs warm; "
              f"median of {args.repeat}")
        sample = str(ROOT / "sample_logs")

        def cold_env() -> dict[str, str]:
            return dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(dir=tmp, prefix="numba-empty-"))

        code = LRREPORT.format(root=str(ROOT), logdir=str(sets["simple"][0]))
        cold = statistics.median(run_child(python, code, cold_env())[0] for _ in range(args.repeat))
        warm = statistics.median(run_child(python, code, env_warm)[0] for _ in range(args.repeat))
        print(f"  lrreport.load(simple set, {sets['simple'][1]:,} scalars): empty {cold:.2f}s, warm {warm:.2f}s, "
              f"{cold / warm:.2f}x")
        for label, extra in (("--no-html --json", ["--no-html", "--json", os.devnull]),
                             ("writing the HTML report", ["-o", str(tmp / "report.html")])):
            cli = ["analyze", sample, "-q", *extra]
            cold = statistics.median(cli_seconds(python, cli, cold_env()) for _ in range(args.repeat))
            warm = statistics.median(cli_seconds(python, cli, env_warm) for _ in range(args.repeat))
            print(f"  lrreport analyze sample_logs {label}: empty {cold:.2f}s, warm {warm:.2f}s, {cold / warm:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
