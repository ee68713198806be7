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
