"""Numbers from logs, converted with range checks: one place for every reader.

Logs hold what their writers (or damage) put there: a step of ``1e19``, ``NaN``
or ``1e400``; a 5000-digit integer; an epoch of ``2**63``. Python converts some
of these silently and raises on others (``int(float("nan"))``,
``float(10**400)``, numpy's int64 overflow), and one such value used to cost
a whole run or a whole tree. Here:

* :func:`to_step`: a step or epoch counter as an int within :data:`MAX_STEP`
  (int64 with headroom for arithmetic), or None: the entry is skipped and
  counted by the reader, never raised.
* :func:`to_value`: a measured value as a float; NaN and +/-Inf are kept as
  what they are (a diverged loss logs them); a number beyond float range
  becomes +/-Inf, as ``float("1e400")`` does; anything that is no number is None.
* :func:`json_int`: JSON's ``parse_int``: integers of more than 18 digits are
  read as floats, so a 5000-digit integer neither trips Python's
  int-string limit nor makes an int64 column overflow.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MAX_STEP", "json_int", "to_step", "to_value"]

#: Largest step or epoch counter kept: 2**62, so that sums and differences of two
#: steps stay inside int64. No training run counts this far.
MAX_STEP = 1 << 62


def to_value(x: Any) -> float | None:
    """A logged value as a float (NaN/Inf kept; beyond range -> +/-Inf); None if it is no number."""
    if x is None or isinstance(x, bool):
        return None if x is None else float(x)
    if isinstance(x, float):
        return x
    if isinstance(x, int):
        try:
            return float(x)
        except OverflowError:
            return math.inf if x > 0 else -math.inf
    if isinstance(x, str):
        t = x.strip()
        if not t or len(t) > 400:
            return None
        try:
            return float(t)
        except ValueError:
            return None
    try:
        f = float(x)  # numpy scalars
    except (TypeError, ValueError, OverflowError):
        return None
    return f


def to_step(x: Any) -> int | None:
    """A step/epoch counter as an int in [-MAX_STEP, MAX_STEP]; None when it is missing,
    not a number, NaN/Inf or out of range. Floats are truncated toward zero (``3.0`` -> 3)."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x if -MAX_STEP <= x <= MAX_STEP else None
    if isinstance(x, str):
        t = x.strip()
        if not t or len(t) > 40:
            return None
        try:
            return to_step(int(t))
        except ValueError:
            pass
        try:
            x = float(t)
        except ValueError:
            return None
    try:
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(f) or abs(f) > MAX_STEP:
        return None
    return int(f)


def json_int(text: str) -> int | float:
    """``parse_int`` for ``json.loads``: long digit strings become floats (1e400 -> inf)."""
    if len(text.lstrip("-")) <= 18:
        return int(text)
    return float(text)
