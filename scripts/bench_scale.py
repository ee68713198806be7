"""How lrreport scales with the number of runs: a synthetic sweep, end to end, measured.

    python scripts/bench_scale.py                       # 10, 100 and 1000 runs
    python scripts/bench_scale.py --runs 10,100 --steps 2000
    python scripts/bench_scale.py --runs 10000          # on request

Each run is one TensorBoard event file of 5 tags x ``--steps`` steps (train and
validation loss and accuracy logged at every step, and the LR): the shape of a
hyperparameter search that evaluates often. Runs differ in their LR (a grid) and
seed, so the logdir is one big sweep with too-high, good and too-low runs.

For each size, ``lrreport analyze DIR -o r.html --json r.json`` runs in a fresh
process under ``/usr/bin/time -v`` (wall time and peak resident memory of the
whole process tree) with:

* all cores (the default ``--workers``) on an empty summary cache (cold);
* a second run on the unchanged logdir with that cache (cached);
* ``--workers 1`` and ``--dask`` pointed at a ``distributed.LocalCluster`` of one
  worker process per core started by this script (the cluster's own memory is not
  in the peak), both with ``--no-cache``.

The cache lives under ``--out`` (never the user's own). Numba's cache of the
event reader is warm, as after any first use of an install.

The table gives wall seconds, CPU seconds per run, peak RSS, the HTML size and
the ratios (per-run cost against the smallest size, workers 1 against all).
Logdirs are written once under ``--out`` (default a temp folder) and reused.
The event files are written by a compiled writer here (TensorBoard's would take
hours for 50M scalars); lrreport checks every record's CRC, so a wrong byte
would show up as missing points.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parent.parent
TAGS = ("train/loss", "val/loss", "train/acc", "val/acc", "lr")


# --- a compiled event-file writer (TFRecord framing, CRC-32C, Event/Summary protos) -----------

def _crc_table() -> np.ndarray:
    poly = 0x82F63B78
    t = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t[i] = c
    return t


CRC = _crc_table()


@njit(cache=True)
def _masked_crc(buf, start, end, table):
    c = np.uint32(0xFFFFFFFF)
    for i in range(start, end):
        c = table[(c ^ buf[i]) & 0xFF] ^ (c >> np.uint32(8))
    c = c ^ np.uint32(0xFFFFFFFF)
    return ((((c >> np.uint32(15)) | (c << np.uint32(17))) & np.uint32(0xFFFFFFFF)) + np.uint32(0xA282EAD8)) & np.uint32(0xFFFFFFFF)


@njit(cache=True)
def _varint(buf, p, v):
    while v >= 0x80:
        buf[p] = (v & 0x7F) | 0x80
        v >>= 7
        p += 1
    buf[p] = v
    return p + 1


@njit(cache=True)
def _put_u32(buf, p, v):
    for k in range(4):
        buf[p + k] = (v >> (8 * k)) & 0xFF


@njit(cache=True)
def _write(buf, steps, walls, values, tags, tag_lens, table):
    """Records for every (step, tag) pair; returns the bytes used."""
    p = 0
    f32 = np.zeros(1, dtype=np.float32)
    f64 = np.zeros(1, dtype=np.float64)
    for i in range(len(steps)):
        for t in range(len(tag_lens)):
            tl = tag_lens[t]
            value_len = 2 + tl + 5
            summary_len = 2 + value_len
            step = steps[i]
            nstep = 1
            v = step
            while v >= 0x80:
                v >>= 7
                nstep += 1
            data_len = 9 + 1 + nstep + 2 + summary_len
            # header
            for k in range(8):
                buf[p + k] = (data_len >> (8 * k)) & 0xFF
            _put_u32(buf, p + 8, _masked_crc(buf, p, p + 8, table))
            q = p + 12
            start = q
            buf[q] = 0x09
            f64[0] = walls[i]
            b = f64.view(np.uint8)
            for k in range(8):
                buf[q + 1 + k] = b[k]
            q += 9
            buf[q] = 0x10
            q = _varint(buf, q + 1, step)
            buf[q] = 0x2A
            buf[q + 1] = summary_len
            buf[q + 2] = 0x0A
            buf[q + 3] = value_len
            buf[q + 4] = 0x0A
            buf[q + 5] = tl
            for k in range(tl):
                buf[q + 6 + k] = tags[t, k]
            q += 6 + tl
            buf[q] = 0x15
            f32[0] = values[t, i]
            b4 = f32.view(np.uint8)
            for k in range(4):
                buf[q + 1 + k] = b4[k]
            q += 5
            _put_u32(buf, q, _masked_crc(buf, start, q, table))
            p = q + 4
    return p


def _curves(steps: int, lr: float, best: float, seed: int) -> np.ndarray:
    """Loss/accuracy curves whose shape follows how far the LR is from the best one."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps) / steps
    off = np.log10(lr / best)
    if off > 1.2:  # far too high: blows up and sits at chance
        loss = np.where(t < 0.05, 2.3 + 40 * t, 2.31)
    elif off < -1.2:  # far too low: barely moves
        loss = 2.3 - 0.15 * t
    else:
        rate = 8 / (1 + abs(off) * 3)
        loss = 0.15 + 2.15 * np.exp(-rate * t) + 0.1 * abs(off)
    train = loss * (1 + 0.05 * rng.standard_normal(steps))
    val = loss * (1.05 + 0.02 * rng.standard_normal(steps)) + 0.02
    acc = np.clip(1 - loss / 2.4, 0.1, 1)
    return np.stack([train, val, acc + 0.01 * rng.standard_normal(steps), acc, np.full(steps, lr)]).astype(np.float32)


def write_run(path: Path, steps: int, lr: float, best: float, seed: int) -> None:
    tags = np.zeros((len(TAGS), 16), dtype=np.uint8)
    lens = np.array([len(t) for t in TAGS], dtype=np.int64)
    for i, tg in enumerate(TAGS):
        tags[i, : len(tg)] = np.frombuffer(tg.encode(), dtype=np.uint8)
    values = _curves(steps, lr, best, seed)
    buf = np.zeros(steps * len(TAGS) * 64 + 1024, dtype=np.uint8)
    st = np.arange(steps, dtype=np.int64)
    walls = 1.7e9 + st * 0.05
    n = _write(buf, st, walls, values, tags, lens, CRC)
    path.mkdir(parents=True, exist_ok=True)
    (path / "events.out.tfevents.1700000000.bench.1.0").write_bytes(buf[:n].tobytes())
    (path / "hparams.yaml").write_text(f"lr: {lr}\noptimizer: adam\nmodel: mlp\nseed: {seed}\n")


def build(root: Path, runs: int, steps: int) -> Path:
    out = root / f"sweep_{runs}x{steps}"
    marker = out / ".complete"
    if marker.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    lrs = np.logspace(-6, 0, 13)
    for k in range(runs):
        lr = float(lrs[k % len(lrs)])
        seed = k // len(lrs)
        write_run(out / f"lr={lr:.0e}_seed={seed}", steps, lr, 1e-3, seed)
    marker.write_text("")
    return out


# --- measuring ---------------------------------------------------------------------------------

def run_cli(args: list[str], env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ, **(env or {}))
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "lrreport", *args]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise SystemExit(f"lrreport failed ({p.returncode}):\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1e6
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", p.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", p.stderr).group(1))
    return {"wall": wall, "cpu": user + system, "rss_gb": rss}


def measure(logdir: Path, out: Path, extra: list[str], env: dict[str, str] | None = None) -> dict:
    html, js = out / "r.html", out / "r.json"
    res = run_cli(["analyze", str(logdir), "-o", str(html), "--json", str(js), "-q", "--no-progress", *extra], env)
    res["html_mb"] = html.stat().st_size / 1e6
    res["runs"] = len(json.loads(js.read_text())["runs"])
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="10,100,1000", help="comma-separated run counts")
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "lrreport-bench-scale")
    ap.add_argument("--no-dask", action="store_true", help="skip the LocalCluster rows")
    ap.add_argument("--no-workers1", action="store_true", help="skip the --workers 1 rows")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.runs.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    print(f"lrreport analyze DIR -o r.html --json r.json; runs of 5 tags x {args.steps} steps; {cores} cores")
    rows = []
    for n in sizes:
        t = time.perf_counter()
        logdir = build(args.out, n, args.steps)
        size = sum(f.stat().st_size for f in logdir.rglob("*") if f.is_file()) / 1e9
        print(f"  logdir {n} runs: {size:.2f} GB ({time.perf_counter() - t:.0f} s to make or find)", flush=True)
        work = args.out / f"out_{n}"
        work.mkdir(exist_ok=True)
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        cached = {"LRREPORT_CACHE_DIR": str(cache)}
        modes = [("all cores", [], cached), ("cached", [], cached)]
        if not args.no_workers1:
            modes.append(("--workers 1", ["--workers", "1", "--no-cache"], None))
        for label, extra, env in modes:
            r = measure(logdir, work, extra, env)
            rows.append((n, label, r))
            print(f"  {n:6d} runs  {label:12s} {r['wall']:7.1f} s  {r['cpu'] / n:6.3f} CPU s/run  "
                  f"{r['rss_gb']:5.2f} GB peak  {r['html_mb']:6.1f} MB HTML", flush=True)
        if not args.no_dask:
            try:
                from distributed import LocalCluster
            except ImportError:
                print("  (distributed not installed: no LocalCluster rows)")
            else:
                with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None) as c:
                    r = measure(logdir, work, ["--dask", c.scheduler_address, "--no-cache"])
                rows.append((n, "LocalCluster", r))
                print(f"  {n:6d} runs  {'LocalCluster':12s} {r['wall']:7.1f} s  {r['cpu'] / n:6.3f} CPU s/run (client only)  "
                      f"{r['rss_gb']:5.2f} GB peak (client)  {r['html_mb']:6.1f} MB HTML", flush=True)

    print("\n| runs | mode | wall s | per run ms | CPU s/run | peak RSS GB | HTML MB |")
    print("|---|---|---|---|---|---|---|")
    for n, label, r in rows:
        print(f"| {n} | {label} | {r['wall']:.1f} | {1000 * r['wall'] / n:.0f} | {r['cpu'] / n:.3f} | {r['rss_gb']:.2f} | {r['html_mb']:.1f} |")
    print("\nratios:")
    for prev, n in zip(sizes, sizes[1:]):
        for label in ("all cores", "--workers 1", "LocalCluster"):
            a = next((r for m, lb, r in rows if m == prev and lb == label), None)
            b = next((r for m, lb, r in rows if m == n and lb == label), None)
            if a and b:
                print(f"  {label}: per-run wall at {n} runs {b['wall'] / n / (a['wall'] / prev):.2f}x the one at {prev} runs")
    for n in sizes:
        a = next((r for m, label, r in rows if m == n and label == "all cores"), None)
        c = next((r for m, label, r in rows if m == n and label == "cached"), None)
        if a and c:
            print(f"  {n} runs: the second run on the cache is {a['wall'] / c['wall']:.1f}x faster than the first")
    for n in sizes:
        a = next((r for m, label, r in rows if m == n and label == "all cores"), None)
        b = next((r for m, label, r in rows if m == n and label == "--workers 1"), None)
        if a and b:
            print(f"  {n} runs: --workers 1 takes {b['wall'] / a['wall']:.2f}x the wall time of all cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
