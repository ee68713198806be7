"""Wide CSV training logs: one row per logged moment, one column per metric.

Reads the generic layout (a ``step``-like or ``epoch`` column plus numeric
metric columns) and is the shared core of the Keras CSVLogger
(:mod:`lrreport.ingest.keras`) and Lightning CSVLogger
(:mod:`lrreport.ingest.lightning`) readers. Sparse rows are normal (Lightning
writes step rows and epoch rows with the other cells empty): an empty or
``NA`` cell is "not logged" and yields no point, while a literal ``nan`` or
``inf`` is a logged NaN/Inf and is kept. CRLF line ends (Python's csv.writer
default, so every Keras CSVLogger file) are handled by polars' reader.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl

from .base import LogReadError, RunData, empty_frame

__all__ = ["STEP_COLUMNS", "EPOCH_COLUMNS", "read_csv_header", "read_wide_csv", "wide_to_long"]

STEP_COLUMNS = ("step", "global_step", "steps", "iteration", "iter", "it", "batch", "_step", "trainer/global_step")
EPOCH_COLUMNS = ("epoch", "epochs", "_epoch")
TIME_COLUMNS = ("wall_time", "walltime", "timestamp", "time", "_timestamp")
# Cells that mean "nothing logged here" rather than a value.
NULL_CELLS = ["", "NA", "N/A", "na", "null", "None", "none", "-"]
MAX_CSV_BYTES = 2 << 30  # a 2 GiB "log" is a data file, not a training log


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
            return pl.read_csv(
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
        step_f = pl.Series("step", np.arange(n, dtype=np.float64))
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


def read_generic_csv(path: Path) -> RunData:
    """A CSV with a step or epoch column and numeric metric columns."""
    df = read_wide_csv(path)
    frame, warnings = wide_to_long(path, df)
    if frame.height == 0:
        raise LogReadError(path, "no numeric metric columns with values")
    return RunData(source="csv", frame=frame, files=[str(path)], warnings=warnings)
