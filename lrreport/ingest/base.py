"""What every reader returns, and the one error type a reader raises.

A reader turns the files of ONE run into a :class:`RunData`: a polars frame in
long format (``tag``, ``step``, ``epoch``, ``wall_time``, ``value``) plus the
run's hyperparameters. It never maps tags onto canonical names (that is
:mod:`lrreport.metrics`' job, done once in :func:`lrreport.ingest.load`).

A file that cannot be read at all raises :class:`LogReadError` with a one-line
reason; :func:`lrreport.ingest.load` turns it into an entry of
``RunSet.errors`` and goes on with the other runs. Damage a reader can work
around (a corrupt record, a truncated tail) is reported in ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..runs import FileNote

__all__ = ["FRAME_SCHEMA", "LogReadError", "RunData", "empty_frame", "frame_from_columns", "safe_text"]

#: Columns and types of a reader's frame (before ``run``/``source``/``metric`` are added).
FRAME_SCHEMA: dict[str, pl.DataType] = {
    "tag": pl.String,
    "step": pl.Int64,
    "epoch": pl.Float64,
    "wall_time": pl.Float64,
    "value": pl.Float64,
}


class LogReadError(Exception):
    """A log file that cannot be read. ``str(err)`` is the one-line reason."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = " ".join(str(reason).split())  # one line, always
        super().__init__(f"{self.path}: {self.reason}")


@dataclass
class RunData:
    """The scalars and metadata of one run, as one reader found them."""

    source: str  #: format name: tfevents, keras_csv, lightning_csv, csv, tb_csv, keras_history, hf_trainer_state, mlflow, wandb, text
    frame: pl.DataFrame  #: FRAME_SCHEMA columns
    files: list[str] = field(default_factory=list)  #: the files read (absolute paths)
    hparams: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  #: damage worked around, one line each
    #: The same damage, per file and counted, for the summaries (``RunSet.notes``).
    notes: list[FileNote] = field(default_factory=list)
    #: Set when one file holds several runs (fits appended to one log, a ``model``
    #: column, a second training phase): the run is named ``<file run>#<suffix>``.
    run_suffix: str = ""

    def note(self, path: str | Path, kind: str, detail: str, warn: bool = True) -> None:
        """Record damage worked around in one file: a FileNote, and (``warn``) a warning line."""
        self.notes.append(FileNote(str(path), kind, detail))
        if warn:
            self.warnings.append(f"{Path(path).name}: {detail}")


def safe_text(s: Any) -> str:
    """Text that always encodes as UTF-8: lone surrogates (from JSON escapes, or bytes of a
    file name that are not UTF-8) are written as backslash escapes."""
    s = str(s)
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape" if _only_escapes(s) else "backslashreplace").decode("utf-8", "backslashreplace")


def _only_escapes(s: str) -> bool:
    return all(not 0xD800 <= ord(c) < 0xDC80 for c in s if 0xD800 <= ord(c) <= 0xDFFF)


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=FRAME_SCHEMA)


def frame_from_columns(
    tag: list[str] | Any,
    step: Any,
    value: Any,
    epoch: Any = None,
    wall_time: Any = None,
) -> pl.DataFrame:
    """Build a reader frame from column sequences (None columns become nulls)."""
    n = len(value)
    try:
        tags = pl.Series("tag", tag, dtype=pl.String)
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape: keep it visible, escaped
        tags = pl.Series("tag", [safe_text(t) for t in tag], dtype=pl.String)
    cols = {
        "tag": tags,
        "step": pl.Series("step", step, dtype=pl.Int64),
        "epoch": pl.Series("epoch", epoch if epoch is not None else [None] * n, dtype=pl.Float64),
        "wall_time": pl.Series("wall_time", wall_time if wall_time is not None else [None] * n, dtype=pl.Float64),
        "value": pl.Series("value", value, dtype=pl.Float64, strict=False),
    }
    return pl.DataFrame(cols)
