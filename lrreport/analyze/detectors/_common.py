"""Small shared pieces of the detectors: number formatting and LR suggestions."""

from __future__ import annotations

import math

import numpy as np


def fmt(x: float | None) -> str:
    """A number as a person writes it on a whiteboard: 3 significant digits."""
    if x is None:
        return "?"
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    if isinstance(x, float) and math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return f"{x:.3g}"


def round_lr(lr: float) -> float:
    """Round a suggested LR to a value people type: 1, 2, 3 or 5 times a power of ten."""
    if not lr or not math.isfinite(lr) or lr <= 0:
        return lr
    e = math.floor(math.log10(lr))
    m = lr / 10**e
    best = min((1, 2, 3, 5, 10), key=lambda c: abs(math.log(m / c)))
    return float(f"{best * 10**e:.3g}")


def step_index(steps: np.ndarray, step: int) -> int:
    return int(np.clip(np.searchsorted(steps, step), 0, max(0, len(steps) - 1)))


#: LRs that usually work, by optimizer: the frameworks' defaults (torch/Keras: Adam,
#: AdamW, RMSprop 1e-3; Adagrad 1e-2) and, for SGD, the middle of the 0.01-0.1 range
#: the classic recipes use. A run far outside them that fails the same way is told to
#: move there rather than by one factor of 3-10 that may still fall short.
TYPICAL_LR = {
    "adam": 1e-3,
    "adamw": 1e-3,
    "nadam": 1e-3,
    "adamax": 2e-3,
    "rmsprop": 1e-3,
    "adagrad": 1e-2,
    "adadelta": 1.0,
    "sgd": 3e-2,
    "lamb": 1e-3,
    "lion": 1e-4,
}
OPTIMIZER_KEYS = ("optimizer", "opt_name", "optim", "optimizer_name", "optimizer.name", "optimizer_type")


def typical_lr(hparams: dict) -> float | None:
    """The usual LR for the run's optimizer, when its hyperparameters name one."""
    lower = {k.lower(): v for k, v in hparams.items()}
    for key in OPTIMIZER_KEYS:
        v = lower.get(key)
        if isinstance(v, str):
            name = v.strip().lower().replace("torch.optim.", "").split(".")[-1]
            if name in TYPICAL_LR:
                return TYPICAL_LR[name]
    return None


def suggest_lower(lr: float | None, factor: float, hparams: dict) -> float | None:
    """``lr / factor``, or the optimizer's usual LR when that is lower still and lr is far above it."""
    if not lr:
        return None
    s = lr / factor
    t = typical_lr(hparams)
    if t is not None and lr > 10 * t:
        s = min(s, t)
    return round_lr(s)


def suggest_higher(lr: float | None, factor: float, hparams: dict) -> float | None:
    """``lr * factor``, or the optimizer's usual LR when that is higher still and lr is far below it."""
    if not lr:
        return None
    s = lr * factor
    t = typical_lr(hparams)
    if t is not None and lr < t / 10:
        s = max(s, t)
    return round_lr(s)
