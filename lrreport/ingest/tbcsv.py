"""CSV files downloaded from TensorBoard's web UI: one tag of one run per file.

TensorBoard's scalar dashboard offers each chart as CSV, with the header
``Wall time,Step,Value`` and a file name ``run-<run>-tag-<tag>.csv`` (a ``/``
in the run or tag written as ``_``). People keep these, one file per curve,
where the event files are long gone. The files of one run in one folder are
read as that run, each file's tag taken from its name (or, renamed, from the
file's stem); a Keras run exported as ``<run>_train`` and ``<run>_validation``
is one run with those splits, as lrreport reads Keras' event-file layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .base import LogReadError, RunData, frame_from_columns
from .csvlog import read_wide_csv
from .numbers import MAX_STEP

__all__ = ["HEADERS", "export_parts", "read_tb_csv"]

#: The header TensorBoard's UI writes (lower-cased), and the one its data exporters use.
HEADERS = (("wall time", "step", "value"), ("wall_time", "step", "value"))
EXPORT_NAME = re.compile(r"^run[-_](?P<run>.*?)[-_]tag[-_](?P<tag>.+)\.csv$", re.I)
#: A run exported per split (Keras' train/ and validation/ folders): the split joins the tag.
SPLIT_SUFFIX = re.compile(r"(?:^|[_/.-])(train|training|validation|val|valid|eval|test)$", re.I)


def export_parts(name: str) -> tuple[str, str]:
    """(the run's key among its folder's exports, the tag) from an exported file's name."""
    m = EXPORT_NAME.match(name)
    if not m:
        return "", Path(name).stem
    run, tag = m.group("run"), m.group("tag")
    s = SPLIT_SUFFIX.search(run)
    if s:
        run = run[: s.start()]
        tag = f"{s.group(1)}/{tag}"
    run = run.strip("._-")
    return ("" if run in ("", ".") else run), tag


def read_tb_csv(path: Path) -> RunData:
    """One exported curve: its tag from the file name, steps, wall times and values."""
    damage: list[tuple[str, str]] = []
    notes: list[str] = []
    df = read_wide_csv(path, damage, notes)
    cols = {c.strip().lower(): c for c in df.columns}
    if "step" not in cols or "value" not in cols:
        raise LogReadError(path, "a TensorBoard CSV export without its Step and Value columns")
    step = np.asarray(df[cols["step"]].cast(float, strict=False).to_numpy(), dtype=float)
    value = np.asarray(df[cols["value"]].cast(float, strict=False).to_numpy(), dtype=float)
    wall_col = cols.get("wall time") or cols.get("wall_time")
    wall = np.asarray(df[wall_col].cast(float, strict=False).to_numpy(), dtype=float) if wall_col else None
    ok = np.isfinite(step) & (np.abs(step) <= MAX_STEP)
    skipped = int(len(step) - ok.sum())
    _, tag = export_parts(path.name)
    out = RunData(
        source="tb_csv",
        frame=frame_from_columns(
            [tag] * int(ok.sum()), step[ok].astype(np.int64), value[ok],
            wall_time=None if wall is None else wall[ok],
        ),
        files=[str(path)],
    )
    for kind, detail in damage:
        out.note(path, kind, detail)
    if skipped:
        out.note(path, "partial", f"{skipped} rows without a usable step skipped")
    if out.frame.height == 0:
        raise LogReadError(path, "no rows with a step and a value")
    return out
