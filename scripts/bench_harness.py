"""Runs per minute of the harness's default demo on this machine (one torch thread).

    python scripts/bench_harness.py [--runs 10] [--device cpu|cuda]

Trains the demo (1000 x 10 generated samples, MLP 10-10-2, SGD 0.1, StepLR 5/0.5,
15 epochs, TensorBoard + CSV logs) ``--runs`` times in one process after one
warm-up run, and prints the time per run and the runs per minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--device", default=None)
    args = ap.parse_args(argv)
    import torch

    from lrreport.harness.train import TrainConfig, train

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        train(TrainConfig(device=args.device), d, name="warm-up")
        t0 = time.perf_counter()
        for i in range(args.runs):
            train(TrainConfig(seed=i, device=args.device), d, name=f"run{i}")
        per_run = (time.perf_counter() - t0) / args.runs
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"default demo on {device}, one torch thread, tb+csv logs: {per_run:.3f} s a run, "
          f"{60 / per_run:.0f} runs per minute ({args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
