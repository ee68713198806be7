"""Benchmark lrreport's TensorBoard event-file reader against the usual readers.

Builds a logdir of several million scalars with TensorBoard's own record
writer and Event protos (several runs; TF1/PyTorch-style ``simple_value``
events in each run folder and TF2/Keras-style float32 tensor scalars in its
``validation/`` folder), then times, on the same files:

* lrreport ``read_event_files`` (all files, parallel threads) and ``lrreport.load``
* tbparse ``SummaryReader(dir).scalars`` (+ ``.tensors``, to show where TF2 scalars go)
* ``EventAccumulator(size_guidance={'scalars': 0, 'tensors': 0})``
* a plain loop over ``event_file_loader.EventFileLoader``
* the floor: reading all files' bytes

The peers are slow, so by default they read a subset of runs (``--peer-limit``)
and their scalars/s is extrapolated per scalar; the output says so.

Writing: ``EventFileWriter``'s queue thread costs ~40 us per event and
TensorBoard's pure-Python CRC-32C dominates the rest, so the generator drives
``RecordWriter`` (the class EventFileWriter writes through) directly, with its
CRC function swapped for lrreport's compiled one. Every reader here verifies
the CRCs, so a wrong CRC would show up as missing scalars.

    python scripts/bench_ingest.py                   # ~5M scalars, 8 runs
    python scripts/bench_ingest.py --scalars 20000000 --runs 16 --out /tmp/bench_logdir
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRAIN_TAGS = ("train/loss", "train/lr", "train/grad_norm", "train/accuracy")
VAL_TAGS = ("epoch_loss", "epoch_accuracy", "epoch_learning_rate")  # as Keras' TensorBoard callback names them
TENSOR_SHARE = 0.1  # fraction of each run's scalars written as TF2 tensor scalars


def _fast_crc(data: bytes) -> int:
    from lrreport.ingest._tfrecord import masked_crc32c

    return int(masked_crc32c(np.frombuffer(data, dtype=np.uint8), 0, len(data)))


def _event_file_name(k: int) -> str:
    return f"events.out.tfevents.{1712345678 + k}.{socket.gethostname()}.{os.getpid()}.{k}"


def _write_run(run_dir: str, n_scalars: int, seed: int) -> tuple[int, int]:
    """Write one run: simple_value events in run_dir, tensor scalars in run_dir/validation."""
    import tensorboard.summary.writer.record_writer as record_writer
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

    record_writer.masked_crc32c = _fast_crc
    rng = np.random.default_rng(seed)
    run = Path(run_dir)
    (run / "validation").mkdir(parents=True, exist_ok=True)
    n_tensor = int(n_scalars * TENSOR_SHARE) // len(VAL_TAGS) * len(VAL_TAGS)
    n_simple = (n_scalars - n_tensor) // len(TRAIN_TAGS) * len(TRAIN_TAGS)
    t0 = 1.7e9 + seed * 1e5

    with open(run / _event_file_name(seed), "wb") as f:
        w = record_writer.RecordWriter(f)
        w.write(Event(wall_time=t0, file_version="brain.Event:2").SerializeToString())
        values = rng.standard_normal(n_simple).astype(np.float32).tolist()
        ev = Event()  # one message, fields overwritten per event: building protos is the slow part
        value = ev.summary.value.add()
        i = 0
        for step in range(n_simple // len(TRAIN_TAGS)):
            ev.wall_time = t0 + step * 0.01
            ev.step = step
            for tag in TRAIN_TAGS:  # one value per event, as torch's add_scalar writes them
                value.tag = tag
                value.simple_value = values[i]
                w.write(ev.SerializeToString())
                i += 1
        w.close()

    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    shape = TensorShapeProto()
    with open(run / "validation" / _event_file_name(seed), "wb") as f:
        w = record_writer.RecordWriter(f)
        w.write(Event(wall_time=t0, file_version="brain.Event:2").SerializeToString())
        values = rng.standard_normal(n_tensor).astype(np.float32).tolist()
        ev = Event()
        value = ev.summary.value.add(metadata=meta)
        value.tensor.CopyFrom(TensorProto(dtype=1, tensor_shape=shape, float_val=[0.0]))
        i = 0
        for step in range(n_tensor // len(VAL_TAGS)):
            ev.wall_time = t0 + step
            ev.step = step
            for tag in VAL_TAGS:
                value.tag = tag
                value.tensor.float_val[0] = values[i]
                w.write(ev.SerializeToString())
                i += 1
        w.close()
    return n_simple, n_tensor


def build_logdir(out: Path, n_scalars: int, n_runs: int) -> tuple[int, int]:
    per_run = n_scalars // n_runs
    jobs = [(str(out / f"run_{k:02d}"), per_run, k) for k in range(n_runs)]
    with ProcessPoolExecutor(max_workers=min(n_runs, os.cpu_count() or 1)) as pool:
        counts = list(pool.map(_write_run, *zip(*jobs)))
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def event_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "tfevents" in p.name)


def timed(fn, repeat: int = 1):
    """Best wall-clock seconds of ``repeat`` calls and the last result; that call's CPU seconds in timed.last_cpu."""
    best = float("inf")
    cpu = 0.0
    result = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        sec = time.perf_counter() - t
        if sec < best:
            best, cpu = sec, time.process_time() - c
    timed.last_cpu = cpu
    return best, result


FIRST_CALL = """
import sys, time
sys.path.insert(0, {root!r})
t = time.perf_counter()
from lrreport.ingest.tfevents import read_event_file
t1 = time.perf_counter()
read_event_file({path!r})
print(t1 - t, time.perf_counter() - t1)
"""


def first_call_seconds(path: Path, cache_dir: str | None) -> tuple[float, float]:
    """(import seconds, first read seconds) in a fresh interpreter; cache_dir='' forces a cold JIT."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    code = FIRST_CALL.format(root=str(ROOT), path=str(path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    imp, first = out.stdout.split()[-2:]
    return float(imp), float(first)


# --- the peers -------------------------------------------------------------------------------


def peer_tbparse(dirs: list[Path]) -> tuple[int, int]:
    from tbparse import SummaryReader

    n_scalars = n_tensors = 0
    for d in dirs:
        reader = SummaryReader(str(d))
        n_scalars += len(reader.scalars)
        n_tensors += len(reader.tensors)
    return n_scalars, n_tensors


def peer_event_accumulator(dirs: list[Path]) -> int:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    n = 0
    for d in dirs:
        acc = EventAccumulator(str(d), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        tags = acc.Tags()
        n += sum(len(acc.Scalars(t)) for t in tags["scalars"])
        n += sum(len(acc.Tensors(t)) for t in tags["tensors"])
    return n


def peer_loader(files: list[Path]) -> int:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    n = 0
    for f in files:
        for ev in EventFileLoader(str(f)).Load():
            if ev.HasField("summary"):
                for v in ev.summary.value:
                    if v.HasField("tensor") and not v.tensor.tensor_shape.dim:
                        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scalars", type=int, default=5_000_000, help="scalars to write (default 5M)")
    ap.add_argument("--runs", type=int, default=8, help="runs in the logdir (default 8)")
    ap.add_argument("--out", type=Path, help="write the logdir here (kept); default a temp dir (removed)")
    ap.add_argument("--peer-limit", type=int, default=1, help="runs the slow peers read (default 1; 0 = all)")
    ap.add_argument("--skip-cold", action="store_true", help="do not measure the cold numba compile")
    args = ap.parse_args(argv)

    tmp = None
    if args.out:
        logdir = args.out
        if logdir.exists():
            shutil.rmtree(logdir)
        logdir.mkdir(parents=True)
    else:
        tmp = tempfile.mkdtemp(prefix="lrreport-bench-")
        logdir = Path(tmp)
    try:
        return _bench(args, logdir)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _bench(args, logdir: Path) -> int:
    from lrreport.ingest.tfevents import read_event_files

    cpus = os.cpu_count()
    t = time.perf_counter()
    n_simple, n_tensor = build_logdir(logdir, args.scalars, args.runs)
    written = n_simple + n_tensor
    files = event_files(logdir)
    size = sum(f.stat().st_size for f in files)
    print(
        f"logdir {logdir}: {args.runs} runs, {len(files)} files, {size / 1e6:.0f} MB, "
        f"{written:,} scalars ({n_tensor:,} as TF2 tensors); written in {time.perf_counter() - t:.1f}s"
    )

    # JIT cost: a fresh interpreter with an empty numba cache, then with the warm cache.
    small = min(files, key=lambda p: p.stat().st_size)
    if not args.skip_cold:
        with tempfile.TemporaryDirectory() as empty:
            imp, cold = first_call_seconds(small, empty)
        print(f"first call, cold numba cache: import {imp:.2f}s + JIT compile and read {cold:.2f}s (once per install)")
    imp, warm = first_call_seconds(small, None)
    print(f"first call, warm numba cache: import {imp:.2f}s + cache load and read {warm:.2f}s (every new process)")

    rows: list[tuple[str, int, float, float, str]] = []  # tool, scalars, seconds, cpu seconds, note

    _, _ = timed(lambda: [p.read_bytes() for p in files])  # page cache warm for everyone
    sec, nbytes = timed(lambda: sum(len(p.read_bytes()) for p in files), repeat=3)
    rows.append(("bytes-read floor (read_bytes)", written, sec, timed.last_cpu, f"{nbytes / sec / 1e9:.2f} GB/s"))

    read_event_files(files[:1])
    sec, results = timed(lambda: read_event_files(files), repeat=3)
    got = sum(len(r) for r in results if not isinstance(r, Exception))
    errs = [r for r in results if isinstance(r, Exception)]
    ok = got == written and not errs
    rows.append((f"lrreport read_event_files ({cpus} threads)", got, sec, timed.last_cpu, "all files"))
    sec1, results1 = timed(lambda: read_event_files(files, workers=1), repeat=2)
    got1 = sum(len(r) for r in results1)
    rows.append(("lrreport read_event_files (1 thread)", got1, sec1, timed.last_cpu, "all files"))
    lr_rate = got / sec

    try:
        import lrreport

        load = lrreport.load
    except (ImportError, AttributeError) as exc:
        print(f"lrreport.load not available yet ({type(exc).__name__}: {exc}); skipped")
    else:
        sec, rs = timed(lambda: load(logdir), repeat=2)
        rows.append(("lrreport.load (frame + metrics)", rs.scalars.height, sec, timed.last_cpu, "all files"))

    runs = sorted(p for p in logdir.iterdir() if p.is_dir())
    peer_runs = runs if args.peer_limit <= 0 else runs[: args.peer_limit]
    peer_dirs = [d for r in peer_runs for d in (r, r / "validation")]  # EventAccumulator does not recurse
    peer_files = [f for f in files if any(f.is_relative_to(r) for r in peer_runs)]
    peer_written = sum(len(r) for r in read_event_files(peer_files))
    note = "all files" if len(peer_runs) == len(runs) else f"{len(peer_runs)}/{len(runs)} runs, rate extrapolated"

    sec, (tb_scalars, tb_tensors) = timed(lambda: peer_tbparse(peer_runs))  # tbparse recurses
    rows.append(("tbparse SummaryReader(dir).scalars+.tensors", tb_scalars + tb_tensors, sec, timed.last_cpu, note))
    tb_rate = (tb_scalars + tb_tensors) / sec
    tensor_only = [r / "validation" for r in peer_runs]
    tb_tf2, _ = peer_tbparse(tensor_only)
    sec, n = timed(lambda: peer_event_accumulator(peer_dirs))
    rows.append(("EventAccumulator(size_guidance=0)", n, sec, timed.last_cpu, note))
    sec, n = timed(lambda: peer_loader(peer_files))
    rows.append(("event_file_loader.EventFileLoader loop", n, sec, timed.last_cpu, note))

    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{cpus} CPUs, load average {load:.1f} (other processes share the cores: compare ratios, not absolutes)")
    print(
        f"{'tool':46} {'scalars':>11} {'seconds':>8} {'cpu s':>7} {'scalars/s':>12} {'vs tbparse':>10} "
        f"{'lrreport x':>10}  note"
    )
    for tool, n, sec, cpu, note in rows:
        rate = n / sec if sec > 0 else float("inf")
        print(
            f"{tool:46} {n:>11,} {sec:>8.3f} {cpu:>7.2f} {rate:>12,.0f} {rate / tb_rate:>9.1f}x "
            f"{lr_rate / rate:>9.2f}x  {note}"
        )
    print()
    print(f"lrreport kept every scalar: {'yes' if ok else 'NO'} ({got:,} of {written:,} written; {len(errs)} errors)")
    print(f"peers read {peer_written:,} scalars ({note}); lrreport x = lrreport's all-thread scalars/s over the tool's")
    print(
        f"tbparse .scalars on TF2 tensor scalars (validation/ dirs): {tb_tf2} rows; "
        f"they only appear in .tensors ({tb_tensors:,} rows), so a .scalars user sees none of Keras' epoch_* curves"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
