#!/usr/bin/env python
"""Time and size of the HTML report for 10, 100, 200 and 500 synthetic runs of 10k steps,
against the renderer it replaced, measured in the same run of this script.

    python scripts/bench_report.py                 # 10, 100, 200, 500 runs, new and old
    python scripts/bench_report.py --runs 10 50    # other sizes
    python scripts/bench_report.py --no-old        # the current renderer only
    python scripts/bench_report.py --out bench_out # keep the HTML files (git-ignored)

Each run logs train_loss and lr at every step and val_loss every 500 steps: a
sweep of LRs on a log grid, a step schedule, and some runs that blow up (NaN)
or stay noisy, so the analyzer has something to say and the report draws
finding bands, NaN marks and LR-change markers. The RunSet is built directly
(the same long table the ingestors produce), so the numbers are the analysis
and the rendering alone.

The old renderer (matplotlib figures drawn in a pool of 2 processes, its default)
is the report code of commit OLD_REF, the last one before Report v2: this script
extracts that commit's ``lrreport/`` and ``templates/`` with ``git archive`` into a
temporary folder and runs itself there in a subprocess, on the same synthetic runs
(its own analyzer makes the Analysis; only ``Report.to_html`` is timed, as here).
Without git (an sdist) the old columns are left out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
#: The last commit with the matplotlib renderer (the base of the report-v2 branch).
OLD_REF = "f575be4"
STEPS = 10_000
VAL_EVERY = 500


def synthetic_runset(n_runs: int, steps: int = STEPS, seed: int = 0):
    import polars as pl

    from lrreport.runs import SCALARS_SCHEMA, RunInfo, RunSet

    rng = np.random.default_rng(seed)
    step = np.arange(steps, dtype=np.int64)
    frames, infos = [], {}
    for i in range(n_runs):
        name = f"sweep/lr_{i:04d}"
        lr0 = 10 ** (-4 + 4.5 * i / max(1, n_runs - 1))  # 1e-4 .. ~3
        lr = np.where(step < steps // 2, lr0, lr0 * 0.1)
        speed = min(lr0 * 20, 4.0)
        loss = 0.25 + 2.0 * np.exp(-speed * step / steps * 8) + 0.03 * rng.standard_normal(steps) ** 2
        if lr0 > 1.0:  # too high: blows up, then NaN
            blow = steps // 10 + int(rng.integers(0, steps // 10))
            loss[blow:] = loss[blow] * np.exp((step[blow:] - blow) / 200)
            loss[blow + 1500 :] = np.nan
        elif lr0 > 0.3:  # noisy
            loss = loss * (1 + 0.5 * rng.standard_normal(steps) ** 2)
        vstep = step[VAL_EVERY - 1 :: VAL_EVERY]
        vloss = loss[vstep] + 0.05 + 0.02 * np.maximum(0, vstep / steps - 0.6) * 10
        for metric, s, v in (("train_loss", step, loss), ("lr", step, lr), ("val_loss", vstep, vloss)):
            frames.append(
                pl.DataFrame(
                    {"run": name, "source": "tfevents", "tag": metric, "metric": metric, "step": s, "epoch": None, "wall_time": None, "value": v},
                    schema=SCALARS_SCHEMA,
                )
            )
        infos[name] = RunInfo(name, "tfevents", f"/bench/{name}", hparams={"lr": float(lr0), "optimizer": "SGD"}, metrics=["lr", "train_loss", "val_loss"], points=2 * steps + len(vstep))
    return RunSet("bench", pl.concat(frames), infos)


def measure(n_runs: int, out: Path | None = None, tag: str = "") -> dict:
    """Analyse and render ``n_runs`` synthetic runs with whichever lrreport is on sys.path."""
    import lrreport
    from lrreport.report.html import Report

    rs = synthetic_runset(n_runs)
    t0 = time.perf_counter()
    analysis = lrreport.analyze(rs)
    t_analyze = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = Report(analysis).to_html()
    t_report = time.perf_counter() - t0
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"report-{n_runs}{tag}.html").write_text(html, encoding="utf-8")
    return {"runs": n_runs, "points": rs.scalars.height, "findings": len(analysis.findings), "analyze_s": t_analyze, "report_s": t_report, "bytes": len(html.encode("utf-8"))}


def measure_old(sizes: list[int], ref: str, out: Path | None) -> dict[int, dict] | None:
    """The same measurement on commit ``ref``'s renderer, in a subprocess (None without git)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "old.tar"
        try:
            subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), ref, "lrreport", "templates"], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"(old renderer left out: cannot extract {ref} with git: {exc})", file=sys.stderr)
            return None
        tree = Path(tmp) / "old"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        cmd = [sys.executable, __file__, "--old-worker", str(tree), "--runs", *map(str, sizes)]
        if out:
            cmd += ["--out", str(out)]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return {r["runs"]: r for r in map(json.loads, res.stdout.splitlines())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[10, 100, 200, 500])
    ap.add_argument("--out", type=Path, default=None, help="keep the reports here")
    ap.add_argument("--no-old", action="store_true", help="skip the old renderer")
    ap.add_argument("--old-ref", default=OLD_REF, help=f"the commit whose renderer to compare with (default {OLD_REF})")
    ap.add_argument("--old-worker", type=Path, help=argparse.SUPPRESS)  # internal: measure the tree given
    args = ap.parse_args()

    if args.old_worker:
        sys.path.insert(0, str(args.old_worker))
        for n in args.runs:
            print(json.dumps(measure(n, args.out, "-old")), flush=True)
        return 0

    sys.path.insert(0, str(REPO))
    old = None if args.no_old else measure_old(args.runs, args.old_ref, args.out)
    head = f"{'runs':>5} {'points':>10} {'findings':>8} {'analyze s':>10} {'report s':>9} {'ms/run':>7} {'size MB':>8} {'KB/run':>7}"
    if old:
        head += f" | {'old s':>6} {'old ms/run':>10} {'old MB':>7} {'time ratio':>10}"
    print(head)
    for n in args.runs:
        r = measure(n, args.out)
        line = (
            f"{r['runs']:>5} {r['points']:>10} {r['findings']:>8} {r['analyze_s']:>10.2f} {r['report_s']:>9.2f} "
            f"{1000 * r['report_s'] / n:>7.1f} {r['bytes'] / 1e6:>8.2f} {r['bytes'] / 1e3 / n:>7.1f}"
        )
        if old and n in old:
            o = old[n]
            line += f" | {o['report_s']:>6.2f} {1000 * o['report_s'] / n:>10.1f} {o['bytes'] / 1e6:>7.2f} {r['report_s'] / o['report_s']:>10.2f}"
        print(line, flush=True)
    if old:
        print(f"old: the renderer of {args.old_ref} (matplotlib, 2 worker processes); time ratio = new / old report time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
