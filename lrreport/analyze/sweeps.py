"""Sweeps: runs that differ in their LR, the LR range that worked, and each run's place.

Runs form a sweep when they sit in the same folder and their hyperparameters
agree on everything but the LR and the seed (runs without hyperparameters
group by folder alone), with at least ``MIN_LRS`` distinct LRs. Each run is
scored on the lowest validation loss it reached (training loss when the sweep
has no validation; a diverged run scores +inf); seeds of one LR are pooled by
their median. The LRs whose score is within ``sweep_good_factor`` of the best
(or within ``ABS_MARGIN`` of the starting loss, for losses near zero) worked;
a run outside that range and clearly worse (``BAD_FACTOR``) is too high or too
low, by which side it is on.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from .analysis import Sweep, SweepRun
from .context import LR_IN_NAME, RunContext, name_lr

__all__ = ["find_sweeps", "sweep_key"]

MIN_LRS = 3
#: Clearly worse than the best: this many times its score.
BAD_FACTOR = 1.35
#: For losses near zero: a run within this share of the typical starting loss of the best is good.
ABS_MARGIN = 0.03
#: LRs closer than this ratio count as the same LR.
SAME_LR = 1.05
#: hparams that differ between the runs of one sweep by design, or are outcomes, not settings.
VOLATILE = re.compile(
    r"(^|[._/])(lr|learning_rate|base_lr|max_lr|peak_lr|init_lr|initial_lr|seed|random_seed|run_?name|run_?id|"
    r"name|version|timestamp|date|time|best_metric|best_global_step|global_step|best_model_checkpoint|"
    r"output_dir|logdir|log_dir|logging_dir|mlflow\.runname|mlflow\.status|status|hp_metric|suggested_lr|"
    r"experiment(_?name)?|exp_?name|tags?|id|uuid|host(name)?|git\w*|commit|path|dir|file(name)?|device)$"
    r"|lr/|learning_rate/|(_id|_dir|_path|_time|_date)$",
    re.I,
)


#: Folders a framework adds below the run's own folder: lightning_logs/version_0,
#: mlruns/<experiment>/<run id>, a timestamped sub-run.
LAYOUT_SUFFIX = re.compile(r"(/lightning_logs/version_\d+|/version_\d+|/mlruns/[^/]+/[^/]+|/\d{9,11}(\.\d+)?)$")


def sweep_folder(run: str) -> str:
    """The folder that holds a run's sweep: the parent of the run's own folder."""
    own = LAYOUT_SUFFIX.sub("", "/" + run).lstrip("/")
    return str(PurePosixPath(own).parent) if own else "."


def name_pattern(run: str) -> str:
    """A run's own name with its LR and seed blanked out, when the name carries an LR:
    ``digits_sgd_lr0.1.csv`` -> ``digits_sgd_lr*.csv``. Runs of different set-ups written
    side by side in one folder then stay apart."""
    own = LAYOUT_SUFFIX.sub("", "/" + run).rsplit("/", 1)[-1]
    if name_lr(own) is None:
        return ""
    return _blank_lr(own)


def _blank_lr(text: str) -> str:
    """A free-text setting that spells out the LR (``tag: lr0.01_run``) must not split a sweep."""
    text = LR_IN_NAME.sub(lambda m: m.group(0).replace(m.group("v"), "*"), text)
    return SEED_IN_NAME.sub(lambda m: m.group(0).replace(m.group(1), "*"), text)


def sweep_key(ctx: RunContext) -> tuple[str, tuple[tuple[str, str], ...]]:
    parent = sweep_folder(ctx.run)
    pattern = name_pattern(ctx.run)
    if pattern:
        parent = f"{parent}\x00{pattern}"  # split again by _describe
    settings = tuple(
        sorted(
            (k, _blank_lr(str(v)))
            for k, v in ctx.info.hparams.items()
            if not VOLATILE.search(k) and not k.startswith("_")
        )
    )
    return parent, settings


def _score(ctx: RunContext, metric: str) -> float:
    curve = ctx.val if metric == "val_loss" else ctx.train
    if curve is None or len(curve) == 0:
        return math.nan
    bad = ~curve.finite
    if bad.any():
        first = int(np.argmax(bad))
        if bad[first:].mean() >= 0.5 or bad[-1]:
            return math.inf
    v = curve.fvalue
    if not len(v):
        return math.inf
    if metric == "val_loss":
        from .signals import rolling_median

        return float(np.min(rolling_median(v, 3))) if len(v) >= 3 else float(np.min(v))
    from .signals import late_level

    return late_level(v)


def _describe(settings: tuple[tuple[str, str], ...], parent: str) -> str:
    folder, _, pattern = parent.partition("\x00")
    shown = ", ".join(f"{k}={v}" for k, v in settings[:4])
    where = f"{folder}/" if folder not in ("", ".") else "the logdir"
    runs = f" (runs {pattern})" if pattern else ""
    return f"LR sweep in {where}{runs}" + (f": {shown}{', ...' if len(settings) > 4 else ''}" if shown else "")


SEED_IN_NAME = re.compile(r"(?:^|[/_\-. ])seed[=_\-]?(\d+)(?=$|[/_\-. ])", re.I)


def _seed(ctx: RunContext) -> str | None:
    hp = {k.lower(): v for k, v in ctx.info.hparams.items()}
    v = hp.get("seed", hp.get("random_seed"))
    if v is None:
        m = SEED_IN_NAME.findall(ctx.run)
        v = m[-1] if len(set(m)) == 1 else None
    return None if v is None else str(v)


def _split_by_seed(groups: dict) -> dict:
    """A sweep repeated with several seeds is judged seed by seed when every seed covers
    the grid: a run is then compared with what the same seed reached at other LRs."""
    out: dict = {}
    for (parent, settings), members in groups.items():
        by_seed: dict[str | None, list[RunContext]] = defaultdict(list)
        for c in members:
            by_seed[_seed(c)].append(c)
        full = len(by_seed) > 1 and None not in by_seed and all(
            len({round(math.log10(c.nominal_lr), 2) for c in cs}) >= MIN_LRS for cs in by_seed.values()
        )
        if full:
            for seed, cs in by_seed.items():
                out[(parent, settings + (("seed", seed),))] = cs
        else:
            out[(parent, settings)] = members
    return out


def find_sweeps(contexts: dict[str, RunContext], skip: set[str] | None = None) -> list[Sweep]:
    """Find the sweeps among these runs and tell each run's context its place."""
    skip = skip or set()
    groups: dict[Any, list[RunContext]] = defaultdict(list)
    for name, ctx in contexts.items():
        if name in skip or ctx.nominal_lr is None:
            continue
        groups[sweep_key(ctx)].append(ctx)
    groups = _split_by_seed(groups)
    sweeps: list[Sweep] = []
    for (parent, settings), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        lrs = sorted({c.nominal_lr for c in members})
        distinct = [lrs[0]]
        for lr in lrs[1:]:
            if lr / distinct[-1] > SAME_LR:
                distinct.append(lr)
        if len(distinct) < MIN_LRS:
            continue
        metric = "val_loss" if all(c.val is not None and len(c.val) for c in members) else "train_loss"
        scores = {c.run: _score(c, metric) for c in members}
        if not any(math.isfinite(s) for s in scores.values()):
            continue
        # Pool seeds: each distinct LR's score is the median of its runs.
        def bucket(lr: float) -> float:
            return min(distinct, key=lambda d: abs(math.log(lr / d)))

        by_lr: dict[float, list[float]] = defaultdict(list)
        for c in members:
            s = scores[c.run]
            if not math.isnan(s):
                by_lr[bucket(c.nominal_lr)].append(s)
        pooled = {lr: float(np.median(v)) for lr, v in by_lr.items() if v}
        finite = {lr: s for lr, s in pooled.items() if math.isfinite(s)}
        if not finite:
            continue
        best_lr = min(finite, key=lambda lr: (finite[lr], lr))
        best = finite[best_lr]
        starts = [c.val.start if metric == "val_loss" else c.train.start for c in members]
        scale = float(np.nanmedian([s for s in starts if s is not None and math.isfinite(s)] or [abs(best)]))
        margin = ABS_MARGIN * abs(scale)

        def good(s: float) -> bool:
            return math.isfinite(s) and (s <= best * members[0].config.sweep_good_factor or s - best <= margin)

        def bad(s: float) -> bool:
            return not math.isfinite(s) or (s > best * BAD_FACTOR and s - best > margin)

        good_lrs = sorted(lr for lr, s in pooled.items() if good(s))
        lo, hi = good_lrs[0], good_lrs[-1]
        runs: list[SweepRun] = []
        for c in sorted(members, key=lambda c: (c.nominal_lr, c.run)):
            lr = c.nominal_lr
            s = scores[c.run]
            b = bucket(lr)
            if b == best_lr:
                pos = "best"
            elif good(pooled.get(b, s)) and lo <= lr <= hi:
                pos = "good"
            elif bad(s) and lr > hi:
                pos = "too_high"
            elif bad(s) and lr < lo:
                pos = "too_low"
            elif not math.isfinite(s):
                pos = "failed"
            else:
                pos = "near"
            runs.append(SweepRun(run=c.run, lr=lr, best_val_loss=s, position=pos, metric=metric))
            c.sweep_position = pos
            c.sweep_best_lr = best_lr
            c.sweep_good_range = (lo, hi)
            c.sweep_grid = (distinct[0], distinct[-1])
            c.sweep_evidence = {
                "sweep_best_lr": best_lr,
                "sweep_best_score": best,
                "run_score": s,
                "score_over_best": (s / best) if best > 0 and math.isfinite(s) else None,
                "sweep_metric": metric,
                "sweep_good_lr_range": [lo, hi],
                "sweep_runs": len(members),
            }
        edge = best_lr in (distinct[0], distinct[-1])
        conf = 0.85 if len(distinct) >= 5 and not edge else 0.65 if not edge else 0.5
        sweeps.append(
            Sweep(
                name=_describe(settings, parent),
                metric=metric,
                runs=runs,
                best_lr=best_lr,
                good_lr_range=(lo, hi),
                confidence=conf,
            )
        )
    return sweeps
