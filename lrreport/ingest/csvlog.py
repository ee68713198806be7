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

import io
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from ..metrics import SPLIT_WORDS, match_tag
from .base import LogReadError, RunData, empty_frame
from .files import complete_lines, read_bytes, read_head
from .numbers import MAX_STEP
from .restarts import describe_sessions, find_sessions, one_session, superseded

__all__ = [
    "EPOCH_COLUMNS",
    "STEP_COLUMNS",
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


def _decode_head(head: bytes) -> str | None:
    """The text of a file's first bytes for sniffing: UTF-16 (with a BOM or by its NUL
    pattern) and non-UTF-8 (read as cp1252) are recognised; NUL bytes are damage, not text."""
    enc = _utf16(head)
    if enc:
        return head.decode(enc, errors="replace").lstrip("\ufeff")
    head = head.replace(b"\x00", b"")
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the sniffed bytes
            return head[: exc.start].decode("utf-8-sig", errors="replace")
        return head.decode("cp1252", errors="replace")


def read_csv_header(path: Path, commas_only: bool = False) -> list[str] | None:
    """The header cells of a CSV-like file, or None if it does not look like one
    (``commas_only``: a semicolon or a tab does not make one)."""
    head = read_head(path, 8192)
    if not head:
        return None
    text = _decode_head(head)
    if text is None:
        return None
    line = text.split("\n", 1)[0].rstrip("\r")
    sep = _separator(line, commas_only)
    if sep is None:
        return None
    return [c.strip().strip('"') for c in line.split(sep)]


#: Field separators, in the order they are tried: a comma, else a semicolon (Keras'
#: ``CSVLogger(separator=";")``, spreadsheets in locales with a decimal comma), else a tab.
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def _separator(header: str, commas_only: bool = False) -> str | None:
    """The header's field separator (``commas_only``: a comma or none)."""
    return next((sep for sep in ((",",) if commas_only else SEPARATORS) if sep in header), None)


def _to_commas(data: bytes) -> tuple[bytes, str | None]:
    """A semicolon- or tab-separated log rewritten with commas (a decimal comma becomes a
    point), and what it was separated by; a comma-separated one unchanged."""
    end = data.find(b"\n")
    header, body = (data[:end], data[end + 1 :]) if end >= 0 else (data, b"")
    sep = _separator(header.decode("utf-8", errors="replace"))
    if sep in (None, ","):
        return data, None
    name = SEPARATORS[sep]
    if b"," in data:
        if b"." in body:
            return data, None  # commas and points in the values: not ours to guess
        data = data.replace(b",", b".")  # 0,52: a decimal comma
        name += " (decimal commas)"
    return data.replace(sep.encode(), b","), name


def _utf16(data: bytes) -> str | None:
    """'utf-16' / 'utf-16-le' / 'utf-16-be' when the bytes are UTF-16 text, else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    sample = data[:4096]
    if len(sample) >= 8:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def csv_bytes(path: Path, data: bytes) -> tuple[bytes, list[tuple[str, str]], list[str]]:
    """The bytes polars should parse, what was damaged on the way (kind, detail), and plain
    notes: UTF-16 and non-UTF-8 text become UTF-8; lines holding NUL bytes (the zeros a crash
    leaves where data never got written) are dropped and counted; an unterminated last line
    (a writer still writing it) is held back and counted."""
    damage: list[tuple[str, str]] = []
    notes: list[str] = []
    enc = _utf16(data)
    if enc:
        data = data.decode(enc, errors="replace").encode("utf-8")
        notes.append(f"{path.name}: UTF-16 text, read as such")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # classic Mac line ends
    data, held = complete_lines(data)
    if held:
        damage.append(("truncated", f"1 incomplete last line held back ({held} bytes without a line end: still being written?)"))
    if b"\x00" in data:
        # Zeros where a crashed writer's data never reached the disk: what precedes them on a
        # line is a cut-off row; what follows is the next writer's fresh row.
        lines = data.split(b"\n")
        hit = [i for i, ln in enumerate(lines) if b"\x00" in ln]
        for i in hit:
            lines[i] = lines[i][lines[i].rfind(b"\x00") + 1 :]
        damage.append(("damaged", f"{len(hit)} lines holding NUL bytes (zeros a crash leaves behind): the text before them skipped"))
        data = b"\n".join(ln for i, ln in enumerate(lines) if ln or i == len(lines) - 1)
    try:
        if not data.isascii():  # the usual log is ASCII: no decoding pass at all
            data.decode("utf-8")
    except UnicodeDecodeError:
        data = data.decode("cp1252", errors="replace").encode("utf-8")
        notes.append(f"{path.name}: not UTF-8 text; read as cp1252 (Windows Latin-1)")
    data, separated = _to_commas(data)
    if separated and "decimal" in separated:
        notes.append(f"{path.name}: fields separated by {separated}")
    return data, damage, notes


#: Columns read from one CSV. No training log logs more metrics than this; a table that
#: wide is data, and polars' reader holds a buffer per column (200,000 columns: 800 MB).
MAX_COLUMNS = 20_000


def _first_columns(data: bytes, limit: int) -> bytes:
    """The CSV text with every row cut to its first ``limit`` fields (Python's csv module: quotes respected)."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline="")):
        writer.writerow(row[:limit])
    return out.getvalue().encode("utf-8")


def _parse_csv(data: bytes, quote: bool) -> pl.DataFrame:
    # polars warns on stderr about ragged rows it then reads anyway; the rows it
    # could not use simply yield no points, so keep the terminal clean.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,  # every column as text: we decide NaN vs empty ourselves
            null_values=NULL_CELLS,
            truncate_ragged_lines=True,
            ignore_errors=True,
            encoding="utf8-lossy",
            quote_char='"' if quote else None,
        )


def read_wide_csv(path: Path, damage: list[tuple[str, str]] | None = None, notes: list[str] | None = None) -> pl.DataFrame:
    """Read a CSV with every cell as text (casting comes later, per column). Damage worked
    around is appended to ``damage`` as (FileNote kind, detail), plain remarks to ``notes``."""
    raw = read_bytes(path, "csv")
    data, dmg, remarks = csv_bytes(path, raw)
    if not data.strip():
        if dmg and dmg[0][0] == "truncated":
            raise LogReadError(path, "no complete line yet: the only line has no line end (still being written?)")
        raise LogReadError(path, "empty file")
    header_fields = data[: data.find(b"\n")].count(b",") + 1
    if header_fields > MAX_COLUMNS:
        data = _first_columns(data, MAX_COLUMNS)
        dmg.append(("partial", f"{header_fields} columns: only the first {MAX_COLUMNS} read (a training log has far fewer)"))
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    quote = b'"' in data
    df = None
    if quote:
        try:
            df = _parse_csv(data, True)
        except Exception:
            df = None
        if df is None or df.height < lines - 1:
            # A stray quote opens a quoted field that runs over the line ends (or never
            # closes): training logs hold one row per line, so read it without quoting.
            swallowed = "" if df is None else f" ({lines - 1 - df.height} lines would have been swallowed)"
            dmg.append(("damaged", f"a stray quote character{swallowed}: read without quote handling"))
            df = None
    if df is None:
        try:
            df = _parse_csv(data, False)
        except Exception as exc:  # polars raises several types for broken files
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LogReadError(path, f"not a readable CSV: {msg}") from None
        if quote:
            df = df.rename(_unique_names([c.strip().strip('"') for c in df.columns], df.columns))
            df = df.with_columns(pl.all().str.strip_chars().str.strip_chars('"'))
    # Ultralytics YOLOv5's results.csv pads its header ("      epoch,  train/box_loss").
    stripped = [c.strip() for c in df.columns]
    if stripped != df.columns and len(set(stripped)) == len(stripped):
        df = df.rename(dict(zip(df.columns, stripped)))
    if damage is not None:
        damage.extend(dmg)
    if notes is not None:
        notes.extend(remarks)
    return df


def _unique_names(new: list[str], old: list[str]) -> dict[str, str]:
    seen: set[str] = set()
    out = {}
    for n, o in zip(new, old):
        if n in seen or not n:
            n = o
        seen.add(n)
        out[o] = n
    return out


def _find(cols: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in cols}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _to_float(s: pl.Series) -> pl.Series:
    return s.str.strip_chars().cast(pl.Float64, strict=False)


#: Up to this many columns a table is converted column-wise (lean in memory); wider tables
#: cell-wise through one unpivot (a polars expression per column costs ~25 us: seconds for
#: a log of 100,000 columns).
WIDE_COLUMNS = 1000


def _positional(df: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Columns ``names`` renamed c0, c1, ...: picked by position, never by name (a user's
    column called ``^.*$`` must not be read as a regular expression by polars)."""
    index = {c: i for i, c in enumerate(df.columns)}
    sub = df.clone()  # shallow: renaming it leaves the caller's frame alone
    sub.columns = [f"c{i}" for i in range(df.width)]
    if len(names) < df.width:
        sub = sub.select([f"c{index[c]}" for c in names])
        sub.columns = [f"c{k}" for k in range(len(names))]
    return sub


def _numbers(df: pl.DataFrame, names: list[str]) -> tuple[pl.DataFrame, list[int], list[int]]:
    """(the numeric cells of columns ``names`` as ``_row``, ``_k`` (index into names), ``_v``,
    column by column; per column the cells present; per column the cells that are numbers)."""
    sub = _positional(df, names)
    if sub.width <= WIDE_COLUMNS:
        # One column at a time: a tall log (a million rows) never holds two copies of its text.
        present, numeric, parts = [], [], []
        rows = pl.Series("_row", np.arange(sub.height, dtype=np.uint32))
        for k in range(sub.width):
            raw = sub.to_series(k)
            vals = _to_float(raw)
            present.append(raw.len() - raw.null_count())
            numeric.append(vals.len() - vals.null_count())
            if numeric[-1]:
                has = vals.is_not_null()
                parts.append(
                    pl.DataFrame({"_row": rows.filter(has), "_v": vals.filter(has)}).with_columns(
                        pl.lit(k, dtype=pl.UInt32).alias("_k")
                    )
                )
        if not parts:
            return pl.DataFrame(schema={"_row": pl.UInt32, "_v": pl.Float64, "_k": pl.UInt32}), present, numeric
        return pl.concat(parts), present, numeric
    else:
        long = sub.with_row_index("_row").unpivot(index="_row", variable_name="_c", value_name="_raw")
        long = long.with_columns(pl.col("_raw").str.strip_chars().cast(pl.Float64, strict=False).alias("_v"))
        counts = long.group_by("_c").agg(pl.col("_raw").is_not_null().sum().alias("p"), pl.col("_v").is_not_null().sum().alias("n"))
        by = {c: (p, n) for c, p, n in counts.iter_rows()}
        present = [by.get(f"c{k}", (0, 0))[0] for k in range(len(names))]
        numeric = [by.get(f"c{k}", (0, 0))[1] for k in range(len(names))]
        long = long.filter(pl.col("_v").is_not_null()).drop("_raw")
    long = long.with_columns(pl.col("_c").str.slice(1).cast(pl.UInt32).alias("_k")).drop("_c")
    return long, present, numeric


def wide_to_long(
    path: Path,
    df: pl.DataFrame,
    *,
    step_from_epoch: bool = False,
    skip: tuple[str, ...] = (),
    damage: list[tuple[str, str]] | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Turn a wide log table into the reader frame; returns (frame, warnings).

    The step comes from a step-like column, else from the epoch column, else
    from the row number. Columns that hold no number at all are not metrics and
    are left out (and named in a warning). A row whose step is there but unusable
    (NaN, Inf, beyond 2**62) and a cell of a numeric column that is no number are
    skipped and counted in ``damage`` (FileNote kind, detail). Linear in the cells:
    every column is converted in one pass, however many there are.
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
    counter_col = step_col if step_col is not None else epoch_col
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
    # A step that is there but no usable counter (text, NaN, Inf, beyond int64) is damage:
    # its row's values are skipped, not moved to step 0 or to the step before.
    step_np = step_f.to_numpy().astype(np.float64)
    if counter_col is not None:
        raw_counter = df[counter_col].str.strip_chars()
        present_step = (raw_counter.is_not_null() & (raw_counter != "")).fill_null(False).to_numpy()
    else:
        present_step = ~step_f.is_null().to_numpy()
    usable = np.isfinite(step_np) & (np.abs(step_np) <= MAX_STEP)
    bad_rows = present_step & ~usable
    # Rows whose step is missing (Lightning's lr rows have one; hand-edited files may not)
    # inherit the previous row's step so their points are not lost.
    step_np = np.where(usable, step_np, np.nan)
    step = pl.Series("step", step_np, dtype=pl.Float64, nan_to_null=True).forward_fill().fill_null(0.0).cast(pl.Int64)
    epoch = epoch.fill_nan(None) if epoch.dtype == pl.Float64 else epoch
    if time_col is not None and wall.drop_nulls().len() and float(wall.drop_nulls().max() or 0) > 1e11:
        wall = wall / 1000.0  # milliseconds
    metric_cols = [c for c in cols if c not in (step_col, epoch_col, time_col) and c not in skip and c != ""]
    if not metric_cols or n == 0:
        return empty_frame(), warnings
    points, present, numeric = _numbers(df, metric_cols)
    keep = [k for k in range(len(metric_cols)) if numeric[k]]
    non_numeric = [metric_cols[k] for k in range(len(metric_cols)) if not numeric[k] and present[k]]
    if non_numeric:
        warnings.append(f"{path.name}: non-numeric columns left out: {', '.join(non_numeric[:5])}")
    if not keep:
        return empty_frame(), warnings
    text_cells = sum(present[k] - numeric[k] for k in keep)
    if damage is not None and text_cells:
        # Text in a numeric column (a damaged number, a stray header row) is not a point.
        where = ", ".join(metric_cols[k] for k in keep if present[k] > numeric[k])
        damage.append(("damaged", f"{text_cells} cells that are not numbers skipped (in {_short(where)})"))
    if damage is not None and bad_rows.any():
        damage.append(("damaged", f"{int(bad_rows.sum())} rows with an unusable step or epoch (not a number, NaN, Inf or beyond 2**62) skipped"))
    ok_rows = ~bad_rows
    rows = points["_row"].to_numpy()
    sel = ok_rows[rows]
    rows = rows[sel]
    names = pl.Series("names", metric_cols, dtype=pl.String)
    out = pl.DataFrame(
        {
            "tag": names.gather(points["_k"].filter(pl.Series(sel))),
            "step": step.gather(rows),
            "epoch": epoch.cast(pl.Float64).gather(rows),
            "wall_time": wall.cast(pl.Float64).gather(rows),
            "value": points["_v"].filter(pl.Series(sel)),
        }
    )
    return out, warnings


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_generic_csv(path: Path) -> list[RunData]:
    """A CSV with a step or epoch column (or none: row = epoch) and numeric metric columns."""
    damage: list[tuple[str, str]] = []
    notes: list[str] = []
    df = read_wide_csv(path, damage, notes)
    runs = [r for r in read_table_runs(path, df, "csv", damage=damage, notes=notes) if r.frame.height]
    if not runs:
        raise LogReadError(path, "no numeric metric columns with values")
    return runs


def add_damage(path: Path, runs: list[RunData], damage: list[tuple[str, str]], notes: list[str] = ()) -> None:
    """Every run read from one file says the file's damage (each detail once per run)."""
    for r in runs:
        seen = {(n.kind, n.detail) for n in r.notes}
        for kind, detail in damage:
            if (kind, detail) not in seen:
                r.note(path, kind, detail)
                seen.add((kind, detail))
        for line in notes:
            if line not in r.warnings:
                r.warnings.append(line)


# --- one file, several runs -------------------------------------------------------
def _text_columns(df: pl.DataFrame) -> dict[str, tuple[bool, int]]:
    """Per column: (every present cell is text, not a number; distinct non-empty values),
    for all columns at once (column-wise, or cell-wise for very wide tables)."""
    if df.width == 0 or df.height == 0:
        return {}
    names = df.columns  # a property that builds a list: once, not per column
    sub = _positional(df, names)
    if sub.width <= WIDE_COLUMNS:
        out = {}
        for k in range(sub.width):  # one column at a time: lean for a tall log
            col = sub.to_series(k).str.strip_chars()
            present = col.len() - col.null_count()
            numeric = present - col.cast(pl.Float64, strict=False).null_count() + col.null_count()
            text = present > 0 and numeric == 0
            # Only a text column, or one named like a run label, can tell runs apart.
            distinct = col.filter(col != "").n_unique() if text or names[k].strip().lower() in GROUP_COLUMNS else 0
            out[names[k]] = (text, int(distinct))
        return out
    long = sub.unpivot(variable_name="_c", value_name="_raw").with_columns(pl.col("_raw").str.strip_chars())
    stats = long.group_by("_c").agg(
        pl.col("_raw").is_not_null().sum().alias("present"),
        pl.col("_raw").cast(pl.Float64, strict=False).is_not_null().sum().alias("numeric"),
        pl.col("_raw").filter(pl.col("_raw") != "").n_unique().alias("distinct"),
    )
    return {names[int(c[1:])]: (p > 0 and n == 0, int(d)) for c, p, n, d in stats.iter_rows()}


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


def _split_column(df: pl.DataFrame, skip: set[str], stats: dict[str, tuple[bool, int]]) -> str | None:
    for c in df.columns:
        text, distinct = stats.get(c, (False, 0))
        if c in skip or not text or not 2 <= distinct <= len(SPLIT_WORDS):
            continue
        vals = {v.strip().lower() for v in df[c].drop_nulls().unique().to_list()}
        if len(vals) >= 2 and vals <= set(SPLIT_WORDS):
            return c
    return None


def _group_column(df: pl.DataFrame, skip: set[str], stats: dict[str, tuple[bool, int]]) -> str | None:
    for c in df.columns:
        if c in skip:
            continue
        text, distinct = stats.get(c, (False, 0))
        named = c.strip().lower() in GROUP_COLUMNS
        if not 2 <= distinct <= MAX_GROUPS or not (text or named):
            continue
        vals = [None if v is None else v.strip() for v in df[c].to_list()]
        counts = Counter(v for v in vals if v)
        if len(counts) < 2 or min(counts.values()) < 2:
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


#: A column of a chart exported from the W&B web UI: "<run name> - <metric>", with
#: "__MIN"/"__MAX" beside each (the range of the points the chart bucketed together).
WANDB_EXPORT_COLUMN = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?P<range>__MIN|__MAX)?$")


def _wandb_export(df: pl.DataFrame, axis_cols: set[str]) -> list[tuple[str, pl.DataFrame]] | None:
    """The runs of a W&B chart export (every column but the axis "<run> - <metric>"), each
    as a table of the axis and its metrics; None for any other table."""
    cols = [c for c in df.columns if c not in axis_cols]
    if not axis_cols or not cols:
        return None
    matches = [WANDB_EXPORT_COLUMN.match(c) for c in cols]
    if not all(matches):
        return None
    runs: dict[str, dict[str, str]] = {}
    for c, m in zip(cols, matches):
        if m.group("range"):
            continue
        runs.setdefault(m.group("run"), {})[c] = m.group("metric")
    if not runs:
        return None
    axis = [c for c in df.columns if c in axis_cols]
    out = []
    for run, metrics in runs.items():
        part = df.select(axis + list(metrics)).rename(metrics)
        filled = pl.any_horizontal([pl.col(m).str.strip_chars().fill_null("") != "" for m in metrics.values()])
        out.append((run, part.filter(filled)))
    return out


def read_table_runs(
    path: Path,
    df: pl.DataFrame,
    source: str,
    *,
    step_from_epoch: bool = False,
    damage: list[tuple[str, str]] | None = None,
    notes: list[str] | None = None,
) -> list[RunData]:
    """Every run in one wide table: one per group-column value, one per appended fit.
    ``damage`` and ``notes`` (from :func:`read_wide_csv`) are said in every run's warnings."""
    file_damage = list(damage or [])
    extra_notes = list(notes or [])
    cols = list(df.columns)
    if not cols:
        return []
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

    stats = _text_columns(df)
    split_col = _split_column(df, axis_cols, stats)
    if split_col is not None:
        df = _pivot_split(df, split_col, axis_cols | {c for c in cols if c.lower() in GROUP_COLUMNS})
        notes.append(f"{path.name}: column '{split_col}' says the split; its values prefix the metric names")
        stats = _text_columns(df)

    wandb_runs = _wandb_export(df, axis_cols)
    group_col = None if wandb_runs else _group_column(df, axis_cols, stats)
    parts: list[tuple[str, pl.DataFrame, list[int]]] = []
    if wandb_runs:
        parts = [(_safe_suffix(run), part, []) for run, part in wandb_runs]
        names = ", ".join(run for run, _ in wandb_runs[:5])
        notes.append(f"{path.name}: a W&B chart export of {len(wandb_runs)} runs ({names}); its __MIN/__MAX columns left out")
    elif group_col is None:
        parts.append(("", df, boundaries))
    else:
        key = df[group_col].str.strip_chars()
        order = [v for v in key.unique(maintain_order=True).to_list() if v]
        for v in order:
            mask = (key == v).fill_null(False).to_numpy()
            rows = np.flatnonzero(mask)
            # Header boundaries, re-expressed as positions inside this group's rows.
            b = sorted({int(np.searchsorted(rows, x)) for x in boundaries if 0 < np.searchsorted(rows, x) < len(rows)})
            parts.append((_safe_suffix(v), df.filter(pl.Series(mask)).drop(group_col), b))
        notes.append(f"{path.name}: column '{group_col}' tells {len(order)} runs apart ({', '.join(order[:5])})")

    counter_col = step_col if step_col is not None else epoch_col
    what = "step" if counter_col is not None and counter_col == step_col else "epoch"
    out: list[RunData] = []
    for suffix, part, bounds in parts:
        if counter_col is not None:
            counter = _to_float(part[counter_col]).to_numpy().astype(np.float64)
            with np.errstate(invalid="ignore"):
                counter[np.abs(counter) > MAX_STEP] = np.nan  # damage, skipped later: no session boundary
        else:
            counter = np.full(part.height, np.nan)
        sessions, why = one_session(find_sessions(counter, tuple(bounds)), part.height, what)
        if len(sessions) <= 1:
            dmg: list[tuple[str, str]] = []
            frame, w = wide_to_long(path, part, step_from_epoch=step_from_epoch, damage=dmg)
            w = [f"{path.name}: {x}" for x in why] + w
            out.append(RunData(source=source, frame=frame, files=[str(path)], warnings=notes + w, run_suffix=suffix))
            add_damage(path, out[-1:], file_damage + dmg, extra_notes)
            continue
        drop = superseded(counter, sessions)
        fit_notes = describe_sessions(sessions, what)
        fits = sorted({s.fit for s in sessions})
        fit_of_row = np.repeat([s.fit for s in sessions], [s.stop - s.start for s in sessions])
        for f in fits:
            mask = (fit_of_row == f) & ~drop
            dmg = []
            frame, w = wide_to_long(path, part.filter(pl.Series(mask)), step_from_epoch=step_from_epoch, damage=dmg)
            name = suffix if len(fits) == 1 else (f"{suffix}#fit{f}" if suffix else f"fit{f}")
            w = [f"{path.name}: {x}" for x in fit_notes[f]] + w
            out.append(RunData(source=source, frame=frame, files=[str(path)], warnings=notes + w, run_suffix=name))
            add_damage(path, out[-1:], file_damage + dmg, extra_notes)
    return out
