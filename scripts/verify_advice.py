"""Does lrreport's advice work? Retrain runs at the LR lrreport suggests and compare.

    python scripts/verify_advice.py [--out DIR] [--workers 2]

For a few set-ups that are NOT in the tuning corpus (other data sets,
optimizers, batch sizes), train an LR grid with the harness, analyse each run
ALONE (no sweep to lean on: the hard case), and for every run that got an
``lr_too_high``, ``divergence`` or ``lr_too_low`` finding with a
``suggested_lr``, train the same set-up again at that LR. Prints how often the
best validation loss improved, and by how much (median ratio new/old).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lrreport  # noqa: E402
from lrreport.harness.sweep import expand_sweep, run_configs  # noqa: E402
from lrreport.harness.train import TrainConfig  # noqa: E402

LR_CODES = {"lr_too_high", "divergence", "lr_too_low"}


def grid(lo: float, hi: float, n: int) -> list[float]:
    return [float(f"{lo * (hi / lo) ** (i / (n - 1)):.3g}") for i in range(n)]


SETUPS = [
    ("wine-mlp-sgd", TrainConfig(dataset="wine", hidden=(32,), epochs=30, batch_size=16, optimizer="sgd",
                                 schedule="constant", log_every=1), grid(1e-4, 30, 8)),
    ("digits-mlp-adam", TrainConfig(dataset="digits", hidden=(128,), epochs=15, batch_size=128, optimizer="adam",
                                    schedule="constant", log_every=0), grid(1e-6, 3, 8)),
    ("breast_cancer-mlp-adagrad", TrainConfig(dataset="breast_cancer", hidden=(64, 32), epochs=25, batch_size=32,
                                              optimizer="adagrad", schedule="constant", log_every=2),
     grid(1e-5, 30, 8)),
]


def best(res: dict) -> float:
    v = res.get("best_val_loss", math.nan)
    return v if v is not None and math.isfinite(v) and not res.get("diverged") else math.inf


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="where to write the runs (default: a temp dir)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = args.out or Path(tempfile.mkdtemp(prefix="lrreport-advice-"))
    configs = []
    for name, base, lrs in SETUPS:
        configs += expand_sweep(replace(base, formats=("tb",), name=None), {"lr": lrs}, [0])
        configs[-len(lrs):] = [replace(c, name=f"{name}/lr={c.lr:.0e}") for c in configs[-len(lrs):]]
    first = run_configs(configs, out / "first", workers=args.workers, desc="grid")
    rs = lrreport.load(out / "first")
    retrain, origin = [], []
    for cfg, res in zip(configs, first):
        if cfg.name not in rs.runs:
            continue
        a = lrreport.analyze(rs.subset([cfg.name]))
        f = next((f for f in a.findings if f.code in LR_CODES and f.suggested_lr), None)
        if f is None:
            continue
        retrain.append(replace(cfg, lr=float(f.suggested_lr), name=f"{cfg.name}-retrained"))
        origin.append((cfg, res, f))
    second = run_configs(retrain, out / "second", workers=args.workers, desc="retrain")
    improved, ratios = 0, []
    print(f"\n{'run':40s} {'code':12s} {'lr':>9s} {'suggested':>9s} {'best val':>9s} {'after':>9s}")
    for (cfg, res, f), res2 in zip(origin, second):
        b0, b1 = best(res), best(res2)
        better = b1 < b0
        improved += better
        if math.isfinite(b0) and math.isfinite(b1) and b0 > 0:
            ratios.append(b1 / b0)
        print(f"{cfg.name:40s} {f.code:12s} {cfg.lr:9.2g} {f.suggested_lr:9.2g} {b0:9.4g} {b1:9.4g} {'better' if better else 'not better'}")
    n = len(origin)
    print(f"\nruns analysed alone: {len(configs)}; with LR advice: {n}; "
          f"better after retraining at the suggested LR: {improved}/{n} ({100 * improved / n if n else 0:.0f}%)")
    if ratios:
        print(f"median best-val-loss ratio after/before (finite pairs): {statistics.median(ratios):.3f}")
    print(f"took {time.perf_counter() - t0:.0f} s; runs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
