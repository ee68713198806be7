"""Optimizers and LR schedules, built from plain names and numbers.

Schedules are torch's own (StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR,
ReduceLROnPlateau), optionally preceded by a linear warmup chained with
``SequentialLR(LinearLR, ...)``. Periods (``step_size``, ``milestones``,
``t_max``, ``warmup``) are counted in the unit the schedule is stepped in:
epochs for ``interval="epoch"``, optimizer steps for ``interval="step"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["OPTIMIZERS", "SCHEDULES", "ScheduleSpec", "build_optimizer", "build_scheduler", "parse_schedule"]

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine", "cosine_restarts", "onecycle", "plateau")


@dataclass
class ScheduleSpec:
    """A schedule by name plus its options (see :func:`parse_schedule`)."""

    name: str = "constant"
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.options:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))


def _number(text: str) -> Any:
    if "/" in text:  # milestones: 10/20/30
        return [_number(t) for t in text.split("/") if t]
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_schedule(text: str | None) -> ScheduleSpec:
    """``"step:step_size=5,gamma=0.5"`` -> ScheduleSpec("step", {...}).

    Milestones are separated by ``/``: ``"multistep:milestones=10/20,gamma=0.1"``.
    """
    if not text:
        return ScheduleSpec()
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    opts: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        k, eq, v = part.partition("=")
        if not eq:
            raise ValueError(f"schedule option {part!r} is not key=value")
        opts[k.strip()] = _number(v.strip())
    return ScheduleSpec(name, opts)


def build_optimizer(name: str, groups: list[dict], *, momentum: float = 0.0, nesterov: bool = False,
                    weight_decay: float = 0.0):
    """A torch optimizer over ``groups`` (each ``{"params": [...], "lr": ..., "name": ...}``)."""
    import torch

    name = name.lower()
    if name == "sgd":
        return torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=momentum, nesterov=nesterov,
                               weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(groups, lr=groups[0]["lr"], weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=groups[0]["lr"], weight_decay=weight_decay or 0.01)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=groups[0]["lr"], momentum=momentum, weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(groups, lr=groups[0]["lr"], weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def build_scheduler(optimizer, spec: ScheduleSpec, *, periods: int, steps_per_epoch: int, epochs: int,
                    interval: str = "epoch", warmup: int = 0):
    """The torch scheduler for ``spec``, or None for a constant LR.

    ``periods`` is how many times the scheduler will be stepped in the run
    (epochs, or total optimizer steps). ReduceLROnPlateau is returned bare
    (it needs the validation loss and cannot be chained after a warmup in torch).
    """
    from torch.optim import lr_scheduler as S

    o = dict(spec.options)
    name = spec.name
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer, mode="min", factor=o.get("factor", 0.1),
                                   patience=o.get("patience", 3), min_lr=o.get("min_lr", 0.0))
    main_periods = max(1, periods - warmup)
    if name == "constant":
        main = S.ConstantLR(optimizer, factor=1.0, total_iters=0) if warmup else None
    elif name == "step":
        main = S.StepLR(optimizer, step_size=o.get("step_size", 5), gamma=o.get("gamma", 0.5))
    elif name == "multistep":
        ms = o.get("milestones", [main_periods // 2, 3 * main_periods // 4])
        main = S.MultiStepLR(optimizer, milestones=ms if isinstance(ms, list) else [ms], gamma=o.get("gamma", 0.1))
    elif name == "exponential":
        main = S.ExponentialLR(optimizer, gamma=o.get("gamma", 0.9))
    elif name == "cosine":
        main = S.CosineAnnealingLR(optimizer, T_max=o.get("t_max", main_periods), eta_min=o.get("eta_min", 0.0))
    elif name == "cosine_restarts":
        main = S.CosineAnnealingWarmRestarts(optimizer, T_0=o.get("t_0", max(1, main_periods // 3)),
                                             T_mult=o.get("t_mult", 1), eta_min=o.get("eta_min", 0.0))
    elif name == "onecycle":
        total = steps_per_epoch * epochs if interval == "step" else epochs
        max_lr = [g["lr"] for g in optimizer.param_groups]
        main = S.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total, pct_start=o.get("pct_start", 0.3))
        if warmup:
            raise ValueError("onecycle has its own warmup; drop --warmup")
    else:  # pragma: no cover - parse_schedule rejects these
        raise ValueError(f"unknown schedule {name!r}")
    if not warmup:
        return main
    ramp = S.LinearLR(optimizer, start_factor=o.get("warmup_start", 0.01), end_factor=1.0, total_iters=warmup)
    return S.SequentialLR(optimizer, schedulers=[ramp, main], milestones=[warmup])
