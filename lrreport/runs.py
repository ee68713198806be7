"""RunSet: every scalar of every run found under a logdir, in one long table.

``RunSet.scalars`` is a polars DataFrame in long format, one row per logged
point::

    run        str      path of the run relative to the logdir
    source     str      the format it was read from (tfevents, keras_csv, ...)
    tag        str      the tag exactly as written
    metric     str      its canonical name (lrreport.metrics), or the tag itself
    step       i64      global step (Keras logs: the epoch index)
    epoch      f64      epoch when the log says so, else null
    wall_time  f64      seconds since the epoch when the log says so, else null
    value      f64      NaN and +-Inf kept as they are

Rows are sorted by run, then tag, then the order the points were written in.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

__all__ = ["NOTE_KINDS", "SCALARS_SCHEMA", "FileNote", "ReadError", "RunInfo", "RunSet", "Series"]

SCALARS_SCHEMA: dict[str, pl.DataType] = {
    "run": pl.String,
    "source": pl.String,
    "tag": pl.String,
    "metric": pl.String,
    "step": pl.Int64,
    "epoch": pl.Float64,
    "wall_time": pl.Float64,
    "value": pl.Float64,
}


@dataclass(frozen=True)
class ReadError:
    """A file (or run) that could not be read, and why, in one line."""

    path: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "error": self.error}


#: What a FileNote says happened to a file, in the order summaries list them.
NOTE_KINDS = {
    "damaged": "read with damaged parts skipped",
    "truncated": "cut off at the end (still being written?): the incomplete tail held back",
    "partial": "read in part",
    "replaced": "damaged, and replaced by another copy",
    "skipped": "skipped",
    "link": "reached through a link leaving the logdir",
}


@dataclass(frozen=True)
class FileNote:
    """Something a user must hear about one file that was read anyway, or passed over: damage
    worked around, a tail held back, a copy used instead, a link followed out of the logdir.
    ``kind`` is one of :data:`NOTE_KINDS`; ``detail`` is one line with the counts."""

    path: str
    kind: str
    detail: str
    run: str | None = None  #: the run it belongs to, when it belongs to one

    def to_dict(self) -> dict[str, str | None]:
        return {"path": self.path, "kind": self.kind, "detail": self.detail, "run": self.run}


@dataclass
class RunInfo:
    """What is known about one run besides its scalars."""

    run: str  #: path relative to the logdir
    source: str  #: the format it was read from
    path: str  #: absolute path of the run's directory or file
    files: list[str] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)  #: metric names present, sorted
    points: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "format": self.source,
            "path": self.path,
            "metrics": list(self.metrics),
            "points": self.points,
            "hparams": dict(self.hparams),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Series:
    """One metric of one run as numpy arrays, in step order (what detectors read)."""

    run: str
    metric: str
    step: np.ndarray  #: int64
    value: np.ndarray  #: float64
    epoch: np.ndarray  #: float64, NaN where unknown

    def __len__(self) -> int:
        return len(self.step)


class RunSet:
    """The runs found under a logdir: their scalars, metadata and read errors."""

    def __init__(
        self,
        logdir: str,
        scalars: pl.DataFrame,
        runs: dict[str, RunInfo],
        errors: list[ReadError] | None = None,
        notes: list[FileNote] | None = None,
    ):
        self.logdir = logdir
        self.scalars = scalars
        self.runs = runs
        self.errors = list(errors or [])
        #: Files read with damage, in part, replaced, skipped, or reached through a link out of the logdir.
        self.notes = list(notes or [])
        self._series_cache: dict[tuple[str, str], Series] | None = None
        self._tags: dict[str, dict[str, str]] = {}

    # --- access ---------------------------------------------------------------
    @property
    def run_names(self) -> list[str]:
        return list(self.runs)

    def metrics(self, run: str) -> list[str]:
        return list(self.runs[run].metrics)

    def series(self, run: str, metric: str) -> Series | None:
        """The points of ``metric`` in ``run`` sorted by step, or None if absent."""
        if self._series_cache is None:
            self._build_series_cache()
        assert self._series_cache is not None
        return self._series_cache.get((run, metric))

    def tags(self, run: str) -> dict[str, str]:
        """metric -> the tag it was read from, for one run."""
        if self._series_cache is None:
            self._build_series_cache()
        return dict(self._tags.get(run, {}))

    def _build_series_cache(self) -> None:
        # Rows come in blocks of one (run, metric) (load() writes them so): each block is
        # sorted by step on its own with numpy, a view when it is in order already. No
        # polars call per metric (100,000 metric columns took 40 s) and no second copy of
        # the whole table (a log of a million epochs).
        cache: dict[tuple[str, str], Series] = {}
        if self.scalars.height:
            df = self.scalars.select("run", "metric", "tag", "step", "epoch", "value")
            blocks = df.select(pl.struct("run", "metric").rle_id().alias("b"))["b"].to_numpy()
            n_pairs = df.select(pl.struct("run", "metric").n_unique()).item()
            if int(blocks[-1]) + 1 != n_pairs:  # not in blocks (a RunSet built by hand): sort it
                df = df.with_row_index("_i").sort(["run", "metric", "_i"]).drop("_i")
                blocks = df.select(pl.struct("run", "metric").rle_id().alias("b"))["b"].to_numpy()
            starts = np.concatenate(([0], np.flatnonzero(np.diff(blocks)) + 1))
            stops = np.concatenate((starts[1:], [len(blocks)]))
            step = df["step"].to_numpy().astype(np.int64, copy=False)
            value = df["value"].to_numpy().astype(np.float64, copy=False)
            epoch = df["epoch"].fill_null(np.nan).to_numpy().astype(np.float64, copy=False)
            heads = df.select("run", "metric", "tag").gather(starts).iter_rows()
            for (run, metric, tag), a, b in zip(heads, starts.tolist(), stops.tolist()):
                self._tags.setdefault(run, {})[metric] = tag  # the tag of its first row, in written order
                st = step[a:b]
                if len(st) > 1 and np.any(st[1:] < st[:-1]):
                    order = np.argsort(st, kind="stable")  # stable: equal steps keep their written order
                    s_, v_, e_ = st[order], value[a:b][order], epoch[a:b][order]
                else:
                    s_, v_, e_ = st, value[a:b], epoch[a:b]
                cache[(run, metric)] = Series(run=run, metric=metric, step=s_, value=v_, epoch=e_)
        self._series_cache = cache

    def subset(self, runs: list[str]) -> RunSet:
        """A RunSet with only these runs (errors are kept)."""
        keep = [r for r in self.runs if r in set(runs)]
        return RunSet(
            self.logdir,
            self.scalars.filter(pl.col("run").is_in(keep)),
            {r: self.runs[r] for r in keep},
            self.errors,
            [n for n in self.notes if n.run is None or n.run in set(keep)],
        )

    def file_counts(self) -> dict[str, int]:
        """Files per outcome: ``unreadable`` (errors) and each FileNote kind (distinct paths)."""
        counts = {"unreadable": len({e.path for e in self.errors})}
        for kind in NOTE_KINDS:
            counts[kind] = len({n.path for n in self.notes if n.kind == kind})
        return counts

    # --- export -----------------------------------------------------------------
    def to_pandas(self):
        """``scalars`` as a pandas DataFrame."""
        return self.scalars.to_pandas()

    def summary(self) -> pl.DataFrame:
        """One row per run: format, points, metrics and the LR hyperparameter if known."""
        rows = []
        for name, info in self.runs.items():
            rows.append(
                {
                    "run": name,
                    "format": info.source,
                    "points": info.points,
                    "metrics": ", ".join(info.metrics),
                    "warnings": len(info.warnings),
                }
            )
        schema = {"run": pl.String, "format": pl.String, "points": pl.Int64, "metrics": pl.String, "warnings": pl.Int64}
        return pl.DataFrame(rows, schema=schema)

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        return (
            f"RunSet({self.logdir!r}: {len(self.runs)} runs, {self.scalars.height} points, "
            f"{len(self.errors)} errors" + (f", {len(self.notes)} file notes" if self.notes else "") + ")"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>RunSet</b> {html.escape(self.logdir)}: {len(self.runs)} runs, "
            f"{self.scalars.height} points, {len(self.errors)} errors</p>"
        )
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
            for r in self.summary().iter_rows(named=True)
        )
        table = (
            "<table><thead><tr><th>run</th><th>format</th><th>points</th><th>metrics</th><th>warnings</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )
        errs = "".join(f"<li>{html.escape(e.path)}: {html.escape(e.error)}</li>" for e in self.errors)
        errs += "".join(f"<li>{html.escape(n.path)}: {html.escape(n.kind)}: {html.escape(n.detail)}</li>" for n in self.notes)
        return head + table + (f"<ul>{errs}</ul>" if errs else "")
