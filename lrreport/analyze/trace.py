"""The epoch-by-epoch trace: what happened, one row per epoch, in words.

Columns: ``epoch``, ``step`` (the last step of the epoch), ``train_loss`` (the
mean of the epoch's training points), ``val_loss``, ``val_acc``, ``lr`` (in
force at the end of the epoch) and ``observation`` (what each LR change did, from
:mod:`.lr_story`: "LR 0.1 → 0.05. train loss falling 0.064/epoch before, 0.0072/epoch
after ..."; "loss spike", "val loss rising since epoch 12", "NaN loss").
Epochs come from the log's epoch column; without one, every validation point
closes an "epoch"; without validation, the run is cut into ``MAX_ROWS`` equal
segments. Long runs are folded to at most ``MAX_ROWS`` rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..runs import RunSet, Series
from .analysis import Finding, LRChange

__all__ = ["EpochView", "TraceBase", "build_trace", "epoch_view", "finish_trace", "trace_base"]

MAX_ROWS = 200
#: Without an epoch column, each evaluation closes an "epoch" - up to this many; a run that
#: evaluates more often (every step) is cut into MAX_ROWS equal segments instead.
MAX_EVALUATION_EPOCHS = 1000
SPIKE_JUMP = 2.0


def _boundaries(runset: RunSet, run: str, train_m: str = "train_loss", val_m: str = "val_loss") -> tuple[np.ndarray, np.ndarray, str]:
    """(epoch labels, last step of each epoch, how the epochs were found)."""
    steps_all = []
    epochs_all = []
    for m in (train_m, val_m, "lr"):
        s = runset.series(run, m)
        if s is not None and len(s):
            steps_all.append(s.step)
            epochs_all.append(s.epoch)
    if not steps_all:
        return np.zeros(0), np.zeros(0, dtype=np.int64), "none"
    st = np.concatenate(steps_all)
    ep = np.concatenate(epochs_all)
    has = np.isfinite(ep)
    if has.sum() >= 2:
        e = np.floor(ep[has] + 1e-9)
        s = st[has]
        labels, idx = np.unique(e, return_inverse=True)
        # Each epoch's last step, in one sort (a loop over epochs is quadratic for 10k epochs).
        order = np.lexsort((s, idx))
        last = np.flatnonzero(np.diff(idx[order], append=len(labels)))
        ends = s[order][last].astype(np.int64)
        if labels.size >= 2:
            return labels, ends, "epoch"
    val = runset.series(run, val_m)
    many = False
    if val is not None and len(val) >= 2:
        ends = np.unique(val.step)
        if len(ends) <= MAX_EVALUATION_EPOCHS:
            return np.arange(len(ends), dtype=float), ends, "evaluation"
        many = True  # validation at (nearly) every step: evaluations are no epochs
    lo, hi = int(st.min()), int(st.max())
    k = min(MAX_ROWS if many else 20, max(1, hi - lo))
    ends = np.unique(np.linspace(lo, hi, k + 1)[1:].round().astype(np.int64))
    return np.arange(len(ends), dtype=float), ends, "segment"


def _per_epoch(series: Series | None, ends: np.ndarray, how: str) -> np.ndarray:
    """Per epoch: the mean of the series' points in it ("mean"; a NaN anywhere in the
    epoch makes it NaN, as it would in the training loop) or its last point ("last")."""
    out = np.full(len(ends), np.nan)
    if series is None or not len(series):
        return out
    idx = np.searchsorted(ends, series.step, side="left")
    inside = idx < len(ends)
    idx, vals = idx[inside], series.value[inside]
    if not len(idx):
        return out
    if how == "mean":
        with np.errstate(invalid="ignore", over="ignore"):
            sums = np.bincount(idx, weights=vals, minlength=len(ends))
        counts = np.bincount(idx, minlength=len(ends))
        has = counts > 0
        out[has] = sums[has] / counts[has]
    else:
        # The series is in step order, so each epoch's last point is its last occurrence.
        rev_first = np.unique(idx[::-1], return_index=True)
        groups, pos = rev_first
        out[groups] = vals[len(vals) - 1 - pos]
    return out


@dataclass(frozen=True)
class EpochView:
    """A run seen one epoch at a time: the mean training loss of each epoch and the
    validation loss at its end. Averaging within an epoch removes minibatch noise, so
    step-level and epoch-level logs are judged on the same footing."""

    step: np.ndarray  #: last step of each epoch
    train: np.ndarray  #: mean training loss of the epoch (NaN if absent or non-finite)
    val: np.ndarray  #: validation loss at the epoch's end (NaN if absent)
    how: str  #: how epochs were found: epoch | evaluation | segment | none
    labels: np.ndarray | None = None  #: each epoch's label, as the trace shows it

    def first_epoch_ratio(self) -> tuple[float, float, str] | None:
        """(mean training loss of the first epoch, the loss at its end, what that end is):
        the validation loss after the first epoch, else the second epoch's mean. Their ratio
        says how much happened inside the first epoch (a blow-up, or fast learning)."""
        if len(self.train) < 2 or not np.isfinite(self.train[0]):
            return None
        t0 = float(self.train[0])
        has_val = bool(np.isfinite(self.val[0]))
        ref = float(self.val[0]) if has_val else float(self.train[1])
        if not np.isfinite(ref) or ref <= 0 or t0 <= 0:
            return None
        return t0, ref, "val_loss" if has_val else "second epoch mean"


def epoch_view(runset: RunSet, run: str, train_m: str = "train_loss", val_m: str = "val_loss") -> EpochView:
    labels, ends, how = _boundaries(runset, run, train_m, val_m)
    return EpochView(
        step=ends,
        train=_per_epoch(runset.series(run, train_m), ends, "mean"),
        val=_per_epoch(runset.series(run, val_m), ends, "last"),
        how=how,
        labels=labels,
    )


@dataclass
class TraceBase:
    """The trace of one run before its findings are known: per epoch the numbers and the
    notes the run's own curves give (LR changes, NaN/Inf, spikes). Small (at most
    ``MAX_ROWS`` rows), so a run analysed in a worker sends this rather than its points."""

    labels: np.ndarray
    ends: np.ndarray
    how: str
    train: np.ndarray
    val: np.ndarray
    acc: np.ndarray
    lrs: np.ndarray
    notes: list[list[str]]


def trace_base(runset: RunSet, run: str, changes: list[LRChange]) -> TraceBase:
    labels, ends, how = _boundaries(runset, run)
    if len(ends) > MAX_ROWS:
        keep = np.unique(np.linspace(0, len(ends) - 1, MAX_ROWS).round().astype(int))
        labels, ends = labels[keep], ends[keep]
    lr = runset.series(run, "lr")
    if lr is None:
        groups = sorted(m for m in runset.runs[run].metrics if m.startswith("lr/"))
        lr = runset.series(run, groups[0]) if groups else None
    train_s = runset.series(run, "train_loss")
    train = _per_epoch(train_s, ends, "mean")
    val = _per_epoch(runset.series(run, "val_loss"), ends, "last")
    acc = _per_epoch(runset.series(run, "val_acc"), ends, "last")
    lrs = np.full(len(ends), np.nan)
    if lr is not None and len(lr):
        i = np.clip(np.searchsorted(lr.step, ends, side="right") - 1, 0, len(lr) - 1)
        lrs = lr.value[i].astype(float)
        lrs[ends < lr.step[0]] = np.nan

    notes: list[list[str]] = [[] for _ in ends]
    # Scheduler acts: an LR change between the previous epoch's end and this one's, with
    # what it did to the losses (lr_story).
    for c in changes:
        i = int(np.searchsorted(ends, c.step, side="left"))
        if i < len(ends):
            notes[i].append(c.story or f"LR {'reduced' if c.after < c.before else 'raised'} to {c.after:.3g}")
    bad = _nonfinite_per_epoch(train_s, ends)
    for i in range(len(ends)):
        if bad[i]:
            notes[i].append("NaN/Inf loss")
        elif i and math.isfinite(train[i]) and math.isfinite(train[i - 1]) and train[i - 1] > 0 and float(train[i]) > SPIKE_JUMP * float(train[i - 1]):
            notes[i].append("loss spike")
    return TraceBase(labels, ends, how, train, val, acc, lrs, notes)


def finish_trace(base: TraceBase, findings: list[Finding]) -> pl.DataFrame:
    """The trace table: the base's numbers and notes, and where each finding applies."""
    labels, ends, how = base.labels, base.ends, base.how
    notes = [list(n) for n in base.notes]
    for f in findings:
        if f.start_step is None:
            continue
        i = int(np.searchsorted(ends, f.start_step, side="left"))
        if i >= len(ends):
            continue
        label = _label(labels[i], how)
        if f.code == "overfitting" and i + 1 < len(ends):
            notes[i + 1].append(f"val loss rising since {label}")
            notes[i].append("best val loss (stop here)")
        elif f.code == "divergence":
            notes[i].append("divergence starts")
        elif f.code == "lr_too_high":
            notes[i].append("unstable from here (LR too high)")
        elif f.code == "warmup_needed":
            notes[i].append("early instability (no warmup)")
        elif f.code == "plateau":
            notes[i].append("plateau starts")
        elif f.code == "schedule_too_aggressive":
            notes[i].append("LR cut while loss still falling fast")
    return pl.DataFrame(
        {
            "epoch": pl.Series([_epoch_value(v, how) for v in labels], dtype=pl.Int64),
            "step": pl.Series(ends, dtype=pl.Int64),
            "train_loss": pl.Series(base.train, dtype=pl.Float64),
            "val_loss": pl.Series(base.val, dtype=pl.Float64),
            "val_acc": pl.Series(base.acc, dtype=pl.Float64),
            "lr": pl.Series(base.lrs, dtype=pl.Float64),
            "observation": pl.Series(["; ".join(dict.fromkeys(n)) for n in notes], dtype=pl.String),
        }
    )


def build_trace(runset: RunSet, run: str, findings: list[Finding], changes: list[LRChange]) -> pl.DataFrame:
    return finish_trace(trace_base(runset, run, changes), findings)


def _nonfinite_per_epoch(s: Series | None, ends: np.ndarray) -> np.ndarray:
    """Per epoch: did the training loss hold a NaN/Inf (linear in the points)."""
    out = np.zeros(len(ends), dtype=bool)
    if s is None or not len(s) or not len(ends):
        return out
    bad = ~np.isfinite(s.value)
    if not bad.any():
        return out
    idx = np.searchsorted(ends, s.step[bad], side="left")
    idx = idx[idx < len(ends)]
    out[np.unique(idx)] = True
    return out


def _epoch_value(v: float, how: str) -> int | None:
    if not math.isfinite(v):
        return -1
    return int(v) if -(2**63) <= v < 2**63 else None  # an epoch beyond int64 (damage) has no row number


def _label(v: float, how: str) -> str:
    return f"epoch {int(v)}" if how in ("epoch", "evaluation") else f"segment {int(v)}"
