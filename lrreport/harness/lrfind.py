"""The LR range test: sweep the LR up exponentially in one short run, read the loss curve.

Leslie Smith's range test as fastai's ``lr_find`` runs it: the LR grows from
``start_lr`` to ``end_lr`` over ``num_steps`` optimizer steps; the loss is
smoothed with a bias-corrected exponential moving average (beta 0.98) and the
test stops once the smoothed loss exceeds ``stop_factor`` (4) times its
minimum. A suggestion is then read off the smoothed (lr, loss) curve, with the
first 10% and last 5 points left out as fastai does (start-up noise and the
blow-up itself). The rules, after fastai's ``SuggestionMethod``:

* ``valley``: the longest stretch over which the loss keeps going down (the
  longest decreasing subsequence), and the LR about half-way down it;
* ``minimum``: the LR at the lowest smoothed loss, divided by 10;
* ``steepest``: the LR where the smoothed loss falls fastest against log(LR).

``scripts/compare_lrfind_rules.py`` trains at each rule's suggestion on
several data sets and seeds; :data:`DEFAULT_RULE` (minimum/10) is the one
that did best there (see its comment). The math here is pure numpy, so the analyzer can
apply it to the ``lr`` and ``train_loss`` series of logs without torch;
:func:`run_lr_find` imports torch inside.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_RULE",
    "RULES",
    "LRFindOutcome",
    "LRSuggestion",
    "exponential_lrs",
    "run_lr_find",
    "smooth_losses",
    "stop_index",
    "suggest_lr",
    "suggest_all",
]

RULES = ("valley", "minimum", "steepest")
#: Chosen by scripts/compare_lrfind_rules.py (6 set-ups x 3 seeds, training at
#: each suggestion): minimum/10 ended within 1.25x of the best grid LR's val
#: loss in 89% of runs (valley 33%, steepest 61%), failed in 6% (valley 56%,
#: steepest 33%), geometric-mean loss ratio 1.20 (valley 4.2, steepest 2.3),
#: and moved about as little between seeds as valley (std of log10 LR 0.18 vs
#: 0.17; steepest 0.47). Valley reads the EMA's lag as a long descent and
#: lands 1-2 decades too low on these short tests.
DEFAULT_RULE = "minimum"
#: EMA factor of the loss smoothing (fastai and Smith use 0.98).
SMOOTH_BETA = 0.98
#: The test stops once the smoothed loss exceeds this multiple of its minimum (fastai: 4).
STOP_FACTOR = 4.0
#: Leading fraction of points left out when suggesting (start-up noise; fastai: num_it // 10).
SKIP_START_FRACTION = 0.1
#: Trailing points left out when suggesting (the blow-up; fastai: 5).
SKIP_END = 5


@dataclass
class LRSuggestion:
    """One suggested LR and how it was found."""

    lr: float
    rule: str
    index: int  #: index into the (lrs, losses) arrays given
    explanation: str


def exponential_lrs(start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100) -> np.ndarray:
    """The LR of each step of the range test: a geometric sequence from start to end."""
    return start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / max(1, num_steps - 1))


def smooth_losses(losses: np.ndarray, beta: float = SMOOTH_BETA) -> np.ndarray:
    """Bias-corrected exponential moving average; NaN/Inf stay NaN/Inf from there on."""
    losses = np.asarray(losses, dtype=float)
    out = np.empty_like(losses)
    avg = 0.0
    for i, x in enumerate(losses):
        avg = beta * avg + (1 - beta) * x
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def stop_index(smoothed: np.ndarray, stop_factor: float = STOP_FACTOR) -> int | None:
    """The first index where the smoothed loss exceeds ``stop_factor`` x its running
    minimum (or is not finite); None when it never does."""
    best = math.inf
    for i, x in enumerate(np.asarray(smoothed, dtype=float)):
        if not math.isfinite(x) or (i > 0 and x > stop_factor * best):
            return i
        best = min(best, x)
    return None


def _window(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[int, int]:
    """The [lo, hi) slice the rules look at: finite, start-up and blow-up trimmed."""
    n = len(lrs)
    finite = np.isfinite(smoothed) & np.isfinite(lrs) & (lrs > 0)
    hi = n
    bad = np.flatnonzero(~finite)
    if len(bad):
        hi = int(bad[0])
    lo = int(n * SKIP_START_FRACTION)
    if hi - lo > SKIP_END + 3:
        hi -= SKIP_END
    if hi - lo < 3:
        lo, hi = 0, max(hi, min(n, 3))
    return lo, hi


def _longest_descent(y: np.ndarray) -> tuple[int, int]:
    """Start and end index of the longest strictly decreasing subsequence of ``y``."""
    n = len(y)
    length = np.ones(n, dtype=int)
    first = np.arange(n)
    for i in range(1, n):
        earlier = np.flatnonzero(y[:i] > y[i])
        if len(earlier):
            j = earlier[np.argmax(length[earlier])]
            if length[j] + 1 > length[i]:
                length[i] = length[j] + 1
                first[i] = first[j]
    end = int(np.argmax(length))
    return int(first[end]), end


def suggest_lr(lrs, losses, rule: str = DEFAULT_RULE, *, smoothed: bool = False) -> LRSuggestion:
    """Suggest an LR from a range test's (lrs, losses); ``smoothed=True`` when the
    losses are already smoothed (else they are smoothed here first)."""
    lrs = np.asarray(lrs, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if lrs.shape != losses.shape or len(lrs) < 3:
        raise ValueError("an LR range test needs at least 3 (lr, loss) points of equal length")
    y = losses if smoothed else smooth_losses(losses)
    lo, hi = _window(lrs, y)
    x, yy = lrs[lo:hi], y[lo:hi]
    if rule == "valley":
        a, b = _longest_descent(yy)
        i = a + (b - a) // 2
        why = (f"valley: the loss falls steadily from lr {x[a]:.1e} to {x[b]:.1e} "
               f"(longest descent, {b - a + 1} points); picked the point half-way down")
    elif rule == "minimum":
        i = int(np.nanargmin(yy))
        sug = LRSuggestion(float(x[i]) / 10, rule, lo + i,
                           f"minimum/10: the smoothed loss is lowest ({yy[i]:.3g}) at lr {x[i]:.1e}; one tenth of it")
        return sug
    elif rule == "steepest":
        g = np.gradient(yy, np.log(x))
        i = int(np.nanargmin(g))
        why = f"steepest: the smoothed loss falls fastest against log(lr) at lr {x[i]:.1e} (slope {g[i]:.3g})"
    else:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    return LRSuggestion(float(x[i]), rule, lo + int(i), why)


def suggest_all(lrs, losses, *, smoothed: bool = False) -> dict[str, LRSuggestion]:
    """Every rule's suggestion."""
    return {r: suggest_lr(lrs, losses, r, smoothed=smoothed) for r in RULES}


@dataclass
class LRFindOutcome:
    """What a range test run produced."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: LRSuggestion
    suggestions: dict[str, LRSuggestion]
    stopped_early: bool  #: the smoothed loss passed stop_factor x its minimum
    run_dir: Path | None
    files: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        s = self.suggestion
        return f"suggested lr: {s.lr:.1e}\n  how: {s.explanation}"


def run_lr_find(config=None, logdir: str | Path | None = None, *, start_lr: float = 1e-7, end_lr: float = 10.0,
                num_steps: int = 100, stop_factor: float = STOP_FACTOR, rule: str = DEFAULT_RULE,
                **overrides: Any) -> LRFindOutcome:
    """Run the range test on ``config``'s data and model; log it like any run.

    The config's schedule and LR are ignored (the test sets the LR itself);
    its formats, data set, model, optimizer and seed are used. The logs carry
    ``lr`` and the training loss per step, and hparams with ``lr_find: true``.
    """
    import torch

    from .record import EpochRow, RunRecord, StepRow
    from .train import TrainConfig, _Clock, _Prepared
    from .writers import write_formats

    base = replace(config or TrainConfig(), **overrides)
    cfg = replace(base, lr=start_lr, schedule="constant", warmup=0, group_lr={},
                  name=base.name or "lr_find", log_every=1)
    p = _Prepared(cfg)
    lrs_plan = exponential_lrs(start_lr, end_lr, num_steps)
    clock = _Clock(cfg.fixed_clock)
    hp = {**cfg.hparams(), "lr_find": True, "schedule": "exponential_range", "start_lr": start_lr,
          "end_lr": end_lr, "num_steps": num_steps, "stop_factor": stop_factor,
          "device": p.device.split(":")[0], "run_name": cfg.name}
    record = RunRecord(hparams=hp, groups=p.group_names, optimizer=type(p.optimizer).__name__,
                       task=p.ds.task, steps_per_epoch=p.steps_per_epoch, batch_size=cfg.batch_size,
                       n_train=len(p.x_train), n_val=len(p.x_val), start_time=clock.now(0), log_every=1)
    losses: list[float] = []
    avg, best = 0.0, math.inf
    stopped = False
    step = 0
    epoch = 0
    while step < num_steps and not stopped:
        ep_losses = []
        for xb, yb in p.batches(cfg.batch_size):
            lr = float(lrs_plan[step])
            for g in p.optimizer.param_groups:
                g["lr"] = lr
            out = p.model(xb)
            loss = p.loss_fn(out, yb)
            p.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(p.model.parameters(), float("inf"))
            p.optimizer.step()
            value = loss.item()
            losses.append(value)
            ep_losses.append(value)
            record.steps.append(StepRow(step, (step + 1) / p.steps_per_epoch, clock.now(step + 1),
                                        {"loss": value, "lr": lr, "grad_norm": gnorm.item()}))
            avg = SMOOTH_BETA * avg + (1 - SMOOTH_BETA) * value
            sm = avg / (1 - SMOOTH_BETA ** (step + 1))
            step += 1
            if not math.isfinite(sm) or (step > 1 and sm > stop_factor * best):
                stopped = True
                break
            best = min(best, sm)
            if step >= num_steps:
                break
        record.epochs.append(EpochRow(epoch, step - 1, clock.now(step),
                                      {"loss": float(np.mean(ep_losses)), "lr": record.steps[-1].values["lr"]}))
        epoch += 1
    lrs = np.array([r.values["lr"] for r in record.steps])
    loss_arr = np.array(losses)
    smoothed = smooth_losses(loss_arr)
    suggestions = suggest_all(lrs, loss_arr)
    chosen = suggestions[rule]
    record.hparams.update({"suggested_lr": chosen.lr, "suggestion_rule": rule})
    record.end_time = clock.now(step) if cfg.fixed_clock else time.time()
    run_dir = None
    files: list[Path] = []
    if logdir is not None:
        run_dir = Path(logdir) / cfg.name if cfg.name != "." else Path(logdir)
        files = write_formats(record, run_dir, cfg.formats)
    return LRFindOutcome(lrs, loss_arr, smoothed, chosen, suggestions, stopped, run_dir, files)
