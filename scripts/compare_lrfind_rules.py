"""Which LR range-test rule should lrreport suggest by default? Train at each and see.

    python scripts/compare_lrfind_rules.py [--seeds 0,1,2] [--workers 2]

For several data set x model x optimizer set-ups and seeds: run the range test
(``lrreport.harness.lrfind.run_lr_find``, 1e-7 -> 10 over 100 steps), take
the suggestion of each rule (valley, minimum/10, steepest), train a fresh
model at each suggested LR (constant LR), and compare its best validation
loss with the best any LR of a log grid reached (the "oracle" sweep, same
seed). Reported per rule:

* ``ratio``: geometric mean of best val loss / oracle's best (1.0 = as good as the best grid LR);
* ``healthy``: share of runs within 1.25x (+0.02) of the oracle (make_corpus' healthy rule);
* ``failed``: share of runs that diverged or ended > 1.5x (+0.05) worse;
* ``seed spread``: mean over set-ups of the std of log10(suggested LR) across seeds
  (fastai users' main complaint is noise-driven, unstable suggestions).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrreport.harness.lrfind import RULES, run_lr_find  # noqa: E402
from lrreport.harness.sweep import parse_seeds, run_configs  # noqa: E402
from lrreport.harness.train import TrainConfig  # noqa: E402

SETUPS = {
    "digits-mlp-sgd": TrainConfig(dataset="digits", hidden=(64,), epochs=15, batch_size=32, optimizer="sgd"),
    "breast_cancer-mlp-adam": TrainConfig(dataset="breast_cancer", hidden=(32,), epochs=20, batch_size=16,
                                          optimizer="adam"),
    "generated-mlp-adamw": TrainConfig(dataset="generated", hidden=(64, 64), epochs=15, batch_size=64,
                                       optimizer="adamw"),
    "diabetes-mlp-sgd_momentum": TrainConfig(dataset="diabetes", hidden=(64,), epochs=30, batch_size=32,
                                             optimizer="sgd", momentum=0.9),
    "moons-mlp-sgd": TrainConfig(dataset="moons", hidden=(32, 32), epochs=20, batch_size=32, optimizer="sgd"),
    "digits-cnn-sgd_momentum": TrainConfig(dataset="digits", model="cnn", hidden=(8, 16), epochs=8, batch_size=32,
                                           optimizer="sgd", momentum=0.9),
}
ORACLE_GRID = [float(f"{v:.3g}") for v in np.geomspace(1e-5, 10, 13)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    t0 = time.perf_counter()
    import torch

    torch.set_num_threads(1)
    suggestions: dict[tuple[str, int], dict[str, float]] = {}
    for name, cfg in SETUPS.items():
        for s in seeds:
            out = run_lr_find(replace(cfg, seed=s, device="cpu"), None, start_lr=1e-7, end_lr=10, num_steps=100)
            suggestions[(name, s)] = {r: sg.lr for r, sg in out.suggestions.items()}
    jobs: list[tuple[str, int, str, float]] = []
    configs = []
    for (name, s), sug in suggestions.items():
        for rule, lr in sug.items():
            jobs.append((name, s, rule, lr))
            configs.append(replace(SETUPS[name], seed=s, lr=lr, schedule="constant", device="cpu", name=None))
        for lr in ORACLE_GRID:
            jobs.append((name, s, "oracle", lr))
            configs.append(replace(SETUPS[name], seed=s, lr=lr, schedule="constant", device="cpu", name=None))
    results = run_configs(configs, None, workers=args.workers, desc="lr-find rules")

    def bvl(r: dict) -> float:
        v = r.get("best_val_loss", math.nan)
        return v if v is not None and math.isfinite(v) and not r.get("diverged") else math.inf

    oracle: dict[tuple[str, int], float] = defaultdict(lambda: math.inf)
    for (name, s, rule, lr), r in zip(jobs, results):
        if rule == "oracle":
            oracle[(name, s)] = min(oracle[(name, s)], bvl(r))
    per_rule: dict[str, list[tuple[str, int, float, float]]] = defaultdict(list)
    for (name, s, rule, lr), r in zip(jobs, results):
        if rule != "oracle":
            per_rule[rule].append((name, s, lr, bvl(r)))

    print(f"{'set-up':28s} seed  oracle   " + "  ".join(f"{r + ' lr':>13s} {'val':>6s}" for r in RULES))
    for (name, s), sug in suggestions.items():
        cells = []
        for rule in RULES:
            v = next(x[3] for x in per_rule[rule] if x[0] == name and x[1] == s)
            cells.append(f"{sug[rule]:13.2e} {v:6.3f}")
        print(f"{name:28s} {s:4d}  {oracle[(name, s)]:6.3f}   " + "  ".join(cells))
    print()
    print(f"{'rule':10s} {'ratio':>7s} {'healthy':>8s} {'failed':>7s} {'seed spread':>12s}")
    for rule in RULES:
        rows = per_rule[rule]
        ratios = [v / oracle[(n, s)] if math.isfinite(v) else 100.0 for n, s, _, v in rows]
        healthy = np.mean([v <= oracle[(n, s)] * 1.25 + 0.02 for n, s, _, v in rows])
        failed = np.mean([(not math.isfinite(v)) or v > oracle[(n, s)] * 1.5 + 0.05 for n, s, _, v in rows])
        spread = np.mean([np.std([math.log10(x[2]) for x in rows if x[0] == n]) for n in SETUPS])
        gmean = float(np.exp(np.mean(np.log(ratios))))
        print(f"{rule:10s} {gmean:7.2f} {healthy:8.0%} {failed:7.0%} {spread:12.2f}")
    print(f"\n{len(results)} trainings + {len(suggestions)} range tests in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
