"""Ingest: find every run under a path, read it with its format's reader, and
gather all scalars into one :class:`~lrreport.runs.RunSet`.

Readers are chosen by :mod:`lrreport.ingest.detect`; each format has its own
module. A run that cannot be read becomes an entry in ``RunSet.errors`` with a
one-line reason, and the other runs are read all the same.

Isolation: :func:`load` never raises for what is in the files. Each run is read
(and assembled) inside one guard, so any failure a reader did not foresee costs
that run only and becomes a ``ReadError`` that says it is a bug to report.
Every read happens within :class:`~lrreport.ingest.files.ReadLimits` (a size
cap per file, a time budget per run); damage worked around, tails held back,
copies used instead and links followed out of the logdir are collected into
``RunSet.notes``. Run names, paths and hyperparameters are made safe to print
and to serialise here, once: names whose bytes are not UTF-8 are escaped, and
hyperparameters are flat (a value that is no number, text, bool or None is
kept as a short text), so no renderer meets a structure it could recurse into.
"""

from __future__ import annotations

import contextvars
import os
import reprlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..metrics import resolve_metrics
from ..progress import progress_bar
from ..runs import SCALARS_SCHEMA, FileNote, ReadError, RunInfo, RunSet
from .base import LogReadError, RunData, safe_text
from .detect import Found, RunSource, discover
from .files import ReadLimits, collecting_links, file_budget, path_display, using_limits
from .numbers import to_value

__all__ = ["LogReadError", "ReadLimits", "SourceRead", "load", "read_one", "read_source", "start_reading"]

HPARAM_FILES = ("hparams.yaml", "hparams.yml", "hparams.json")
#: Hyperparameters kept per run, and the longest text value: they are settings, not data.
MAX_HPARAMS = 1000
MAX_HPARAM_TEXT = 200
_short = reprlib.Repr()
_short.maxlevel, _short.maxlist, _short.maxdict, _short.maxstring, _short.maxother = 2, 6, 6, MAX_HPARAM_TEXT, MAX_HPARAM_TEXT


def _internal(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"internal error while reading ({type(exc).__name__}{': ' + msg if msg else ''}); this is a bug in lrreport, please report it"


def flat_hparams(hparams: dict[Any, Any]) -> dict[str, Any]:
    """Hyperparameters as flat, printable, serialisable values: bool, int, float, str or None
    (an int beyond int64 becomes a float; anything else a short text), at most MAX_HPARAMS."""
    out: dict[str, Any] = {}
    for k, v in hparams.items():
        if len(out) >= MAX_HPARAMS:
            break
        key = safe_text(k)[:MAX_HPARAM_TEXT]
        if v is None or isinstance(v, bool):
            out[key] = v
        elif isinstance(v, int):
            out[key] = v if -(1 << 63) <= v < (1 << 63) else to_value(v)  # beyond int64: a float, or +/-Inf
        elif isinstance(v, float):
            out[key] = v
        elif isinstance(v, str):
            out[key] = safe_text(v[:MAX_HPARAM_TEXT])
        else:
            try:
                text = _short.repr(v)
            except Exception:  # a __repr__ that raises, or recurses
                text = f"<{type(v).__name__}>"
            out[key] = safe_text(text[:MAX_HPARAM_TEXT])
    return out


def _read_part(kind: str, path: Path, src: RunSource, allow_pickle: bool) -> RunData:
    if kind == "keras_csv":
        from .keras import read_keras_csv

        return read_keras_csv(path)
    if kind == "lightning_csv":
        from .lightning import read_lightning_csv

        return read_lightning_csv(path)
    if kind == "csv":
        from .csvlog import read_generic_csv

        return read_generic_csv(path)
    if kind == "keras_history":
        from .keras import read_keras_history

        return read_keras_history(path, src.cached.get(path))
    if kind == "keras_pickle":
        from .keras import read_keras_pickle

        return read_keras_pickle(path, allow_pickle)
    if kind == "hf_trainer_state":
        from .hf import read_trainer_state

        return read_trainer_state(path, src.cached.get(path))
    if kind == "mlflow":
        from .mlflow import read_mlflow_run

        return read_mlflow_run(path)
    if kind == "wandb":
        from .wandb import read_wandb_run

        return read_wandb_run(path)
    if kind == "text":
        from .textlog import read_text_log

        return read_text_log(path)
    if kind == "sacred":
        from .sacred import read_sacred_metrics

        return read_sacred_metrics(path, src.cached.get(path))
    if kind == "tb_csv":
        from .tbcsv import read_tb_csv

        return read_tb_csv(path)
    from .detect import why_not_a_log

    raise LogReadError(path, why_not_a_log(path))


def _extra_hparams(root: Path) -> tuple[dict[str, Any], list[str]]:
    """hparams.yaml / hparams.json beside a run (Lightning and the harness write them)."""
    if not root.is_dir():
        return {}, []
    for name in HPARAM_FILES:
        p = root / name
        if p.is_file():
            if name.endswith(".json"):
                from .keras import load_json

                try:
                    obj = load_json(p)
                except LogReadError as exc:
                    return {}, [f"{name}: {exc.reason}"]
                if isinstance(obj, dict):
                    return {str(k): v for k, v in obj.items() if isinstance(v, (int, float, str, bool)) or v is None}, []
                return {}, []
            from .lightning import read_hparams_yaml

            return read_hparams_yaml(p)
    return {}, []


def read_source(src: RunSource, allow_pickle: bool = False) -> tuple[list[RunData], list[ReadError]]:
    """Read every part of one run; unreadable parts become errors (one part's failure,
    whatever it is, costs that part only)."""
    datas: list[RunData] = []
    errors: list[ReadError] = []
    events = [p for k, p in src.parts if k == "tfevents"]
    jobs: list[tuple[str, Path | None]] = ([("tfevents", None)] if events else []) + [
        (k, p) for k, p in src.parts if k != "tfevents"
    ]
    for kind, path in jobs:
        where = src.root if path is None else path
        try:
            with file_budget(where):
                if kind == "tfevents":
                    from .tfevents import read_tfevents_run

                    got = read_tfevents_run(src.root, events)
                else:
                    got = _read_part(kind, path, src, allow_pickle)
            datas.extend(got if isinstance(got, list) else [got])
        except LogReadError as exc:
            errors.append(ReadError(exc.path, exc.reason))
        except MemoryError:
            errors.append(ReadError(str(where), "out of memory while reading"))
        except RecursionError:
            errors.append(ReadError(str(where), "nested too deeply to read"))
        except Exception as exc:  # a reader bug must not cost the other runs
            errors.append(ReadError(str(where), _internal(exc)))
    return datas, errors


def _epochs_from_epoch_tag(frame: pl.DataFrame) -> pl.DataFrame:
    """Lightning logs the epoch as a scalar named ``epoch`` in TensorBoard (with every
    logging call; other loggers once, at the epoch's end); use it to fill the epoch column
    when the log has none: a step belongs to the epoch logged next at or after it."""
    if frame["epoch"].null_count() < frame.height:
        return frame
    ep = frame.filter(pl.col("tag") == "epoch").select("step", pl.col("value").alias("_ep"))
    if ep.height == 0:
        return frame
    ep = ep.filter(pl.col("_ep").is_finite()).unique("step", keep="last").sort("step")
    if ep.height == 0:
        return frame
    out = frame.with_row_index("_i").sort("step").join_asof(ep, on="step", strategy="forward")
    out = out.with_columns(pl.col("_ep").fill_null(ep["_ep"][-1]))
    return out.sort("_i").with_columns(pl.col("_ep").alias("epoch")).drop("_i", "_ep")


def _run_name(src: RunSource, logdir: Path) -> str:
    if src.root == logdir:
        return path_display(logdir.name or str(logdir))
    return path_display(src.root.relative_to(logdir).as_posix())


def _assemble_run(
    name: str,
    src: RunSource,
    datas: list[RunData],
    extra_hparams: dict[str, Any],
    extra_warnings: list[str],
    errors: list[ReadError],
) -> tuple[RunInfo | None, pl.DataFrame]:
    """One run's RunInfo and scalar rows from what its readers returned."""
    hparams: dict[str, Any] = dict(extra_hparams)
    warnings: list[str] = list(extra_warnings)
    for d in datas:
        hparams.update(d.hparams)
        warnings += d.warnings
    frame = pl.concat([d.frame for d in datas], how="vertical") if len(datas) > 1 else datas[0].frame
    if frame.height == 0:
        where = path_display(src.root) + (name[name.index("#"):] if "#" in name else "")
        errors.append(ReadError(where, "no scalar values found"))
        return None, frame
    frame = _epochs_from_epoch_tag(frame)
    counts = frame.group_by("tag").len()
    mapping = resolve_metrics(dict(zip(counts["tag"].to_list(), counts["len"].to_list())))
    # Rows sorted by tag, keeping the written order within a tag (a stable sort on
    # the tag's rank: far cheaper than sorting millions of strings).
    rank = {t: i for i, t in enumerate(sorted(mapping))}
    source = "+".join(sorted({d.source for d in datas}))
    ranks = frame["tag"].replace_strict(rank, return_dtype=pl.UInt32)
    r = ranks.to_numpy()
    if len(r) > 1 and np.any(r[1:] < r[:-1]):
        # Only when needed: sorting copies the whole run (a log of a million epochs, in
        # CSV column order, is in tag order already).
        frame = frame.gather(pl.Series(np.argsort(r, kind="stable")))
    frame = frame.with_columns(
        pl.lit(name, dtype=pl.String).alias("run"),
        pl.lit(source, dtype=pl.String).alias("source"),
        pl.col("tag").replace_strict(mapping, return_dtype=pl.String).alias("metric"),
    ).select(list(SCALARS_SCHEMA))
    files = sorted({f for d in datas for f in d.files})
    info = RunInfo(
        run=name,
        source=source,
        path=path_display(src.root),
        files=[path_display(f) for f in files],
        hparams=flat_hparams(hparams),
        metrics=sorted(set(mapping.values())),
        points=frame.height,
        warnings=warnings,
    )
    return info, frame


@dataclass
class SourceRead:
    """What one source (see :func:`~.detect.discover`) gave: its runs, errors and file notes."""

    runs: list[tuple[str, RunInfo, pl.DataFrame]] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)


def read_one(src: RunSource, logdir: Path, allow_pickle: bool, limits: ReadLimits) -> SourceRead:
    """Read one source into its runs, within ``limits``; never raises for content. What
    :func:`load` does for each source, and what a worker does in ``lrreport.pipeline``."""
    out = SourceRead()
    try:
        with using_limits(limits), collecting_links() as links:
            datas, errs = read_source(src, allow_pickle)
            extra, extra_warnings = ({}, [])
            if datas and not src.single_file:
                try:
                    extra, extra_warnings = _extra_hparams(src.root)
                except Exception as exc:
                    extra_warnings = [f"hyperparameters not read: {_internal(exc)}"]
    except Exception as exc:
        out.errors.append(ReadError(str(src.root), _internal(exc)))
        return out
    out.errors.extend(errs)
    if not datas:
        return out
    base = _run_name(src, logdir)
    link_notes = [
        FileNote(p, "link", f"read through a link leaving the logdir (to {real})") for p, real in dict(links).items()
    ]
    link_warnings = [f"{Path(n.path).name}: {n.detail}" for n in link_notes]
    # One file may hold several runs (appended fits, a model column): each
    # suffix is a run of its own; parts without one make up the folder's run.
    by_suffix: dict[str, list[RunData]] = {}
    for d in datas:
        by_suffix.setdefault(d.run_suffix, []).append(d)
    for suffix in sorted(by_suffix):
        name = f"{base}#{safe_text(suffix)}" if suffix else base
        group = by_suffix[suffix]
        try:
            info, frame = _assemble_run(name, src, group, extra, extra_warnings + list(src.notes) + link_warnings, out.errors)
        except Exception as exc:
            out.errors.append(ReadError(path_display(src.root), _internal(exc)))
            continue
        if info is None:
            continue
        out.runs.append((name, info, frame))
        run_notes = [n for d in group for n in d.notes] + list(src.file_notes) + link_notes
        for n in dict.fromkeys(run_notes):
            out.notes.append(FileNote(path_display(n.path), n.kind, safe_text(n.detail), name))
    return out


def start_reading(
    path: str | os.PathLike,
    allow_pickle: bool = False,
    max_file_bytes: int | None = None,
    max_seconds: float | None = None,
) -> tuple[Path, ReadLimits, list[RunSource], list[ReadError], list[FileNote]]:
    """Resolve ``path``, set the read limits and discover its sources: (logdir, limits,
    sources, discovery errors, discovery notes). Raises only for the path itself."""
    logdir = Path(path)
    if not logdir.exists() and not logdir.is_symlink():
        raise FileNotFoundError(f"{path}: no such file or directory")
    logdir = logdir.resolve() if not logdir.is_absolute() else logdir
    limits = ReadLimits(
        max_file_bytes=max_file_bytes,
        max_seconds=ReadLimits.max_seconds if max_seconds is None else float(max_seconds),
        root=os.path.realpath(logdir) if logdir.is_dir() else None,
    )
    found = Found()
    with using_limits(limits):
        try:
            sources = discover(logdir, allow_pickle, found)
        except Exception as exc:  # discovery guards each file; this is the last line of defence
            found.errors.append(ReadError(str(logdir), _internal(exc)))
            sources = []
    return logdir, limits, sources, list(found.errors), list(found.notes)


def finish_reading(errors: list[ReadError], notes: list[FileNote]) -> tuple[list[ReadError], list[FileNote]]:
    """Errors and notes as every output shows them: printable, one each, in a fixed order."""
    errors = sorted({ReadError(path_display(e.path), safe_text(e.error)) for e in errors}, key=lambda e: (e.path, e.error))
    return errors, sorted(notes, key=lambda n: (n.path, n.kind, n.run or ""))


def load(
    path: str | os.PathLike,
    *,
    allow_pickle: bool = False,
    workers: int | None = None,
    progress: bool | None = None,
    on_run: Callable[[str], None] | None = None,
    max_file_bytes: int | None = None,
    max_seconds: float | None = None,
) -> RunSet:
    """Read every training log under ``path`` (a folder or one file) into a RunSet.

    ``allow_pickle`` lets pickled Keras histories be read (unpickling runs code).
    ``workers`` threads read runs in parallel (the event-file parser releases
    the GIL); default: the number of CPUs. ``progress`` shows a bar on stderr
    (default: when reading 20+ runs on a terminal outside CI).
    ``max_file_bytes`` caps the size of every log file read (default: a cap per
    format, 2 GiB for event files; see :data:`lrreport.ingest.files.DEFAULT_CAPS`);
    ``max_seconds`` bounds the time spent on one run's files (default 300 s).
    A larger file, or a slower one, is an entry of ``RunSet.errors`` that says so.
    ``path`` may also be an fsspec URL (``s3://``, ``gs://``, ``az://``, ``memory://``):
    see :mod:`lrreport.remote`.

    Raises only for the path itself (FileNotFoundError); what is in the files never
    raises: see the module docstring.
    """
    from ..remote import is_url, mirror, to_url

    if is_url(path):
        # Object storage (s3://, gs://, az://, memory://): an up-to-date local mirror, read
        # like any folder; the RunSet names the URL.
        local, _ = mirror(str(path))
        rs = load(local, allow_pickle=allow_pickle, workers=workers, progress=progress, on_run=on_run,
                  max_file_bytes=max_file_bytes, max_seconds=max_seconds)
        rs.logdir = str(path)
        for info in rs.runs.values():
            info.path = to_url(info.path, local, str(path))
            info.files = [to_url(f, local, str(path)) for f in info.files]
        rs.errors = [ReadError(to_url(e.path, local, str(path)), e.error) for e in rs.errors]
        return rs
    logdir, limits, sources, errors, notes = start_reading(path, allow_pickle, max_file_bytes, max_seconds)
    runs: dict[str, RunInfo] = {}
    frames: dict[str, pl.DataFrame] = {}

    workers = workers or min(8, os.cpu_count() or 1)
    bar = progress_bar(len(sources), "reading runs", progress)

    def job(src: RunSource) -> SourceRead:
        return read_one(src, logdir, allow_pickle, limits)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        if workers > 1 and len(sources) > 1:
            # Each thread reads within this call's limits (a context per task: one
            # Context cannot be entered by two threads at once).
            ctx = contextvars.copy_context()
            results = [f.result() for f in [pool.submit(ctx.copy().run, job, s) for s in sources]]
            if bar is not None:
                bar.update(len(sources))
        else:
            results = []
            for src in sources:
                results.append(job(src))
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()

    for got in results:
        errors.extend(got.errors)
        notes.extend(got.notes)
        for name, info, frame in got.runs:
            if on_run is not None:
                on_run(name)
            frames[name] = frame
            runs[name] = info

    order = sorted(runs)
    runs = {k: runs[k] for k in order}
    if frames:
        scalars = pl.concat([frames[k] for k in order], how="vertical", rechunk=False)
    else:
        scalars = pl.DataFrame(schema=SCALARS_SCHEMA)
    errors, notes = finish_reading(errors, notes)
    return RunSet(path_display(path), scalars, runs, errors, notes)
