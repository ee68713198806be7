"""What a detector sees of one run: its canonical series, cleaned once.

Built once per run by :func:`lrreport.analyze.analyze` and handed to every
detector, so no detector re-reads the RunSet or recomputes the smoothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..runs import RunInfo, RunSet, Series
from . import signals
from .config import Config

__all__ = ["Curve", "RunContext", "build_context", "hparam_lr"]

LR_HPARAM_KEYS = (
    "lr",
    "learning_rate",
    "base_lr",
    "max_lr",
    "peak_lr",
    "init_lr",
    "initial_lr",
    "opt_learning_rate",
    "optimizer.lr",
    "optimizer.learning_rate",
    "optim.lr",
    "hparams.lr",
    "model.lr",
    "model.learning_rate",
    "trainer.lr",
)


def _as_float(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


#: An LR written into a run's path by a sweep script: lr=1e-3, lr_0.01, lr-3e-4, learning_rate=0.1.
LR_IN_NAME = re.compile(
    r"(?:^|[/_\-. ])(?:lr|learning[_\-]?rate)[=_\-]?(?P<v>\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?=$|[/_\-, ]|\.[a-z])", re.I
)


def name_lr(run: str) -> float | None:
    """The LR a run's path names, when exactly one LR value is named."""
    found = {float(m.group("v")) for m in LR_IN_NAME.finditer(run)}
    found = {f for f in found if 0 < f < 1e3}
    return found.pop() if len(found) == 1 else None


def hparam_lr(hparams: dict[str, Any]) -> float | None:
    """The run's configured LR from its hyperparameters, when they name one."""
    lower = {k.lower(): v for k, v in hparams.items()}
    for key in LR_HPARAM_KEYS:
        if key in lower:
            f = _as_float(lower[key])
            if f is not None and f > 0:
                return f
    for k, v in sorted(lower.items()):
        if re.search(r"(^|[._/])(lr|learning_rate)$", k):
            f = _as_float(v)
            if f is not None and f > 0:
                return f
    return None


@dataclass
class Curve:
    """A loss-like series with its finite part and a robust smoothing."""

    series: Series
    frac: float

    @property
    def step(self) -> np.ndarray:
        return self.series.step

    @property
    def value(self) -> np.ndarray:
        return self.series.value

    def __len__(self) -> int:
        return len(self.series)

    @cached_property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.series.value)

    @cached_property
    def fstep(self) -> np.ndarray:
        return self.series.step[self.finite]

    @cached_property
    def fvalue(self) -> np.ndarray:
        return self.series.value[self.finite]

    @cached_property
    def smooth(self) -> np.ndarray:
        """Robustly smoothed finite values (aligned with ``fstep``)."""
        return signals.robust_smooth(self.fvalue, self.frac)

    @cached_property
    def start(self) -> float:
        return signals.early_level(self.fvalue)

    @cached_property
    def end(self) -> float:
        return signals.late_level(self.fvalue)

    @cached_property
    def best(self) -> float:
        return float(np.min(self.smooth)) if len(self.smooth) else math.nan

    @property
    def first_step(self) -> int:
        return int(self.step[0]) if len(self.step) else 0

    @property
    def last_step(self) -> int:
        return int(self.step[-1]) if len(self.step) else 0


@dataclass
class RunContext:
    run: str
    info: RunInfo
    config: Config
    train: Curve | None
    val: Curve | None
    train_acc: Series | None
    val_acc: Series | None
    lr: Series | None  #: `lr`, else the first `lr/<group>`
    group_lrs: dict[str, Series] = field(default_factory=dict)
    grad_norm: Series | None = None
    update_ratios: dict[str, Series] = field(default_factory=dict)
    epochs: Any = None  #: trace.EpochView: the run one epoch at a time

    @cached_property
    def prior(self):
        """The usual LR range for this run's optimizer and regime (:mod:`.lr_prior`)."""
        from .lr_prior import prior_for

        return prior_for(self.info.source, self.info.hparams, self.run, self.info.metrics + list(self.tags))

    tags: tuple[str, ...] = ()  #: the run's tags as written (optimizer names hide in LR tags)

    @cached_property
    def adversarial(self) -> bool:
        """Two players' losses (a GAN's generator and discriminator): each rises when the other
        wins, so neither is a loss the run minimises and a growing one is not a divergence."""
        from ..metrics import split_words

        players = set()
        for t in self.tags:
            words = set(split_words(t))
            if words & LOSS_WORDS_ANY:
                players |= words & ADVERSARIAL_WORDS
        return len(players) >= 2

    @property
    def loss(self) -> Curve | None:
        """The curve the LR detectors judge: training loss, else validation loss."""
        return self.train if self.train is not None and len(self.train.fvalue) >= 2 else self.val

    @cached_property
    def total_steps(self) -> int:
        ends = [c.last_step for c in (self.train, self.val) if c is not None and len(c)]
        starts = [c.first_step for c in (self.train, self.val) if c is not None and len(c)]
        return max(ends, default=0) - min(starts, default=0)

    @cached_property
    def nominal_lr(self) -> float | None:
        """The LR this run was configured with: hparams, else the peak of its logged LR,
        else the LR its path names (``lr=1e-3/``, as sweep scripts name run folders)."""
        f = hparam_lr(self.info.hparams)
        if f is not None:
            return f
        if self.lr is not None:
            v = self.lr.value[np.isfinite(self.lr.value)]
            if len(v) and np.max(v) > 0:
                return float(np.max(v))
        return name_lr(self.run)

    def lr_at(self, step: int) -> float | None:
        """The LR in force at ``step`` (the last logged value at or before it)."""
        if self.lr is None or not len(self.lr):
            return self.nominal_lr
        i = int(np.searchsorted(self.lr.step, step, side="right")) - 1
        i = max(0, min(i, len(self.lr) - 1))
        v = float(self.lr.value[i])
        return v if math.isfinite(v) and v > 0 else self.nominal_lr


def _curve(s: Series | None, frac: float) -> Curve | None:
    if s is None or len(s) == 0:
        return None
    return Curve(s, frac)


ADVERSARIAL_WORDS = frozenset({"gen", "generator", "g", "disc", "discriminator", "d", "critic", "adv", "adversarial"})
LOSS_WORDS_ANY = frozenset({"loss", "losses"})

#: When a run logs no loss by that name: error measures that are losses in all but name
#: (a regression's train_mse, a segmentation's dice_loss is already a loss), best first.
LOSS_LIKE = ("mse", "rmse", "mae", "huber", "nll", "bce", "xent", "crossentropy", "cross_entropy", "error")


def _loss_like(metrics: list[str], split: str) -> str | None:
    from ..metrics import SPLIT_WORDS, split_words

    best = None
    for m in metrics:
        words = split_words(m)
        splits = {SPLIT_WORDS[w] for w in words if w in SPLIT_WORDS}
        if (splits or {"train"}) != {split}:
            continue
        for rank, word in enumerate(LOSS_LIKE):
            if word in words and (best is None or (rank, m) < best):
                best = (rank, m)
    return best[1] if best else None


def build_context(runset: RunSet, run: str, config: Config) -> RunContext:
    info = runset.runs[run]
    metrics = info.metrics
    groups = {m.split("/", 1)[1]: runset.series(run, m) for m in metrics if m.startswith("lr/")}
    ratios = {m.split("/", 1)[1]: runset.series(run, m) for m in metrics if m.startswith("update_ratio/")}
    lr = runset.series(run, "lr")
    if lr is None and groups:
        lr = groups[sorted(groups)[0]]
    from .trace import epoch_view

    train_m, val_m = "train_loss", "val_loss"
    if "train_loss" not in metrics and "val_loss" not in metrics:
        train_m = _loss_like(metrics, "train") or train_m
        val_m = _loss_like(metrics, "val") or val_m
    tags = tuple(sorted(set(runset.tags(run).values())))
    return RunContext(
        epochs=epoch_view(runset, run, train_m, val_m),
        run=run,
        info=info,
        config=config,
        train=_curve(runset.series(run, train_m), config.smooth_frac),
        val=_curve(runset.series(run, val_m), config.smooth_frac),
        tags=tags,
        grad_norm=runset.series(run, "grad_norm"),
        train_acc=runset.series(run, "train_acc"),
        val_acc=runset.series(run, "val_acc"),
        lr=lr,
        group_lrs={k: v for k, v in groups.items() if v is not None},
        update_ratios={k: v for k, v in ratios.items() if v is not None},
    )
