"""Numbers as every renderer can show them: one place for the range safety of outputs.

A log may hold ``1e308`` beside ``-1e308``, an epoch of ``2**63``, a step of
``-2**62``: valid floats and ints that break what draws or prints them
(matplotlib's tick arithmetic overflows, polars' Int64 columns refuse, JSON's
``allow_nan=False`` refuses Inf). Renderers pass values through these helpers
so such a value is drawn clipped and marked, or printed as what it is, and
never raises.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DRAW_FLOOR", "DRAW_LIMIT", "drawable"]

#: Largest magnitude drawn as it is: no loss, accuracy or LR comes near it, and
#: matplotlib's axis arithmetic (span, tick steps) stays far from overflow.
DRAW_LIMIT = 1e100
#: Smallest non-zero magnitude drawn as it is (a log axis from 1e-308 to 1e308 has 600 decades).
DRAW_FLOOR = 1e-100


def drawable(values) -> tuple[np.ndarray, np.ndarray]:
    """(values clipped into the drawable range, where a value was clipped). NaN/Inf are left
    as they are: renderers mark those on their own."""
    y = np.array(values, dtype=np.float64, copy=True)
    with np.errstate(invalid="ignore"):
        mag = np.abs(y)
        big = np.isfinite(y) & (mag > DRAW_LIMIT)
        tiny = np.isfinite(y) & (mag > 0) & (mag < DRAW_FLOOR)
    y[big] = np.sign(y[big]) * DRAW_LIMIT
    y[tiny] = np.sign(y[tiny]) * DRAW_FLOOR
    return y, big | tiny
