#!/usr/bin/env python
"""Time and size of the report for 10, 100 and 500 synthetic runs of 10k steps.

    python scripts/bench_report.py                 # 10, 100, 500 runs
    python scripts/bench_report.py --runs 10 50    # other sizes
    python scripts/bench_report.py --out bench_out # keep the HTML files (git-ignored)

Each run logs train_loss and lr at every step and val_loss every 500 steps: a
sweep of LRs on a log grid, a step schedule, and some runs that blow up (NaN)
or stay noisy, so the analyzer has something to say and the report draws
shading, NaN marks and LR-change markers. The RunSet is built directly (the
same long table the ingestors produce), so the numbers are the analysis and
the rendering alone. Analysis and report are timed separately; the report
also with one worker process, to show what the pool of 2 buys.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lrreport  # noqa: E402
from lrreport.report.html import Report  # noqa: E402
from lrreport.report.junit import to_junit  # noqa: E402
from lrreport.report.markdown import to_markdown  # noqa: E402
from lrreport.runs import SCALARS_SCHEMA, RunInfo, RunSet  # noqa: E402

STEPS = 10_000
VAL_EVERY = 500


def synthetic_runset(n_runs: int, steps: int = STEPS, seed: int = 0) -> RunSet:
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


def bench(n_runs: int, out: Path | None, serial_too: bool) -> dict:
    t0 = time.perf_counter()
    rs = synthetic_runset(n_runs)
    t_build = time.perf_counter() - t0

    t0 = time.perf_counter()
    analysis = lrreport.analyze(rs)
    t_analyze = time.perf_counter() - t0

    t0 = time.perf_counter()
    html = Report(analysis).to_html()
    t_report = time.perf_counter() - t0
    t_serial = None
    if serial_too:
        t0 = time.perf_counter()
        same = Report(analysis, workers=1).to_html()
        t_serial = time.perf_counter() - t0
        assert same == html, "the process pool changed the bytes"

    t0 = time.perf_counter()
    md, junit = to_markdown(analysis), to_junit(analysis, fail_on="warning")
    t_other = time.perf_counter() - t0
    size = len(html.encode("utf-8"))
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"report-{n_runs}.html").write_text(html, encoding="utf-8")
    return {
        "runs": n_runs,
        "points": rs.scalars.height,
        "findings": len(analysis.findings),
        "build_s": t_build,
        "analyze_s": t_analyze,
        "report_s": t_report,
        "report_serial_s": t_serial,
        "md_junit_s": t_other,
        "size_mb": size / 1e6,
        "kb_per_run": size / 1e3 / n_runs,
        "md_kb": len(md.encode()) / 1e3,
        "junit_kb": len(junit.encode()) / 1e3,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[10, 100, 500])
    ap.add_argument("--out", type=Path, default=None, help="keep the reports here")
    ap.add_argument("--serial", action="store_true", help="also time the report with one process")
    args = ap.parse_args()
    print(f"{'runs':>5} {'points':>10} {'findings':>8} {'analyze s':>10} {'ms/run':>7} {'report s':>9} {'ms/run':>7} {'1-proc s':>9} {'size MB':>8} {'KB/run':>7} {'md KB':>6} {'junit KB':>8}")
    for n in args.runs:
        r = bench(n, args.out, args.serial)
        serial = f"{r['report_serial_s']:9.1f}" if r["report_serial_s"] is not None else f"{'-':>9}"
        print(
            f"{r['runs']:>5} {r['points']:>10} {r['findings']:>8} {r['analyze_s']:>10.2f} {1000 * r['analyze_s'] / n:>7.0f} "
            f"{r['report_s']:>9.2f} {1000 * r['report_s'] / n:>7.0f} {serial} {r['size_mb']:>8.2f} {r['kb_per_run']:>7.1f} "
            f"{r['md_kb']:>6.1f} {r['junit_kb']:>8.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
