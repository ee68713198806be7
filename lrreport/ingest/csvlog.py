"""Wide CSV training logs: one row per logged moment, one column per metric.

Reads the generic layout (a ``step``-like or ``epoch`` column plus numeric
metric columns) and is the shared core of the Keras CSVLogger
(:mod:`lrreport.ingest.keras`) and Lightning CSVLogger
(:mod:`lrreport.ingest.lightning`) readers. Sparse rows are normal (Lightning
writes step rows and epoch rows with the other cells empty): an empty or
``NA`` cell is "not logged" and yields no point, while a literal ``nan`` or
``inf`` is a logged NaN/Inf and is kept. CRLF line ends (Python's csv.writer
default, so every Keras CSVLogger file) are handled by polars' reader.

Home-made history CSVs (seen from hand-written ``csv.writer`` loops, pandas 1.x-3.x
``to_csv`` and Keras 2/3 ``CSVLogger(append=True)``) add these layouts:

* metric columns and no epoch or step column (``pd.DataFrame(history.history)
  .to_csv(index=False)``, first column ``accuracy`` or ``loss``): row k is epoch k;
* several fits appended to one file, the epoch restarting, with or without the
  header repeated: one run per fit, or one resumed run
  (:mod:`lrreport.ingest.restarts` decides and the run's warnings say which);
* several models in one file told apart by a text column (``model``:
  ``QTL_Baseline`` rows then ``QAH_Proposed`` rows): one run per value, named
  ``<file>#<value>``;
* a long layout whose text column says the split (``phase`` = ``train`` /
  ``val``): one run, the split prefixed to each metric.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import polars as pl

from ..metrics import SPLIT_WORDS, match_tag
from .base import LogReadError, RunData, empty_frame
from .restarts import describe_sessions, find_sessions, superseded

__all__ = [
    "STEP_COLUMNS",
    "EPOCH_COLUMNS",
    "looks_like_metric_header",
    "read_csv_header",
    "read_table_runs",
    "read_wide_csv",
    "wide_to_long",
]

STEP_COLUMNS = ("step", "global_step", "steps", "iteration", "iter", "it", "batch", "_step", "trainer/global_step")
EPOCH_COLUMNS = ("epoch", "epochs", "_epoch")
TIME_COLUMNS = ("wall_time", "walltime", "timestamp", "time", "_timestamp")
# Cells that mean "nothing logged here" rather than a value.
NULL_CELLS = ["", "NA", "N/A", "na", "null", "None", "none", "-"]
MAX_CSV_BYTES = 2 << 30  # a 2 GiB "log" is a data file, not a training log
#: Numeric columns that, by their name, tell runs apart (k-fold CV, seeds) rather than measure one.
GROUP_COLUMNS = ("model", "model_name", "run", "run_name", "run_id", "experiment", "exp", "fold", "trial", "seed", "arch")
#: More distinct values than this in a text column means it is not a run label (file names, times).
MAX_GROUPS = 50


_HEADER_CELL = re.compile(r"^[A-Za-z_][\w ./@()\[\]-]*$|^$")


def looks_like_metric_header(cols: list[str]) -> bool:
    """A header that claims to be a training history: a loss or accuracy column by name,
    and every cell a name (``iter 0: loss 3.0, time 12ms`` is a console line, not a header)."""
    if not all(_HEADER_CELL.match(c) for c in cols):
        return False
    for c in cols:
        m = match_tag(c)
        if m.known and (m.metric.endswith("_loss") or m.metric.endswith("_acc")):
            return True
    return False


def read_csv_header(path: Path) -> list[str] | None:
    """The header cells of a CSV-like file, or None if it does not look like one."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return None
    if not head or b"\x00" in head:
        return None
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "," not in text:
        return None
    return [c.strip().strip('"') for c in text.split(",")]


def _find(cols: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in cols}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def read_wide_csv(path: Path) -> pl.DataFrame:
    """Read a CSV with every cell as text (casting comes later, per column)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LogReadError(path, f"cannot read: {exc.strerror or exc}") from None
    if size > MAX_CSV_BYTES:
        raise LogReadError(path, f"{size / 2**30:.1f} GiB is too large for a CSV training log")
    try:
        # polars warns on stderr about ragged rows it then reads anyway; the rows it
        # could not use simply yield no points, so keep the terminal clean.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = pl.read_csv(
                path,
                infer_schema=False,  # every column as text: we decide NaN vs empty ourselves
                null_values=NULL_CELLS,
                truncate_ragged_lines=True,
                ignore_errors=True,
                encoding="utf8-lossy",
            )
    except Exception as exc:  # polars raises several types for broken files
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LogReadError(path, f"not a readable CSV: {msg}") from None
    # Ultralytics YOLOv5's results.csv pads its header ("      epoch,  train/box_loss").
    stripped = [c.strip() for c in df.columns]
    if stripped != df.columns and len(set(stripped)) == len(stripped):
        df = df.rename(dict(zip(df.columns, stripped)))
    return df


def _to_float(s: pl.Series) -> pl.Series:
    return s.str.strip_chars().cast(pl.Float64, strict=False)


def wide_to_long(
    path: Path,
    df: pl.DataFrame,
    *,
    step_from_epoch: bool = False,
    skip: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, list[str]]:
    """Turn a wide log table into the reader frame; returns (frame, warnings).

    The step comes from a step-like column, else from the epoch column, else
    from the row number. Columns that hold no number at all are not metrics and
    are left out (and named in a warning).
    """
    warnings: list[str] = []
    cols = list(df.columns)
    step_col = None if step_from_epoch else _find(cols, STEP_COLUMNS)
    epoch_col = _find(cols, EPOCH_COLUMNS)
    if step_col is None and epoch_col is None and cols and cols[0] in ("", "Unnamed: 0"):
        epoch_col = cols[0]  # a pandas index written by DataFrame.to_csv(): the epoch
    time_col = _find(cols, TIME_COLUMNS)
    n = df.height
    epoch = _to_float(df[epoch_col]) if epoch_col is not None else pl.Series("epoch", [None] * n, dtype=pl.Float64)
    wall = _to_float(df[time_col]) if time_col is not None else pl.Series("wall_time", [None] * n, dtype=pl.Float64)
    if step_col is not None:
        step_f = _to_float(df[step_col])
    elif epoch_col is not None:
        step_f = epoch
    else:
        # No epoch or step column: a history dumped through pandas, one row per epoch,
        # counted from 0 as Keras counts epochs (History, CSVLogger).
        step_f = pl.Series("step", np.arange(n, dtype=np.float64))
        epoch = step_f.alias("epoch")
        if n:
            warnings.append(f"{path.name}: no epoch or step column; row k is read as epoch k (from 0)")
    # Rows whose step is missing (Lightning's lr rows have one; hand-edited files may not)
    # inherit the previous row's step so their points are not lost.
    step_f = step_f.forward_fill().fill_null(0.0)
    step_arr = step_f.to_numpy()
    bad = ~np.isfinite(step_arr)
    if bad.any():
        step_arr = np.where(bad, 0.0, step_arr)
    step = pl.Series("step", np.clip(step_arr, -(2**62), 2**62).astype(np.int64))
    if time_col is not None and wall.drop_nulls().len() and float(wall.drop_nulls().max() or 0) > 1e11:
        wall = wall / 1000.0  # milliseconds
    frames = []
    non_numeric = []
    for c in cols:
        if c in (step_col, epoch_col, time_col) or c in skip or c == "":
            continue
        raw = df[c]
        vals = _to_float(raw)
        present = raw.is_not_null()
        numeric = vals.is_not_null()
        if not numeric.any():
            if present.any():
                non_numeric.append(c)
            continue
        # Text in a numeric column (a stray header row after a resume) is not a point.
        keep = numeric
        frames.append(
            pl.DataFrame(
                {
                    "tag": pl.Series([c] * n, dtype=pl.String),
                    "step": step,
                    "epoch": epoch,
                    "wall_time": wall,
                    "value": vals,
                }
            ).filter(keep)
        )
    if non_numeric:
        warnings.append(f"{path.name}: non-numeric columns left out: {', '.join(non_numeric[:5])}")
    if not frames:
        return empty_frame(), warnings
    return pl.concat(frames, how="vertical"), warnings


def read_generic_csv(path: Path) -> list[RunData]:
    """A CSV with a step or epoch column (or none: row = epoch) and numeric metric columns."""
    df = read_wide_csv(path)
    runs = [r for r in read_table_runs(path, df, "csv") if r.frame.height]
    if not runs:
        raise LogReadError(path, "no numeric metric columns with values")
    return runs


# --- one file, several runs -------------------------------------------------------
def _is_text_column(raw: pl.Series) -> bool:
    present = raw.drop_nulls()
    if present.len() == 0:
        return False
    return bool(present.str.strip_chars().cast(pl.Float64, strict=False).is_null().all())


def _contiguous(values: list[str | None]) -> bool:
    """Each value's rows form one block (appended runs), ignoring empty cells."""
    seen: set[str] = set()
    prev = None
    for v in values:
        if v is None:
            continue
        if v != prev:
            if v in seen:
                return False
            seen.add(v)
            prev = v
    return True


def _split_column(df: pl.DataFrame, skip: set[str]) -> str | None:
    for c in df.columns:
        if c in skip or not _is_text_column(df[c]):
            continue
        vals = {v.strip().lower() for v in df[c].drop_nulls().to_list()}
        if len(vals) >= 2 and vals <= set(SPLIT_WORDS):
            return c
    return None


def _group_column(df: pl.DataFrame, skip: set[str]) -> str | None:
    for c in df.columns:
        if c in skip:
            continue
        raw = df[c]
        vals = [None if v is None else v.strip() for v in raw.to_list()]
        distinct = {v for v in vals if v}
        if not 2 <= len(distinct) <= MAX_GROUPS:
            continue
        text = _is_text_column(raw)
        named = c.strip().lower() in GROUP_COLUMNS
        if not (text or named):
            continue
        counts = [sum(1 for v in vals if v == d) for d in distinct]
        if min(counts) < 2:
            continue
        # A text column whose values come in blocks is runs appended one after the
        # other; a column named like a run label (model, fold, seed) is one in any order.
        if named or _contiguous(vals):
            return c
    return None


def _pivot_split(df: pl.DataFrame, col: str, keep: set[str]) -> pl.DataFrame:
    """epoch,phase,loss rows (phase = train/val) -> epoch,train_loss,val_loss columns."""
    values = sorted({v.strip() for v in df[col].drop_nulls().to_list()})
    key = df[col].str.strip_chars()
    cols: list[pl.Expr] = [pl.col(c) for c in df.columns if c in keep]
    for c in df.columns:
        if c in keep or c == col:
            continue
        for v in values:
            cols.append(pl.when(key == v).then(pl.col(c)).otherwise(None).alias(f"{v}_{c}"))
    return df.select(cols)


def _safe_suffix(value: str) -> str:
    text = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in value.strip())
    return text[:60] or "_"


def read_table_runs(path: Path, df: pl.DataFrame, source: str, *, step_from_epoch: bool = False) -> list[RunData]:
    """Every run in one wide table: one per group-column value, one per appended fit."""
    cols = list(df.columns)
    step_col = None if step_from_epoch else _find(cols, STEP_COLUMNS)
    epoch_col = _find(cols, EPOCH_COLUMNS)
    time_col = _find(cols, TIME_COLUMNS)
    axis_cols = {c for c in (step_col, epoch_col, time_col) if c is not None}
    notes: list[str] = []

    # A header written again (files concatenated, a CSV writer re-opened in "w" then "a"
    # mode) marks where a session starts; the row itself holds no values.
    first = cols[0]
    header_rows = (df[first].str.strip_chars() == first.strip()).fill_null(False)
    boundaries: list[int] = []
    if header_rows.any():
        idx = np.flatnonzero(header_rows.to_numpy())
        boundaries = [int(i) - k for k, i in enumerate(idx)]
        df = df.filter(~header_rows)
        notes.append(f"{path.name}: the header appears {len(idx) + 1} times")

    split_col = _split_column(df, axis_cols)
    if split_col is not None:
        df = _pivot_split(df, split_col, axis_cols | {c for c in cols if c.lower() in GROUP_COLUMNS})
        notes.append(f"{path.name}: column '{split_col}' says the split; its values prefix the metric names")

    group_col = _group_column(df, axis_cols)
    parts: list[tuple[str, pl.DataFrame, list[int]]] = []
    if group_col is None:
        parts.append(("", df, boundaries))
    else:
        labels = [None if v is None else v.strip() for v in df[group_col].to_list()]
        order: list[str] = []
        for v in labels:
            if v and v not in order:
                order.append(v)
        idx_all = np.arange(df.height)
        for v in order:
            mask = np.array([x == v for x in labels])
            rows = idx_all[mask]
            # Header boundaries, re-expressed as positions inside this group's rows.
            b = sorted({int(np.searchsorted(rows, x)) for x in boundaries if 0 < np.searchsorted(rows, x) < len(rows)})
            parts.append((_safe_suffix(v), df.filter(pl.Series(mask)).drop(group_col), b))
        notes.append(f"{path.name}: column '{group_col}' tells {len(order)} runs apart ({', '.join(order[:5])})")

    counter_col = step_col if step_col is not None else epoch_col
    what = "step" if counter_col is not None and counter_col == step_col else "epoch"
    out: list[RunData] = []
    for suffix, part, bounds in parts:
        if counter_col is not None:
            counter = _to_float(part[counter_col]).to_numpy()
        else:
            counter = np.full(part.height, np.nan)
        sessions = find_sessions(counter, tuple(bounds))
        if len(sessions) <= 1:
            frame, w = wide_to_long(path, part, step_from_epoch=step_from_epoch)
            out.append(RunData(source=source, frame=frame, files=[str(path)], warnings=notes + w, run_suffix=suffix))
            continue
        drop = superseded(counter, sessions)
        fit_notes = describe_sessions(sessions, what)
        fits = sorted({s.fit for s in sessions})
        for f in fits:
            mask = np.zeros(part.height, dtype=bool)
            for s in sessions:
                if s.fit == f:
                    mask[s.start : s.stop] = True
            mask &= ~drop
            frame, w = wide_to_long(path, part.filter(pl.Series(mask)), step_from_epoch=step_from_epoch)
            name = suffix if len(fits) == 1 else (f"{suffix}#fit{f}" if suffix else f"fit{f}")
            w = [f"{path.name}: {x}" for x in fit_notes[f]] + w
            out.append(RunData(source=source, frame=frame, files=[str(path)], warnings=notes + w, run_suffix=name))
    return out
