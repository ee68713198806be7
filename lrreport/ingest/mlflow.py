"""MLflow's file store: ``mlruns/<experiment_id>/<run_id>/``.

* ``metrics/<key>``: one line per point, ``<timestamp ms> <value> <step>``;
  older stores wrote two fields (step 0). Keys containing ``/`` are nested
  folders (``metrics/train/loss``).
* ``params/<key>``: the value as text; ``tags/mlflow.runName``: the run's name.
* ``meta.yaml``: run id, status, times (read with the bounded safe loader of
  :mod:`lrreport.ingest.yamlload`: a date such as ``2024-02-30`` stays text).
Artifacts are not read (a logged TensorBoard folder would count the run twice).

Every file is opened through :mod:`lrreport.ingest.files`: a FIFO, socket or
device in ``metrics/``, ``params/`` or ``tags/`` (or a link to ``/dev/zero``)
is skipped and said, never read. A metric file is parsed in one vectorised
pass (polars) over its complete lines: a line still being written (no line end
yet) is held back and counted, and a line whose value or step is no number,
or whose step is beyond 2**62, is skipped and counted; the other points stay.
"""

from __future__ import annotations

import io
import os
import re
import warnings as _warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .base import LogReadError, RunData, frame_from_columns
from .files import check_time, complete_lines, open_log, read_bytes
from .numbers import MAX_STEP
from .yamlload import read_yaml, refused_warning

__all__ = ["is_mlflow_run_dir", "read_mlflow_run"]

#: A param or tag value longer than this is cut (MLflow itself refuses values over 6000-8000 characters).
MAX_PARAM_BYTES = 64 << 10
_SPACES = re.compile(rb"[ \t\r\x0b\x0c]+")
_EDGE_SPACE = re.compile(rb"(?m)^ | (?=\n)")


def is_mlflow_run_dir(path: Path) -> bool:
    return (path / "meta.yaml").is_file() and (path / "metrics").is_dir()


def _param_value(text: str) -> Any:
    t = text.strip()
    if len(t) <= 40:
        for conv in (int, float):
            try:
                return conv(t)
            except (ValueError, OverflowError):
                pass
    return t


def _read_small(path: Path) -> tuple[str | None, bool]:
    """(the text of a param/tag file, cut: it was longer than MAX_PARAM_BYTES); (None, False)
    when it cannot be read. A special file is refused by the opener, never read."""
    with open_log(path, None) as (fh, size):
        data = fh.read(min(size, MAX_PARAM_BYTES))
    return data.decode("utf-8", errors="replace"), size > MAX_PARAM_BYTES


def parse_metric_lines(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(wall seconds, values, steps, lines skipped) of the complete lines of a metric file."""
    data = _EDGE_SPACE.sub(b"", _SPACES.sub(b" ", data))
    if not data.strip():
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), 0
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        df = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            separator=" ",
            schema={"t": pl.String, "v": pl.String, "s": pl.String},
            missing_columns="insert",
            extra_columns="ignore",  # old and new stores: the first three fields, as MLflow writes them
            truncate_ragged_lines=True,
            ignore_errors=True,
            quote_char=None,
            encoding="utf8-lossy",
        )
    blank = df["t"].is_null() & df["v"].is_null() & df["s"].is_null()
    df = df.filter(~blank)
    t = df["t"].cast(pl.Float64, strict=False)
    v = df["v"].cast(pl.Float64, strict=False)
    s_int = df["s"].cast(pl.Int64, strict=False)
    is_int = s_int.is_not_null().to_numpy()
    ints = s_int.fill_null(0).to_numpy()
    floats = df["s"].cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy()
    missing = df["s"].is_null().to_numpy()  # the older two-field lines: step 0
    float_ok = np.isfinite(floats) & (np.abs(np.nan_to_num(floats)) <= MAX_STEP)
    s_ok = missing | (is_int & (ints <= MAX_STEP) & (ints >= -MAX_STEP)) | (~is_int & float_ok)
    # Integers exactly as written (no rounding through float); "2.0" or "1e3" truncated.
    steps = np.where(is_int, ints, np.trunc(np.where(float_ok, floats, 0.0)).astype(np.int64))
    steps = np.where(missing, 0, steps)
    wall = t.fill_null(np.nan).to_numpy()
    ok = np.isfinite(wall) & v.is_not_null().to_numpy() & s_ok
    return wall[ok] / 1000.0, v.to_numpy()[ok], steps[ok], int(len(ok) - ok.sum())


def read_mlflow_run(run_dir: Path) -> RunData:
    metrics_dir = run_dir / "metrics"
    tags: list[str] = []
    steps: list[np.ndarray] = []
    values: list[np.ndarray] = []
    walls: list[np.ndarray] = []
    files: list[str] = []
    run = RunData(source="mlflow", frame=frame_from_columns([], [], []))
    walk_errors: list[OSError] = []
    for root, dirs, fnames in os.walk(metrics_dir, onerror=walk_errors.append):
        dirs.sort()
        for d in [d for d in dirs if (Path(root) / d).is_symlink()]:
            run.note(Path(root) / d, "skipped", "a link to a folder inside metrics/ is not followed")
        for fn in sorted(fnames):
            check_time(run_dir)
            p = Path(root) / fn
            key = p.relative_to(metrics_dir).as_posix()
            try:
                raw = read_bytes(p, "mlflow")
            except LogReadError as exc:
                run.note(p, "skipped", f"metric {key} not read: {exc.reason}")
                continue
            files.append(str(p))
            data, held = complete_lines(raw)
            if held:
                run.note(p, "truncated", f"1 incomplete last line held back ({held} bytes without a line end: still being written?)")
            wall, vals, stp, bad = parse_metric_lines(data)
            if bad:
                run.note(p, "damaged", f"{bad} malformed lines skipped (value or step not a number, or step beyond 2**62)")
            if len(vals):
                tags.append(key)
                walls.append(wall)
                values.append(vals)
                steps.append(stp)
    for exc in walk_errors:
        where = exc.filename or metrics_dir
        run.note(where, "skipped", f"folder not read: {exc.strerror or exc}")
    if not values:
        why = "; ".join(n.detail for n in run.notes[:3])
        raise LogReadError(run_dir, "MLflow run has no readable metric values" + (f" ({why})" if why else ""))
    tag_col = [t for t, v in zip(tags, values) for _ in range(len(v))]
    run.frame = frame_from_columns(
        tag_col,
        np.concatenate(steps),
        np.concatenate(values),
        wall_time=np.concatenate(walls),
    )
    run.files = files
    hparams: dict[str, Any] = {}
    params_dir = run_dir / "params"
    if params_dir.is_dir():
        for root, dirs, fnames in os.walk(params_dir, onerror=walk_errors.append):
            dirs.sort()
            for fn in sorted(fnames):
                p = Path(root) / fn
                key = p.relative_to(params_dir).as_posix()
                try:
                    text, cut = _read_small(p)
                except LogReadError as exc:
                    run.note(p, "skipped", f"param {key} not read: {exc.reason}")
                    continue
                if cut:
                    run.note(p, "partial", f"param {key} longer than {MAX_PARAM_BYTES >> 10} KiB: cut")
                hparams[key] = _param_value(text)
    name_file = run_dir / "tags" / "mlflow.runName"
    if os.path.lexists(name_file):
        try:
            name, _ = _read_small(name_file)
            if name and name.strip():
                hparams["mlflow.runName"] = name.strip()[:200]
        except LogReadError as exc:
            run.note(name_file, "skipped", f"run name not read: {exc.reason}")
    try:
        refused: list[str] = []
        meta = read_yaml(run_dir / "meta.yaml", refused)
        run.warnings += refused_warning("meta.yaml", refused)
        status = meta.get("status") if isinstance(meta, dict) else None
        if isinstance(status, (int, str)) and not isinstance(status, bool):
            hparams["mlflow.status"] = status
    except LogReadError as exc:
        run.warnings.append(f"meta.yaml: {exc.reason}")
    run.hparams = hparams
    return run
