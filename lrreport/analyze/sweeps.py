"""Sweeps: runs of one set-up that differ in their LR, the LR range that worked, each run's place.

A sweep needs positive evidence that its runs are one experiment, because
unrelated projects often sit side by side in one folder (a ``logs/`` of
downloads, a benchmark's result tree). Runs group when all of these hold:

* **Same experiment**: the same folder (the parent of each run's own folder,
  framework layers such as ``lightning_logs/version_N`` and
  ``mlruns/<exp>/<id>`` removed) and the same hyperparameters apart from
  the LR, the seed and identity-like keys (ids, names, paths, times, devices).
  Runs that record no hyperparameters must say it another way: a run name
  with its LR blanked out that they share (``resnet_lr*_seed*``), or names
  that a framework numbered (``version_3``, W&B's ``run-<date>-<id>``).
* **Same set-up as seen in the curves**, for runs that share no recorded
  settings: the same loss metrics logged, lengths within ``LENGTH_RATIO``
  and starting losses within ``START_RATIO`` of the group's median (the
  lowest of each run's first points). A run that fails the check leaves the
  group. Runs whose settings agree need no such check (an epoch-level log's
  first point comes after a first epoch at the run's own LR, so their starts
  differ by design).
* At least ``MIN_LRS`` distinct LRs.

Seeds of one set-up, and the formats they were written in, form one sweep:
each LR is scored by the median over its seeds, and the sweep reports how
often the seeds agree on the best LR. Each run is scored by a statistic one
lucky point cannot move: the best rolling median of its validation loss over
``score_window`` evaluations (a tenth of them, at least 3), else the median
of the last tenth of its training loss; a run that diverged scores +inf. The
LRs within ``sweep_good_factor`` of the best (or within ``ABS_MARGIN`` of the
starting loss, for losses near zero) worked; a run outside that range and
clearly worse (``BAD_FACTOR``) is too high or too low, by its side.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from .analysis import Sweep, SweepRun
from .context import LR_IN_NAME, RunContext, name_lr

__all__ = ["SweepProfile", "assign_sweeps", "profile_run", "sweep_key"]

MIN_LRS = 3
#: Clearly worse than the best: this many times its score.
BAD_FACTOR = 1.35
#: For losses near zero: a run within this share of the typical starting loss of the best is good.
ABS_MARGIN = 0.03
#: LRs closer than this ratio count as the same LR.
SAME_LR = 1.05
#: Runs of one set-up have lengths within this factor of the group's median ...
LENGTH_RATIO = 4.0
#: ... and start (the lowest of their first points) within this factor of its median loss.
START_RATIO = 10.0
#: hparams that differ between the runs of one sweep by design, or are outcomes, not settings.
VOLATILE = re.compile(
    r"(^|[._/])(lr|learning_rate|base_lr|max_lr|peak_lr|init_lr|initial_lr|seed|random_seed|run_?name|run_?id|"
    r"name|version|timestamp|date|time|best_metric|best_global_step|global_step|best_model_checkpoint|"
    r"output_dir|logdir|log_dir|logging_dir|mlflow\.runname|mlflow\.status|status|hp_metric|suggested_lr|"
    r"experiment(_?name)?|exp_?name|tags?|id|uuid|host(name)?|git\w*|commit|path|dir|file(name)?|device|"
    r"_wandb|wandb\.\w+|runtime|start_time|end_time|num_gpus|world_size|local_rank|rank|pid)$"
    r"|lr/|learning_rate/|(_id|_dir|_path|_time|_date|_at)$",
    re.I,
)

#: Folders a framework adds below the run's own folder: lightning_logs/version_0,
#: mlruns/<experiment>/<run id>, a timestamped sub-run.
LAYOUT_SUFFIX = re.compile(r"(/lightning_logs/version_\d+|/version_\d+|/mlruns/[^/]+/[^/]+|/\d{9,11}(\.\d+)?)$")
#: Run names a framework numbers or stamps: version_3, run-20251020_211450-fy3q62jk,
#: offline-run-..., an MLflow run id, a bare number.
FRAMEWORK_NAME = re.compile(
    r"^(version_\d+|(offline-)?run-\d{8}_\d{6}-[a-z0-9]+|[0-9a-f]{32}|\d+|checkpoint-\d+)$", re.I
)
#: Extensions and format words that say how a run was written, not what it was.
FORMAT_SUFFIX = re.compile(r"(\.(csv|tsv|json|log|txt|out|yaml|yml|pkl|pickle))+$|[._-](metrics|history|log)$", re.I)
SEED_IN_NAME = re.compile(r"(?:^|[/_\-. ])seed[=_\-]?(\d+)(?=$|[/_\-. ])", re.I)


def sweep_folder(run: str) -> str:
    """The folder that holds a run's sweep: the parent of the run's own folder."""
    own = LAYOUT_SUFFIX.sub("", "/" + run).lstrip("/")
    return str(PurePosixPath(own).parent) if own else "."


def own_name(run: str) -> str:
    return LAYOUT_SUFFIX.sub("", "/" + run).rsplit("/", 1)[-1]


def name_pattern(run: str) -> str:
    """A run's own name with its LR, seed and format blanked out, when the name carries an
    LR: ``digits_sgd_lr0.1.csv`` -> ``digits_sgd_lr*``. Runs of different set-ups written
    side by side in one folder then stay apart; one set-up's CSV and event-file runs meet."""
    own = own_name(run)
    if name_lr(own) is None:
        return ""
    return FORMAT_SUFFIX.sub("", _blank_lr(own))


def _blank_lr(text: str) -> str:
    """A free-text setting that spells out the LR (``tag: lr0.01_run``) must not split a sweep."""
    text = LR_IN_NAME.sub(lambda m: m.group(0).replace(m.group("v"), "*"), text)
    return SEED_IN_NAME.sub(lambda m: m.group(0).replace(m.group(1), "*"), text)


def _norm_value(v: Any) -> str:
    """Settings compare as text, so a YAML 0.1 and an MLflow "0.1" agree, and a boolean reads
    the same whether a format wrote it as true/false or as 1/0 (TensorBoard's hparams do)."""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        f = float(v)
        return repr(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
    text = _blank_lr(str(v)).strip()
    low = text.lower()
    if low in ("true", "false", "yes", "no"):
        return "1" if low in ("true", "yes") else "0"
    try:
        f = float(text)
    except ValueError:
        return text
    return repr(int(f)) if math.isfinite(f) and f.is_integer() and abs(f) < 1e15 else repr(f)


def sweep_key(hparams: dict[str, Any], run: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(folder, name pattern, settings): what runs of one experiment share."""
    settings = tuple(
        sorted(
            (str(k), _norm_value(v))
            for k, v in hparams.items()
            if not VOLATILE.search(str(k)) and not str(k).startswith("_")
        )
    )
    return sweep_folder(run), name_pattern(run), settings


@dataclass
class SweepProfile:
    """What the sweep analysis needs of one run, and nothing more (no raw points)."""

    run: str
    lr: float | None
    key: tuple[str, str, tuple[tuple[str, str], ...]]
    framework_named: bool  #: the run's own name was made by a framework (version_3, run-<date>-<id>)
    has_hparams: bool
    seed: str | None
    losses: tuple[str, ...]  #: loss metrics logged (train_loss, val_loss)
    length: float  #: steps from the first to the last loss point
    start: dict[str, float] = field(default_factory=dict)  #: per loss metric: the lowest of its first points
    scores: dict[str, float] = field(default_factory=dict)  #: per loss metric: the robust best
    score_window: dict[str, int] = field(default_factory=dict)
    span: dict[str, tuple[int, int]] = field(default_factory=dict)  #: per loss metric: first and last step


def _seed(hparams: dict[str, Any], run: str) -> str | None:
    hp = {k.lower(): v for k, v in hparams.items()}
    v = hp.get("seed", hp.get("random_seed"))
    if v is None:
        m = SEED_IN_NAME.findall(run)
        v = m[-1] if len(set(m)) == 1 else None
    return None if v is None else _norm_value(v)


def _diverged(curve) -> bool:
    bad = ~curve.finite
    if not bad.any():
        return False
    first = int(np.argmax(bad))
    return bool(bad[first:].mean() >= 0.5 or bad[-1])


def robust_best(values: np.ndarray) -> tuple[float, int]:
    """The best rolling median over a tenth of the points (at least 3): a level the run
    held, which one lucky evaluation (an exact 0.0 in a run sitting in the hundreds) cannot set."""
    n = len(values)
    if n == 0:
        return math.inf, 0
    w = max(3, n // 10)
    if n < w:
        return float(np.median(values)), n
    import pandas as pd

    med = pd.Series(values).rolling(w, center=False).median().to_numpy()[w - 1 :]
    return float(np.min(med)), w


def profile_run(ctx: RunContext) -> SweepProfile:
    hp = ctx.info.hparams
    losses: list[str] = []
    start: dict[str, float] = {}
    scores: dict[str, float] = {}
    windows: dict[str, int] = {}
    span: dict[str, tuple[int, int]] = {}
    firsts, lasts = [], []
    for metric, curve in (("train_loss", ctx.train), ("val_loss", ctx.val)):
        if curve is None or len(curve) == 0:
            continue
        losses.append(metric)
        span[metric] = (curve.first_step, curve.last_step)
        firsts.append(curve.first_step)
        lasts.append(curve.last_step)
        v = curve.fvalue
        if len(v):
            start[metric] = float(np.min(v[: max(1, min(5, len(v) // 10 or 1))]))
        if _diverged(curve) or not len(v):
            scores[metric], windows[metric] = math.inf, 0
        elif metric == "val_loss":
            scores[metric], windows[metric] = robust_best(v)
        else:
            # Training loss is noisy per step: per-epoch means when known, then the same rule.
            ep = ctx.epochs
            per = ep.train[np.isfinite(ep.train)] if ep is not None and ep.how != "none" else np.zeros(0)
            scores[metric], windows[metric] = robust_best(per if len(per) >= 3 else v)
    return SweepProfile(
        run=ctx.run,
        lr=ctx.nominal_lr,
        key=sweep_key(hp, ctx.run),
        framework_named=bool(FRAMEWORK_NAME.match(own_name(ctx.run))),
        has_hparams=bool(hp),
        seed=_seed(hp, ctx.run),
        losses=tuple(losses),
        length=float(max(lasts) - min(firsts)) if firsts else 0.0,
        start=start,
        scores=scores,
        score_window=windows,
        span=span,
    )


@dataclass
class Placement:
    """A run's place in its sweep, as the per-run verdict needs it."""

    position: str  #: best | good | near | too_high | too_low | failed
    best_lr: float
    good_range: tuple[float, float]
    grid: tuple[float, float]
    evidence: dict[str, Any]


def _one_experiment(members: list[SweepProfile]) -> bool:
    """Runs with no hyperparameters must say in their names that they belong together."""
    if all(p.has_hparams for p in members):
        return True
    if all(p.key[1] for p in members):  # a shared name pattern with the LR blanked
        return True
    return all(p.framework_named for p in members)


def _compatible(members: list[SweepProfile]) -> list[SweepProfile]:
    """Keep the runs whose curves look like one set-up: the metrics most runs log, lengths
    and starting losses near the group's median."""
    if len(members) < 2:
        return members
    common = max({p.losses for p in members}, key=lambda ls: (sum(p.losses == ls for p in members), len(ls), ls))
    out = [p for p in members if set(common) <= set(p.losses)]
    if len(out) < 2:
        return out
    lens = np.array([p.length for p in out], dtype=float)
    med_len = float(np.median(lens))
    if med_len > 0:
        out = [p for p in out if p.length > 0 and max(p.length, med_len) / min(p.length, med_len) <= LENGTH_RATIO]
    metric = "val_loss" if "val_loss" in common else "train_loss"
    starts = [p.start.get(metric) for p in out]
    ok = [s for s in starts if s is not None and math.isfinite(s) and s > 0]
    if len(ok) >= 2:
        med = float(np.median(ok))
        out = [
            p
            for p, s in zip(out, starts)
            if s is None or not math.isfinite(s) or s <= 0 or max(s, med) / min(s, med) <= START_RATIO
        ]
    return out


def _distinct(lrs: list[float]) -> list[float]:
    lrs = sorted(lrs)
    distinct = [lrs[0]]
    for lr in lrs[1:]:
        if lr / distinct[-1] > SAME_LR:
            distinct.append(lr)
    return distinct


def _describe(key: tuple[str, str, tuple[tuple[str, str], ...]]) -> str:
    folder, pattern, settings = key
    shown = ", ".join(f"{k}={v}" for k, v in settings[:4])
    where = f"{folder}/" if folder not in ("", ".") else "the logdir"
    runs = f" (runs {pattern})" if pattern else ""
    return f"LR sweep in {where}{runs}" + (f": {shown}{', ...' if len(settings) > 4 else ''}" if shown else "")


def assign_sweeps(
    profiles: list[SweepProfile], good_factor: float
) -> tuple[list[Sweep], dict[str, Placement]]:
    """Find the sweeps among these runs; return them and each member's placement."""
    groups: dict[Any, list[SweepProfile]] = defaultdict(list)
    for p in profiles:
        if p.lr is None or not p.losses:
            continue
        groups[p.key].append(p)
    sweeps: list[Sweep] = []
    places: dict[str, Placement] = {}
    for key in sorted(groups, key=repr):
        members = groups[key]
        if not _one_experiment(members):
            continue
        if not (key[2] and all(p.has_hparams for p in members)):
            # Without shared settings the curves must show one set-up. (With them, they
            # need not: an epoch-level log's first point comes after a first epoch at the
            # run's own LR, so starts differ by design.)
            members = _compatible(members)
        members = sorted(members, key=lambda p: (p.lr, p.run))
        if len(members) < MIN_LRS:
            continue
        distinct = _distinct([p.lr for p in members])
        if len(distinct) < MIN_LRS:
            continue
        metric = "val_loss" if all("val_loss" in p.losses for p in members) else "train_loss"
        raw = {p.run: p.scores.get(metric, math.nan) for p in members}
        if not any(math.isfinite(s) for s in raw.values()):
            continue

        def bucket(lr: float) -> float:
            return min(distinct, key=lambda d: abs(math.log(lr / d)))

        # Seeds that each tried several LRs are judged against their own best, put on one
        # scale: a seed whose split is harder is not a worse LR.
        factor = _seed_scales(members, raw, bucket)
        scores = {run: s * factor.get(run, 1.0) for run, s in raw.items()}
        by_lr: dict[float, list[float]] = defaultdict(list)
        for p in members:
            s = scores[p.run]
            if not math.isnan(s):
                by_lr[bucket(p.lr)].append(s)
        pooled = {lr: float(np.median(v)) for lr, v in by_lr.items() if v}
        finite = {lr: s for lr, s in pooled.items() if math.isfinite(s)}
        if not finite:
            continue
        best_lr = min(finite, key=lambda lr: (finite[lr], lr))
        best = finite[best_lr]
        starts = [p.start.get(metric) for p in members]
        scale = float(np.nanmedian([s for s in starts if s is not None and math.isfinite(s)] or [abs(best)]))
        margin = ABS_MARGIN * abs(scale)

        # A seed's scores were scaled by its factor: so is the margin, in that seed's units.
        by_lr_factor = defaultdict(list)
        for p in members:
            by_lr_factor[bucket(p.lr)].append(factor.get(p.run, 1.0))
        lr_factor = {lr: float(np.median(f)) for lr, f in by_lr_factor.items()}

        def good(s: float, f: float = 1.0) -> bool:
            return math.isfinite(s) and (s <= best * good_factor or s - best <= margin * f)

        def bad(s: float, f: float = 1.0) -> bool:
            return not math.isfinite(s) or (s > best * BAD_FACTOR and s - best > margin * f)

        good_lrs = sorted(lr for lr, s in pooled.items() if good(s, lr_factor[lr]))
        lo, hi = good_lrs[0], good_lrs[-1]
        seeds = _seed_agreement(members, raw, bucket, best_lr)
        window = max((p.score_window.get(metric, 0) for p in members), default=0)
        stat = (
            f"best rolling median of {metric} over a tenth of its evaluations (at least 3; {window} here)"
            if metric == "val_loss"
            else f"best rolling median of the per-epoch mean {metric} over a tenth of the epochs (at least 3)"
        )
        runs: list[SweepRun] = []
        for p in members:
            s = scores[p.run]
            b = bucket(p.lr)
            f = factor.get(p.run, 1.0)
            if b == best_lr:
                pos = "best"
            elif good(pooled.get(b, s), lr_factor[b]) and lo <= p.lr <= hi:
                pos = "good"
            elif bad(s, f) and p.lr > hi:
                pos = "too_high"
            elif bad(s, f) and p.lr < lo:
                pos = "too_low"
            elif not math.isfinite(s):
                pos = "failed"
            else:
                pos = "near"
            own, ref, same_seed = raw[p.run], best, False
            if p.run in factor:
                at_best = [raw[q.run] for q in members if q.seed == p.seed and bucket(q.lr) == best_lr]
                at_best = [v for v in at_best if math.isfinite(v)]
                if at_best:
                    ref, same_seed = min(at_best), True
                else:
                    ref = best / factor[p.run]
            runs.append(SweepRun(run=p.run, lr=p.lr, best_val_loss=own, position=pos, metric=metric))
            places[p.run] = Placement(
                position=pos,
                best_lr=best_lr,
                good_range=(lo, hi),
                grid=(distinct[0], distinct[-1]),
                evidence={
                    "sweep_best_lr": best_lr,
                    "sweep_best_score": ref,
                    "sweep_same_seed": same_seed,
                    "run_score": own,
                    "score_over_best": (own / ref) if ref > 0 and math.isfinite(own) else None,
                    "sweep_metric": metric,
                    "sweep_score": stat,
                    "sweep_good_lr_range": [lo, hi],
                    "sweep_runs": len(members),
                },
            )
        edge = best_lr in (distinct[0], distinct[-1])
        conf = 0.85 if len(distinct) >= 5 and not edge else 0.65 if not edge else 0.5
        if seeds["seeds"] >= 2:
            conf *= 0.6 + 0.4 * seeds["agreement"]
        sweeps.append(
            Sweep(
                name=_describe(key),
                metric=metric,
                runs=runs,
                best_lr=best_lr,
                good_lr_range=(lo, hi),
                confidence=round(conf, 3),
                score=stat,
                seeds=seeds["seeds"],
                seed_agreement=seeds["agreement"] if seeds["seeds"] >= 2 else None,
                seed_best_lrs=seeds["best_lrs"],
            )
        )
    return sweeps, places


def _seed_scales(members, scores, bucket) -> dict[str, float]:
    """Run -> the factor that puts its seed's scores on the sweep's common scale.

    Only where at least two seeds each tried MIN_LRS LRs: each such seed's best score
    becomes the median of those bests, its other scores keep their ratio to it. Runs of
    other seeds (or none) keep their scores."""
    by_seed: dict[str, list[SweepProfile]] = defaultdict(list)
    for p in members:
        if p.seed is not None:
            by_seed[p.seed].append(p)
    bests: dict[str, float] = {}
    for seed, ps in by_seed.items():
        finite = [(scores[p.run], bucket(p.lr)) for p in ps if math.isfinite(scores[p.run])]
        if len({b for _, b in finite}) >= MIN_LRS:
            bests[seed] = min(s for s, _ in finite)
    if len(bests) < 2 or not all(b > 0 for b in bests.values()):
        return {}
    common = float(np.median(list(bests.values())))
    return {p.run: common / bests[p.seed] for ps in by_seed.values() for p in ps if p.seed in bests}


def _seed_agreement(members, scores, bucket, best_lr) -> dict[str, Any]:
    """Per seed that covers at least MIN_LRS LRs: its own best LR; how many agree with the pooled best
    (the same LR or the grid's next one)."""
    by_seed: dict[str, list[SweepProfile]] = defaultdict(list)
    for p in members:
        if p.seed is not None:
            by_seed[p.seed].append(p)
    best_lrs: dict[str, float] = {}
    for seed, ps in sorted(by_seed.items()):
        finite = [(scores[p.run], bucket(p.lr)) for p in ps if math.isfinite(scores[p.run])]
        if len({b for _, b in finite}) < MIN_LRS:
            continue
        best_lrs[seed] = min(finite)[1]
    if len(best_lrs) < 2:
        return {"seeds": len(best_lrs), "agreement": 1.0, "best_lrs": best_lrs}
    grid = sorted({bucket(p.lr) for p in members})
    pos = {lr: i for i, lr in enumerate(grid)}
    agree = sum(abs(pos[b] - pos[best_lr]) <= 1 for b in best_lrs.values())
    return {"seeds": len(best_lrs), "agreement": agree / len(best_lrs), "best_lrs": best_lrs}
