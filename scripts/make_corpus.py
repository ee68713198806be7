"""Build a labelled corpus of real training runs for tuning and testing the analyzer.

    python scripts/make_corpus.py --out corpus/ [--workers 2] [--quick]

Every run is trained for real by ``lrreport.harness`` (CPU, one torch thread per
worker process) and written in one of the log formats lrreport reads. Labels
come from OUTCOMES, never from a detector rule:

* ``lr_label`` (LR-sweep families only; per family and seed): ``healthy`` when
  the run's best validation loss is within ``HEALTHY_RATIO`` x (+ ``HEALTHY_MARGIN``)
  of the sweep's best; ``too_high`` / ``too_low`` when it is worse than
  ``BAD_RATIO`` x (+ ``BAD_MARGIN``) the best (or diverged), lies above / below the
  best LR, and no run further out on that side is healthy; ``ambiguous`` (unscored)
  otherwise, and for every run outside an LR sweep.
* ``conditions``:
  - ``overfitting``: validation loss rises clearly from its minimum
    (``OVERFIT_RISE`` x + margin) while training loss keeps falling
    (``OVERFIT_TRAIN_DROP``), with the minimum in the first ``OVERFIT_MIN_AT``
    of training. Checked on every run.
  - ``schedule_too_aggressive``: a run whose schedule cuts the LR early and
    hard, ending ``TWIN_RATIO`` x (+ margin) worse than its sensible-schedule
    twin (same data, model, LR and seed).
  - ``warmup_needed``: a run without warmup ending that much worse than
    (or diverging where) its warmup twin does not.
  - ``lr_group_imbalance``: a run whose parameter groups' LRs differ >= 100x,
    ending that much worse than its balanced twin.

``labels.json`` maps each run folder (relative to the corpus root) to its
labels (``log_path`` is the run's path as ``lrreport.load`` names it: Lightning
and MLflow runs sit deeper, in ``lightning_logs/version_0`` and ``mlruns/1/<id>``), and each family to the LR range that worked (``good_lr_range``: the
lowest and highest LR of its healthy runs).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrreport.harness.sweep import expand_sweep, run_configs  # noqa: E402
from lrreport.harness.train import TrainConfig  # noqa: E402

#: A run within this factor (plus margin) of its sweep's best validation loss is healthy.
HEALTHY_RATIO, HEALTHY_MARGIN = 1.25, 0.02
#: Worse than this factor (plus margin) of the best is clearly too high / too low.
BAD_RATIO, BAD_MARGIN = 1.5, 0.05
#: Twin comparisons (schedule, warmup, group LRs): worse than the twin by this much.
TWIN_RATIO, TWIN_MARGIN = 1.2, 0.02
#: Overfitting: final val loss >= min x OVERFIT_RISE + margin, train loss at the end
#: <= OVERFIT_TRAIN_DROP x train loss at the val minimum, minimum in the first 75%.
OVERFIT_RISE, OVERFIT_MARGIN, OVERFIT_TRAIN_DROP, OVERFIT_MIN_AT = 1.15, 0.02, 0.8, 0.75


def grid(lo: float, hi: float, n: int) -> list[float]:
    import numpy as np

    return [float(f"{v:.3g}") for v in np.geomspace(lo, hi, n)]


# --- what the corpus holds ----------------------------------------------------
# Each LR-sweep family: (name, base config, LR grid, seeds, format).
def sweep_families(quick: bool) -> list[tuple[str, TrainConfig, list[float], list[int], str]]:
    seeds = [0] if quick else [0, 1]
    n = 7 if quick else 11
    return [
        ("digits-mlp-sgd", TrainConfig(dataset="digits", hidden=(64,), epochs=20, batch_size=32, optimizer="sgd",
                                       schedule="constant", log_every=1), grid(1e-4, 10, n), seeds, "tb"),
        ("breast_cancer-mlp-adam", TrainConfig(dataset="breast_cancer", hidden=(32,), epochs=30, batch_size=16,
                                               optimizer="adam", schedule="constant", log_every=0),
         grid(1e-6, 10, n), seeds, "csv"),
        ("digits-mlp-rmsprop", TrainConfig(dataset="digits", hidden=(64,), epochs=20, batch_size=64,
                                           optimizer="rmsprop", schedule="constant", log_every=0),
         grid(1e-6, 10, n), seeds, "keras_history"),
        ("diabetes-mlp-sgd_momentum", TrainConfig(dataset="diabetes", hidden=(64,), epochs=40, batch_size=32,
                                                  optimizer="sgd", momentum=0.9, schedule="constant", log_every=5),
         grid(1e-7, 1, n), seeds, "lightning"),
        ("generated-mlp-adamw", TrainConfig(dataset="generated", hidden=(64, 64), epochs=20, batch_size=64,
                                            optimizer="adamw", schedule="constant", log_every=5),
         grid(1e-6, 10, n), seeds, "mlflow"),
        ("moons-mlp-sgd_steplr", TrainConfig(dataset="moons", hidden=(32, 32), epochs=30, batch_size=32,
                                             optimizer="sgd", schedule="step:step_size=10,gamma=0.5",
                                             log_every=0), grid(1e-4, 30, n), seeds, "keras_tb"),
        ("mnist-cnn-sgd_momentum", TrainConfig(dataset="mnist", model="cnn", hidden=(8, 16), epochs=4,
                                               batch_size=64, optimizer="sgd", momentum=0.9, schedule="constant",
                                               log_every=10), grid(1e-5, 3, 5 if quick else 9), [0], "hf"),
    ]


def holdout_sweep_families() -> list[tuple[str, TrainConfig, list[float], list[int], str]]:
    """A second, disjoint set-up for checking that the analyzer was not tuned to the first:
    other data sets, models, optimizers, batch sizes, seeds and format pairings."""
    seeds = [10, 11]
    n = 9
    return [
        ("wine-mlp-adam", TrainConfig(dataset="wine", hidden=(32, 16), epochs=40, batch_size=8, optimizer="adam",
                                      schedule="constant", log_every=2), grid(1e-6, 10, n), seeds, "lightning"),
        ("breast_cancer-mlp-sgd_nesterov", TrainConfig(dataset="breast_cancer", hidden=(64,), epochs=25, batch_size=64,
                                                       optimizer="sgd", momentum=0.9, nesterov=True,
                                                       schedule="constant", log_every=0), grid(1e-5, 30, n), seeds,
         "keras_tb"),
        ("regression-mlp-adam", TrainConfig(dataset="regression", hidden=(64, 64), epochs=30, batch_size=32,
                                            optimizer="adam", schedule="constant", log_every=5),
         grid(1e-6, 3, n), seeds, "hf"),
        ("blobs-mlp-adagrad", TrainConfig(dataset="blobs", hidden=(32,), epochs=25, batch_size=16,
                                          optimizer="adagrad", schedule="constant", log_every=0),
         grid(1e-5, 30, n), seeds, "keras_history"),
        ("mnist-mlp-rmsprop", TrainConfig(dataset="mnist", hidden=(128,), epochs=8, batch_size=128,
                                          optimizer="rmsprop", schedule="constant", log_every=4),
         grid(1e-6, 3, n), [10], "tb"),
        ("demo-mlp-sgd_cosine", TrainConfig(dataset="demo", hidden=(10,), epochs=30, batch_size=32, optimizer="sgd",
                                            schedule="cosine", log_every=0), grid(1e-4, 30, n), seeds, "csv"),
        ("digits-mlp-adamw_wd", TrainConfig(dataset="digits", hidden=(128, 64), epochs=15, batch_size=256,
                                            optimizer="adamw", weight_decay=0.05, schedule="constant", log_every=1),
         grid(1e-6, 3, n), [10], "mlflow"),
    ]


def holdout_condition_runs() -> list[tuple[str, str, TrainConfig, dict]]:
    seeds = [10, 11]
    runs: list[tuple[str, str, TrainConfig, dict]] = []
    over = [
        ("overfit-wine", TrainConfig(dataset="wine", hidden=(512,), n_train=24, epochs=200, batch_size=4,
                                     optimizer="sgd", momentum=0.9, lr=1e-2, schedule="constant", log_every=0),
         "keras_history"),
        ("overfit-mnist", TrainConfig(dataset="mnist", hidden=(512,), n_train=200, epochs=60, batch_size=16,
                                      optimizer="adam", lr=1e-3, schedule="constant", log_every=2), "hf"),
        ("overfit-regression", TrainConfig(dataset="regression", hidden=(256, 256), n_train=40, epochs=200,
                                           batch_size=8, optimizer="adam", lr=1e-3, schedule="constant",
                                           log_every=0), "csv"),
    ]
    for fam, cfg, fmt in over:
        for s in seeds:
            runs.append((fam, "", replace(cfg, seed=s, formats=(fmt,), name=f"{fam}/seed={s}"), {}))
    sched_bases = [
        ("schedule-wine-adam", TrainConfig(dataset="wine", hidden=(32,), epochs=30, batch_size=16, optimizer="adam",
                                           lr=3e-3, log_every=1), "lightning"),
        ("schedule-moons-sgd", TrainConfig(dataset="moons", hidden=(32, 32), epochs=30, batch_size=32,
                                           optimizer="sgd", lr=0.3, log_every=0), "keras_history"),
    ]
    schedules = [("aggressive_step", "step:step_size=2,gamma=0.05", True),
                 ("aggressive_exp", "exponential:gamma=0.2", True),
                 ("sensible_multistep", "multistep:milestones=15/25,gamma=0.3", False),
                 ("sensible_cosine", "cosine", False)]
    for fam, cfg, fmt in sched_bases:
        for s in seeds:
            for tag, sched, aggressive in schedules:
                runs.append((fam, f"{fam}/{s}", replace(cfg, seed=s, schedule=sched, formats=(fmt,),
                                                        name=f"{fam}/{tag}_seed={s}"),
                             {"aggressive": aggressive}))
    return runs


def condition_runs(quick: bool) -> list[tuple[str, str, TrainConfig, dict]]:
    """(family, twin group, config, meta) for the overfitting/schedule/warmup/group sets."""
    seeds = [0] if quick else [0, 1, 2]
    runs: list[tuple[str, str, TrainConfig, dict]] = []
    # Overfitting set-ups: tiny training split, wide net, long training.
    over = [
        ("overfit-digits", TrainConfig(dataset="digits", hidden=(512, 512), n_train=80, epochs=120, batch_size=16,
                                       optimizer="adam", lr=1e-3, schedule="constant", log_every=1), "tb"),
        ("overfit-breast_cancer", TrainConfig(dataset="breast_cancer", hidden=(256, 256), n_train=40, epochs=150,
                                              batch_size=8, optimizer="adam", lr=1e-3, schedule="constant",
                                              log_every=0), "csv"),
        ("overfit-generated", TrainConfig(dataset="generated", hidden=(512, 512), n_train=100, epochs=100,
                                          batch_size=16, optimizer="adam", lr=1e-3, schedule="constant",
                                          log_every=1), "mlflow"),
        ("overfit-diabetes", TrainConfig(dataset="diabetes", hidden=(256, 256), n_train=60, epochs=150,
                                           batch_size=16, optimizer="sgd", momentum=0.9, lr=1e-2,
                                           schedule="constant", log_every=2), "lightning"),
        ("overfit-wine", TrainConfig(dataset="wine", hidden=(256,), n_train=30, epochs=150, batch_size=8,
                                     optimizer="rmsprop", lr=1e-3, schedule="constant", log_every=0), "hf"),
    ]
    for fam, cfg, fmt in over:
        for s in seeds[:2]:
            runs.append((fam, "", replace(cfg, seed=s, formats=(fmt,), name=f"{fam}/seed={s}"), {}))
    # Schedules that cut far too early, against a sensible twin.
    sched_bases = [
        ("schedule-digits-sgd", TrainConfig(dataset="digits", hidden=(64,), epochs=20, batch_size=32,
                                            optimizer="sgd", lr=0.1, log_every=1), "tb"),
        ("schedule-breast_cancer-adam", TrainConfig(dataset="breast_cancer", hidden=(32,), epochs=30,
                                                    batch_size=16, optimizer="adam", lr=1e-3, log_every=0), "csv"),
        ("schedule-blobs-sgd_momentum", TrainConfig(dataset="blobs", hidden=(64, 64), epochs=20, batch_size=64,
                                                    optimizer="sgd", momentum=0.9, lr=1e-2, log_every=5), "mlflow"),
    ]
    schedules = [("aggressive_step", "step:step_size=1,gamma=0.1", True),
                 ("aggressive_exp", "exponential:gamma=0.3", True),
                 ("sensible_step", "step:step_size=10,gamma=0.5", False),
                 ("sensible_cosine", "cosine", False)]
    for fam, cfg, fmt in sched_bases:
        for s in seeds:
            for tag, sched, aggressive in schedules:
                runs.append((fam, f"{fam}/{s}", replace(cfg, seed=s, schedule=sched, formats=(fmt,),
                                                        name=f"{fam}/{tag}_seed={s}"),
                             {"aggressive": aggressive}))
    # Warmup vs none at a high peak LR (cosine decay after, stepped per batch).
    warm = TrainConfig(dataset="digits", hidden=(256, 256), epochs=15, batch_size=32, optimizer="sgd",
                       momentum=0.9, schedule="cosine", sched_interval="step", log_every=1)
    for lr in ([0.2] if quick else [0.15, 0.2, 0.3]):
        for s in seeds:
            for w in (0, 135):
                runs.append(("warmup-digits-sgd_momentum", f"warmup/{lr}/{s}",
                             replace(warm, lr=lr, seed=s, warmup=w, formats=("tb",) if s % 2 == 0 else ("lightning",),
                                     name=f"warmup-digits-sgd_momentum/lr={lr:g}_warmup={w}_seed={s}"),
                             {"warmup": w}))
    # Differential LRs: one group frozen (1000x too low) or blowing up, against a balanced twin.
    grp = TrainConfig(dataset="digits", hidden=(64, 64), epochs=20, batch_size=32, optimizer="sgd", momentum=0.9,
                      lr=0.03, schedule="constant", log_every=1)
    settings = [("balanced", {"body": 0.03, "head": 0.03}),
                ("body_frozen", {"body": 3e-5, "head": 0.03}),
                ("head_frozen", {"body": 0.03, "head": 3e-5}),
                ("head_blowup", {"body": 0.03, "head": 30.0}),
                ("body_blowup", {"body": 30.0, "head": 0.03})]
    fmts = ("tb", "mlflow", "lightning")
    for s in seeds:
        for tag, g in settings:
            runs.append(("groups-digits-sgd_momentum", f"groups/{s}",
                         replace(grp, seed=s, group_lr=g, formats=(fmts[s % 3],),
                                 name=f"groups-digits-sgd_momentum/{tag}_seed={s}"),
                         {"balanced": tag == "balanced"}))
    return runs


# --- labelling (outcomes only) --------------------------------------------------

def _bvl(res: dict) -> float:
    v = res.get("best_val_loss", math.nan)
    return v if v is not None and math.isfinite(v) and not res.get("diverged") else math.inf


def label_sweep(entries: list[tuple[float, dict]]) -> dict[str, str]:
    """lr_label for each run of ONE sweep (one family, one seed): {name: label}."""
    entries = sorted(entries, key=lambda e: e[0])
    losses = [_bvl(r) for _, r in entries]
    best = min(losses)
    labels: dict[str, str] = {}
    if not math.isfinite(best):
        return {r["name"]: "ambiguous" for _, r in entries}
    ib = losses.index(best)
    good = [v <= best * HEALTHY_RATIO + HEALTHY_MARGIN for v in losses]
    bad = [v > best * BAD_RATIO + BAD_MARGIN for v in losses]
    for i, (lr, r) in enumerate(entries):
        if good[i]:
            lab = "healthy"
        elif bad[i] and i > ib and not any(good[i + 1:]):
            lab = "too_high"
        elif bad[i] and i < ib and not any(good[:i]):
            lab = "too_low"
        else:
            lab = "ambiguous"
        labels[r["name"]] = lab
    return labels


def is_overfitting(history: list[list[float]]) -> bool:
    """Val loss rises clearly from an early minimum while train loss keeps falling."""
    if len(history) < 6:
        return False
    tr = [h[0] for h in history]
    va = [h[1] for h in history]
    if not all(math.isfinite(x) for x in tr + va):
        return False
    m = min(range(len(va)), key=va.__getitem__)
    if m > OVERFIT_MIN_AT * (len(va) - 1):
        return False
    rises = va[-1] >= va[m] * OVERFIT_RISE + OVERFIT_MARGIN
    train_falls = tr[-1] <= tr[m] * OVERFIT_TRAIN_DROP
    return rises and train_falls


def worse_than(a: dict, b: dict) -> bool:
    """Run a ended clearly worse than its twin b (or diverged where b did not)."""
    la, lb = _bvl(a), _bvl(b)
    if not math.isfinite(lb):
        return False
    return la > lb * TWIN_RATIO + TWIN_MARGIN


def log_path(out: Path, run_dir: str, fmt: str) -> str:
    """The run's path as lrreport.load names it (Lightning and MLflow nest their runs)."""
    if fmt == "lightning":
        return f"{run_dir}/lightning_logs/version_0"
    if fmt == "mlflow":
        found = sorted(p for p in (out / run_dir / "mlruns" / "1").iterdir() if p.is_dir())
        return found[0].relative_to(out).as_posix() if found else run_dir
    return run_dir


# --- main ------------------------------------------------------------------------

def build(out: Path, workers: int, quick: bool, holdout: bool = False) -> dict:
    t0 = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    jobs: list[tuple[str, str, TrainConfig, dict]] = []  # family, kind, config, meta
    for fam, base, lrs, seeds, fmt in (holdout_sweep_families() if holdout else sweep_families(quick)):
        for c in expand_sweep(replace(base, formats=(fmt,), name=fam), {"lr": lrs}, seeds):
            jobs.append((fam, "sweep", c, {"seed": c.seed}))
    for fam, twin, cfg, meta in (holdout_condition_runs() if holdout else condition_runs(quick)):
        jobs.append((fam, "condition", cfg, {**meta, "twin": twin}))
    # Longest first, so the pool does not end waiting on one MNIST run.
    order = sorted(range(len(jobs)), key=lambda i: -(jobs[i][2].model == "cnn") * 1000 - jobs[i][2].epochs)
    results_sorted = run_configs([jobs[i][2] for i in order], out, workers=workers, desc="corpus")
    results: list[dict] = [{}] * len(jobs)
    for i, r in zip(order, results_sorted):
        results[i] = r

    runs: dict[str, dict] = {}
    by_sweep: dict[tuple[str, int], list[tuple[float, dict]]] = defaultdict(list)
    twins: dict[str, list[tuple[TrainConfig, dict, dict]]] = defaultdict(list)
    for (fam, kind, cfg, meta), res in zip(jobs, results):
        if "error" in res:
            print(f"run {cfg.name} failed: {res['error']}", file=sys.stderr)
            continue
        conditions = ["overfitting"] if is_overfitting(res["history"]) else []
        runs[cfg.name] = {
            "log_path": log_path(out, cfg.name, cfg.formats[0]),
            "family": fam, "lr": cfg.lr, "format": cfg.formats[0], "seed": cfg.seed,
            "optimizer": cfg.optimizer, "schedule": cfg.schedule, "warmup": cfg.warmup,
            "group_lr": dict(cfg.group_lr) or None, "log_every": cfg.log_every,
            "best_val_loss": res["best_val_loss"] if math.isfinite(res["best_val_loss"]) else None,
            "best_epoch": res["best_epoch"], "epochs_run": len(res["history"]), "diverged": res["diverged"],
            "lr_label": "ambiguous", "conditions": conditions,
        }
        if kind == "sweep":
            by_sweep[(fam, cfg.seed)].append((cfg.lr, res))
        elif meta.get("twin"):
            twins[meta["twin"]].append((cfg, meta, res))
    for entries in by_sweep.values():
        for name, lab in label_sweep(entries).items():
            runs[name]["lr_label"] = lab
    for group in twins.values():
        ref_sched = [r for c, m, r in group if m.get("aggressive") is False]
        ref_warm = [r for c, m, r in group if m.get("warmup")]
        ref_bal = [r for c, m, r in group if m.get("balanced")]
        for cfg, meta, res in group:
            cond = runs[cfg.name]["conditions"]
            if meta.get("aggressive") and ref_sched and all(worse_than(res, t) for t in ref_sched):
                cond.append("schedule_too_aggressive")
            if meta.get("warmup") == 0 and ref_warm and worse_than(res, ref_warm[0]):
                cond.append("warmup_needed")
            if meta.get("balanced") is False and ref_bal and worse_than(res, ref_bal[0]):
                cond.append("lr_group_imbalance")
    families: dict[str, dict] = {}
    for name, r in runs.items():
        f = families.setdefault(r["family"], {"runs": 0, "format": r["format"], "good_lr_range": None})
        f["runs"] += 1
        if r["lr_label"] == "healthy":
            lo, hi = f["good_lr_range"] or (r["lr"], r["lr"])
            f["good_lr_range"] = [min(lo, r["lr"]), max(hi, r["lr"])]
    seconds = time.perf_counter() - t0
    labels = {
        "description": "Real harness runs labelled by outcome; see scripts/make_corpus.py for the rules.",
        "thresholds": {"healthy": [HEALTHY_RATIO, HEALTHY_MARGIN], "bad": [BAD_RATIO, BAD_MARGIN],
                       "twin": [TWIN_RATIO, TWIN_MARGIN],
                       "overfitting": [OVERFIT_RISE, OVERFIT_MARGIN, OVERFIT_TRAIN_DROP, OVERFIT_MIN_AT]},
        "build_seconds": round(seconds, 1),
        "families": families,
        "runs": dict(sorted(runs.items())),
    }
    (out / "labels.json").write_text(json.dumps(labels, indent=2, allow_nan=False) + "\n")
    return labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="corpus", type=Path)
    ap.add_argument("--workers", type=int, default=2, help="worker processes (one torch thread each)")
    ap.add_argument("--quick", action="store_true", help="a smaller corpus (one seed, coarser grids)")
    ap.add_argument("--holdout", action="store_true",
                    help="a second corpus of other set-ups (data, models, optimizers, seeds) to check the tuning on")
    args = ap.parse_args(argv)
    labels = build(args.out, args.workers, args.quick, args.holdout)
    runs = labels["runs"]
    print(f"{len(runs)} runs in {len(labels['families'])} families, built in {labels['build_seconds']} s")
    print("lr_label:", dict(sorted(Counter(r["lr_label"] for r in runs.values()).items())))
    print("conditions:", dict(sorted(Counter(c for r in runs.values() for c in r["conditions"]).items())))
    print("formats:", dict(sorted(Counter(r["format"] for r in runs.values()).items())))
    for fam, f in labels["families"].items():
        print(f"  {fam:32s} {f['runs']:3d} runs  {f['format']:14s} good lr: {f['good_lr_range']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
