"""Training that restarted inside one log: separate fits, or one resumed run.

Home-made logs are appended to: Keras' ``CSVLogger(append=True)``, a
``logging`` file handler in append mode, ``nohup python train.py >> train.log``.
When the epoch (or step) counter goes back, the log holds a new session, and a
person reads it one of two ways:

* **separate fits**: the counter restarts from where the log first started (an
  epoch 1 after epoch 10 in a log that began at epoch 1). Each fit is its own
  run, named ``<log>#fit1``, ``#fit2``...
* **resumed**: the counter goes back, but not to the start (``Epoch 21/30``
  after ``Epoch 25/30``: the script reloaded its epoch-20 checkpoint). One run;
  the earlier session's points at or after the resume point were thrown away
  with the weights they came from, so they are superseded by the new session's,
  the rule TensorBoard applies to a restarted event file ("later data wins").

The rule only looks at the counter; each reader says in its warnings which it
found, where.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_SESSIONS", "Session", "describe_sessions", "find_sessions", "one_session", "superseded"]

#: More sessions than this in one log is no history of appended fits or resumes (a counter
#: that jumps about: a shuffled or damaged log): it is read as one run, every row kept.
MAX_SESSIONS = 100


@dataclass(frozen=True)
class Session:
    """Rows ``[start, stop)`` of a log written by one training session."""

    start: int
    stop: int
    fit: int  #: 1-based: sessions that resume a fit share its number
    first: float  #: the counter's first value in this session (NaN when unknown)
    resumed_after: float | None = None  #: the counter value before a resume (None: not a resume)


def find_sessions(counter: np.ndarray, boundaries: tuple[int, ...] = ()) -> list[Session]:
    """Split rows into sessions where ``counter`` (epoch or step per row, NaN where a row
    has none) goes back, or at an explicit boundary (a repeated header row).

    A session whose counter restarts at or below the log's first value starts a new
    fit; one that restarts higher resumes the fit before it. Linear in the rows (a
    counter that goes back on every other row makes half a million sessions of a
    million rows, and that must not cost more than the rows do).
    """
    counter = np.asarray(counter, dtype=np.float64)
    n = len(counter)
    if n == 0:
        return []
    bounds = np.array(sorted({int(b) for b in boundaries if 0 < int(b) < n}), dtype=np.int64)
    # Segments between explicit boundaries; within each, a row starts a session when its
    # counter is below the last finite counter before it in the same segment.
    seg = np.zeros(n, dtype=np.int64)
    seg[bounds] = 1
    seg = np.cumsum(seg)
    finite = np.isfinite(counter)
    last = np.maximum.accumulate(np.where(finite, np.arange(n), -1))
    prev = np.concatenate(([-1], last[:-1]))
    has_prev = prev >= 0
    has_prev[has_prev] &= seg[prev[has_prev]] == seg[has_prev]
    back = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(finite & has_prev)
    back[idx] = counter[idx] < counter[prev[idx]]
    starts = np.union1d(np.union1d([0], bounds), np.flatnonzero(back)).astype(np.int64).tolist()
    first_idx = np.flatnonzero(finite)
    first_value = float(counter[first_idx[0]]) if first_idx.size else np.nan
    # Per row: the first finite counter at or after it, and the last finite one at or before it.
    nxt = np.minimum.accumulate(np.where(finite, np.arange(n), n)[::-1])[::-1]
    sessions: list[Session] = []
    fit = 1
    for k, s in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n
        f = nxt[s]
        first = float(counter[f]) if f < stop else np.nan
        resumed_after = None
        if sessions:
            p = last[s - 1]
            last_before = float(counter[p]) if p >= sessions[-1].start else np.nan
            if np.isfinite(first) and np.isfinite(first_value) and first > first_value:
                resumed_after = last_before
            else:
                fit += 1
        sessions.append(Session(s, stop, fit, first, resumed_after))
    return sessions


def one_session(sessions: list[Session], n: int, what: str) -> tuple[list[Session], list[str]]:
    """``sessions`` as they are, or, beyond MAX_SESSIONS, one session of all ``n`` rows and the
    warning that says why (splitting would make thousands of runs, and cost their time)."""
    if len(sessions) <= MAX_SESSIONS:
        return sessions, []
    first = sessions[0].first
    why = (
        f"the {what} counter goes back {len(sessions) - 1} times: too often for appended fits or resumes "
        "(a shuffled or damaged log?); read as one run, every row kept"
    )
    return [Session(0, n, 1, first, None)], [why]


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def describe_sessions(sessions: list[Session], what: str = "epoch") -> dict[int, list[str]]:
    """One warning line per fit (keyed by fit number) that says what the log held."""
    fits = sorted({s.fit for s in sessions})
    notes: dict[int, list[str]] = {f: [] for f in fits}
    if len(fits) > 1:
        for f in fits:
            first = next(s for s in sessions if s.fit == f)
            notes[f].append(
                f"fit {f} of {len(fits)} appended to this file (the {what} counter went back to "
                f"{_fmt(first.first)} where each fit starts); each fit is read as its own run"
            )
    for s in sessions:
        if s.resumed_after is not None:
            notes[s.fit].append(
                f"resumed at {what} {_fmt(s.first)} after {what} {_fmt(s.resumed_after)}: one run; the earlier "
                f"session's points from {what} {_fmt(s.first)} on are superseded (later data wins)"
            )
    return notes


def superseded(counter: np.ndarray, sessions: list[Session]) -> np.ndarray:
    """Rows to drop: points of an earlier session of the same fit at or after the
    counter value where a later session resumed (rows without a counter are kept).
    One pass from the last session back, carrying the lowest resume point per fit."""
    counter = np.asarray(counter, dtype=np.float64)
    drop = np.zeros(len(counter), dtype=bool)
    lowest: dict[int, float] = {}
    for s in reversed(sessions):
        cut = lowest.get(s.fit)
        if cut is not None:
            seg = counter[s.start : s.stop]
            drop[s.start : s.stop] = np.isfinite(seg) & (seg >= cut)
        if s.resumed_after is not None and np.isfinite(s.first):
            lowest[s.fit] = s.first if cut is None else min(cut, s.first)
    return drop
