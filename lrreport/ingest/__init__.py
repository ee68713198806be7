"""Ingest: find every run under a path, read it with its format's reader, and
gather all scalars into one :class:`~lrreport.runs.RunSet`.

Readers are chosen by :mod:`lrreport.ingest.detect`; each format has its own
module. A run that cannot be read becomes an entry in ``RunSet.errors`` with a
one-line reason, and the other runs are read all the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from ..metrics import resolve_metrics
from ..progress import progress_bar
from ..runs import SCALARS_SCHEMA, ReadError, RunInfo, RunSet
from .base import LogReadError, RunData
from .detect import RunSource, discover

__all__ = ["LogReadError", "assemble_runs", "load", "read_runs", "read_source"]

HPARAM_FILES = ("hparams.yaml", "hparams.yml", "hparams.json")


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
    """Read every part of one run; unreadable parts become errors."""
    datas: list[RunData] = []
    errors: list[ReadError] = []
    events = [p for k, p in src.parts if k == "tfevents"]
    if events:
        from .tfevents import read_tfevents_run

        try:
            datas.append(read_tfevents_run(src.root, events))
        except LogReadError as exc:
            errors.append(ReadError(exc.path, exc.reason))
    for kind, path in src.parts:
        if kind == "tfevents":
            continue
        try:
            got = _read_part(kind, path, src, allow_pickle)
            datas.extend(got if isinstance(got, list) else [got])
        except LogReadError as exc:
            errors.append(ReadError(exc.path, exc.reason))
        except MemoryError:
            errors.append(ReadError(str(path), "out of memory while reading"))
        except Exception as exc:  # a reader bug must not cost the other runs
            errors.append(ReadError(str(path), f"unexpected {type(exc).__name__}: {exc}".splitlines()[0]))
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
        return logdir.name or str(logdir)
    rel = src.root.relative_to(logdir).as_posix()
    return rel


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
        where = str(src.root) + (name[name.index("#"):] if "#" in name else "")
        errors.append(ReadError(where, "no scalar values found"))
        return None, frame
    frame = _epochs_from_epoch_tag(frame)
    counts = frame.group_by("tag").len()
    mapping = resolve_metrics(dict(zip(counts["tag"].to_list(), counts["len"].to_list())))
    # Rows sorted by tag, keeping the written order within a tag (a stable sort on
    # the tag's rank: far cheaper than sorting millions of strings).
    rank = {t: i for i, t in enumerate(sorted(mapping))}
    source = "+".join(sorted({d.source for d in datas}))
    frame = (
        frame.with_columns(
            pl.lit(name, dtype=pl.String).alias("run"),
            pl.lit(source, dtype=pl.String).alias("source"),
            pl.col("tag").replace_strict(mapping, return_dtype=pl.String).alias("metric"),
            pl.col("tag").replace_strict(rank, return_dtype=pl.UInt32).alias("_rank"),
        )
        .sort("_rank", maintain_order=True)
        .select(list(SCALARS_SCHEMA))
    )
    files = sorted({f for d in datas for f in d.files})
    info = RunInfo(
        run=name,
        source=source,
        path=str(src.root),
        files=files,
        hparams=hparams,
        metrics=sorted(set(mapping.values())),
        points=frame.height,
        warnings=warnings,
    )
    return info, frame


def assemble_runs(
    src: RunSource, datas: list[RunData], logdir: Path, errors: list[ReadError]
) -> list[tuple[str, RunInfo, pl.DataFrame]]:
    """The runs one source holds, named relative to ``logdir``: (name, RunInfo, rows). One
    file may hold several runs (appended fits, a model column): each suffix is a run of its
    own; parts without one make up the folder's run. Runs with no values become errors."""
    if not datas:
        return []
    base = _run_name(src, logdir)
    extra, extra_warnings = _extra_hparams(src.root) if not src.single_file else ({}, [])
    by_suffix: dict[str, list[RunData]] = {}
    for d in datas:
        by_suffix.setdefault(d.run_suffix, []).append(d)
    out = []
    for suffix in sorted(by_suffix):
        name = f"{base}#{suffix}" if suffix else base
        info, frame = _assemble_run(name, src, by_suffix[suffix], extra, extra_warnings + list(src.notes), errors)
        if info is not None:
            out.append((name, info, frame))
    return out


def read_runs(
    src: RunSource, logdir: Path, allow_pickle: bool = False
) -> tuple[list[tuple[str, RunInfo, pl.DataFrame]], list[ReadError]]:
    """Read one source found by :func:`~.detect.discover` into its runs: what a worker does
    for one source when runs are read in parallel."""
    datas, errors = read_source(src, allow_pickle)
    return assemble_runs(src, datas, logdir, errors), errors


def load(
    path: str | os.PathLike,
    *,
    allow_pickle: bool = False,
    workers: int | None = None,
    progress: bool | None = None,
    on_run: Callable[[str], None] | None = None,
) -> RunSet:
    """Read every training log under ``path`` (a folder or one file) into a RunSet.

    ``allow_pickle`` lets pickled Keras histories be read (unpickling runs code).
    ``workers`` threads read runs in parallel (the event-file parser releases
    the GIL); default: the number of CPUs. ``progress`` shows a bar on stderr
    (default: when reading 20+ runs on a terminal outside CI).
    """
    from ..remote import is_url, mirror, to_url

    if is_url(path):
        # Object storage (s3://, gs://, az://, memory://): an up-to-date local mirror, read
        # like any folder; the RunSet names the URL.
        local, _ = mirror(str(path))
        rs = load(local, allow_pickle=allow_pickle, workers=workers, progress=progress, on_run=on_run)
        rs.logdir = str(path)
        for info in rs.runs.values():
            info.path = to_url(info.path, local, str(path))
            info.files = [to_url(f, local, str(path)) for f in info.files]
        rs.errors = [ReadError(to_url(e.path, local, str(path)), e.error) for e in rs.errors]
        return rs
    logdir = Path(path)
    if not logdir.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    logdir = logdir.resolve() if not logdir.is_absolute() else logdir
    sources = discover(logdir, allow_pickle)
    errors: list[ReadError] = []
    runs: dict[str, RunInfo] = {}
    frames: dict[str, pl.DataFrame] = {}

    workers = workers or min(8, os.cpu_count() or 1)
    bar = progress_bar(len(sources), "reading runs", progress)

    def job(src: RunSource):
        return src, read_source(src, allow_pickle)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(job, sources)) if workers > 1 and len(sources) > 1 else None
        if results is None:
            results = []
            for src in sources:
                results.append(job(src))
                if bar is not None:
                    bar.update(1)
        elif bar is not None:
            bar.update(len(sources))
    if bar is not None:
        bar.close()

    for src, (datas, errs) in results:
        errors.extend(errs)
        for name, info, frame in assemble_runs(src, datas, logdir, errors):
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
    errors.sort(key=lambda e: e.path)
    return RunSet(str(path), scalars, runs, errors)
