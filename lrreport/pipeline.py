"""The CLI's path through many runs: each run read and analysed on its own, only its summary kept.

``lrreport.load`` + ``lrreport.analyze`` keep every point of every run in one
process, which is what a notebook wants. A sweep of a thousand runs does not
fit that way, so :func:`analyze_logdir` works source by source: the tree is
walked once here (:func:`lrreport.ingest.detect.discover`), then each source
(a run folder, or a file holding one or more runs) is read, analysed and
summarised (:func:`lrreport.analyze.summary.summarize_run`) in a worker, and
only the summary comes back: findings, the sweep profile, the trace and the
series downsampled for drawing. Memory grows with the number of runs only by
those summaries. The sweeps and verdicts are then made from the summaries
alone, and the outputs are the same, byte for byte, as from ``load`` +
``analyze``.

Workers are local processes (``workers``, default: one per core) or the
workers of a Dask cluster (``dask``: a scheduler address such as
``tcp://10.0.0.5:8786``, or a ``distributed.Client``): an existing engine, not
a home-made one. On a cluster the workers must reach the logs at the same
paths (a shared file system, or URLs every worker can open); what travels over
the network is each source's description (paths) one way and its summary
(kilobytes) the other, never the raw points.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from .analyze.analysis import Analysis
from .analyze.config import Config
from .analyze.summary import COMPACT_ABOVE
from .cache import SummaryCache, fingerprint
from .remote import is_url, mirror, to_url
from .ingest import finish_reading, start_reading
from .ingest.detect import RunSource
from .ingest.files import ReadLimits, path_display
from .progress import progress_bar
from .runs import ReadError

__all__ = ["DASK_ENV", "analyze_logdir", "inventory", "process_source"]

#: The environment variable naming a Dask scheduler when ``--dask`` is not given.
DASK_ENV = "LRREPORT_DASK_ADDRESS"
#: Below this many sources, or this many bytes of logs, starting worker processes (a second
#: or two each, importing polars, numba and the readers) costs more than it saves.
MIN_SOURCES_FOR_PROCESSES = 8
MIN_BYTES_FOR_PROCESSES = 32 << 20


def process_source(
    src: RunSource, logdir: str, config: Config, allow_pickle: bool, compact: bool, limits: ReadLimits | None = None
) -> tuple[list, list[ReadError], list]:
    """Read one source and summarise each run it holds: (summaries, read errors, file notes).
    What a worker runs; it never raises for a file's content (a failure is a ReadError)."""
    import numpy as np

    from .analyze.summary import summarize_run
    from .ingest import read_one
    from .runs import RunSet

    got = read_one(src, Path(logdir), allow_pickle, limits or ReadLimits(root=logdir))
    errors = list(got.errors)
    summaries = []
    for name, info, frame in got.runs:
        rs = RunSet(logdir, frame, {name: info}, [])
        try:
            with np.errstate(all="ignore"):
                summaries.append(summarize_run(rs, name, config, compact=compact))
        except Exception as exc:  # an analysis bug must cost only this run
            errors.append(ReadError(str(info.path), f"could not be analysed ({type(exc).__name__}: {exc})".splitlines()[0]))
    return summaries, errors, got.notes


def _portable(src: RunSource) -> RunSource:
    """The source without parsed JSON kept from discovery: a worker re-reads the file rather
    than receiving a possibly large object over a pipe or the network."""
    return replace(src, cached={})


def _input_bytes(sources: list[RunSource]) -> int:
    """About how many bytes the sources hold (a folder part, as MLflow's, by its files)."""
    total = 0
    for src in sources:
        for _, part in src.parts:
            try:
                if part.is_dir():
                    total += sum(f.stat().st_size for f in part.rglob("*") if f.is_file())
                else:
                    total += part.stat().st_size
            except OSError:
                continue
    return total


def _local(jobs: list[RunSource], args: tuple, workers: int, tick: Callable[[], None]) -> Iterable[tuple]:
    if workers <= 1 or len(jobs) < MIN_SOURCES_FOR_PROCESSES or _input_bytes(jobs) < MIN_BYTES_FOR_PROCESSES:
        for src in jobs:
            yield process_source(src, *args)
            tick()
        return
    import multiprocessing as mp

    # Spawned, not forked: polars and numba hold threads that a fork would copy half-alive.
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(process_source, _portable(src), *args) for src in jobs]
        for fut in futures:
            yield fut.result()
            tick()


def _dask(jobs: list[RunSource], args: tuple, address: Any, tick: Callable[[], None]) -> Iterable[tuple]:
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError(
            "--dask needs the distributed package: pip install 'lrreport[dask]'"
        ) from None
    client = address if isinstance(address, Client) else Client(address)
    try:
        futures = client.map(process_source, [_portable(s) for s in jobs], *[[a] * len(jobs) for a in args], pure=False)
        for fut in futures:
            yield fut.result()
            tick()
    finally:
        if client is not address:
            client.close()


def analyze_logdir(
    path: str | os.PathLike,
    *,
    config: Config | None = None,
    workers: int | None = None,
    dask: Any = None,
    allow_pickle: bool = False,
    progress: bool | None = None,
    cache: SummaryCache | None = None,
    stats: dict[str, int] | None = None,
    max_file_bytes: int | None = None,
    max_seconds: float | None = None,
) -> Analysis:
    """Read and analyse every run under ``path`` one source at a time (see the module
    docstring); the same Analysis as ``analyze(load(path))``, without holding the points.
    With a ``cache`` (:class:`lrreport.cache.SummaryCache`), sources whose files did not
    change are not read again. ``stats`` (a dict) receives how many sources were read and
    how many came from the cache."""
    from .analyze import combine_summaries

    config = config or Config()
    if is_url(path):
        # Object storage: read through an up-to-date local mirror; outputs name the URL.
        local, _ = mirror(str(path))
        a = analyze_logdir(local, config=config, workers=workers, dask=dask, allow_pickle=allow_pickle,
                           progress=progress, cache=cache, stats=stats, max_file_bytes=max_file_bytes,
                           max_seconds=max_seconds)
        return _as_url(a, local, str(path))
    logdir, limits, sources, errors, notes = start_reading(path, allow_pickle, max_file_bytes, max_seconds)
    compact = len(sources) > COMPACT_ABOVE
    args = (str(logdir), config, allow_pickle, compact, limits)

    keys: list[str | None] = [None] * len(sources)
    done: list[tuple | None] = [None] * len(sources)
    if cache is not None and cache.enabled:
        settings = f"{config!r}\0{allow_pickle}\0{compact}\0{logdir}\0{limits!r}"
        for i, src in enumerate(sources):
            keys[i] = fingerprint(src, settings)
            done[i] = cache.get(keys[i])
    todo = [i for i, d in enumerate(done) if d is None]
    bar = progress_bar(len(todo), "reading and analysing runs", progress)

    def tick() -> None:
        if bar is not None:
            bar.update(1)

    address = dask if dask is not None else os.environ.get(DASK_ENV) or None
    jobs = [sources[i] for i in todo]
    if address:
        results = _dask(jobs, args, address, tick)
    else:
        results = _local(jobs, args, workers or os.cpu_count() or 1, tick)
    try:
        for i, result in zip(todo, results):
            done[i] = result
            if cache is not None and keys[i] is not None:
                cache.put(keys[i], result)
    finally:
        if bar is not None:
            bar.close()
    if stats is not None:
        stats.update({"sources": len(sources), "read": len(todo), "cached": len(sources) - len(todo)})
    summaries: dict[str, Any] = {}
    for got, errs, found_notes in done:
        errors.extend(errs)
        notes.extend(found_notes)
        for s in got:
            summaries[s.info.run] = s
    errors, notes = finish_reading(errors, notes)
    return combine_summaries(path_display(path), summaries, errors, config, notes)


def _as_url(a: Analysis, local: Path, url: str) -> Analysis:
    """The analysis of a mirror, naming the URL it mirrors (logdir, file paths, errors)."""
    from .runs import ReadError

    rs = a.runset
    rs.logdir = url
    for info in rs.runs.values():
        info.path = to_url(info.path, local, url)
        info.files = [to_url(f, local, url) for f in info.files]
    rs.errors = [ReadError(to_url(e.path, local, url), e.error) for e in rs.errors]
    return a


def inventory(
    path: str | os.PathLike,
    *,
    workers: int | None = None,
    allow_pickle: bool = False,
    progress: bool | None = None,
    max_file_bytes: int | None = None,
    max_seconds: float | None = None,
):
    """The runs under ``path`` with their metadata (format, metrics, points, warnings) and the
    files that could not be read, as a RunSet without points: what ``lrreport ls`` lists,
    read source by source so a thousand runs never sit in memory together."""
    from .runs import SCALARS_SCHEMA, RunSet
    import polars as pl

    if is_url(path):
        local, _ = mirror(str(path))
        rs = inventory(local, workers=workers, allow_pickle=allow_pickle, progress=progress,
                       max_file_bytes=max_file_bytes, max_seconds=max_seconds)
        rs.logdir = str(path)
        for info in rs.runs.values():
            info.path = to_url(info.path, local, str(path))
            info.files = [to_url(f, local, str(path)) for f in info.files]
        rs.errors = [ReadError(to_url(e.path, local, str(path)), e.error) for e in rs.errors]
        return rs
    from concurrent.futures import ThreadPoolExecutor
    import contextvars

    from .ingest import read_one

    logdir, limits, sources, errors, notes = start_reading(path, allow_pickle, max_file_bytes, max_seconds)
    bar = progress_bar(len(sources), "reading runs", progress)
    infos = {}
    ctx = contextvars.copy_context()
    # Threads: the event-file parser releases the GIL, and a thread's runs are let go at once.
    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        futures = [pool.submit(ctx.copy().run, read_one, s, logdir, allow_pickle, limits) for s in sources]
        for fut in futures:
            got = fut.result()
            errors.extend(got.errors)
            notes.extend(got.notes)
            for name, info, _ in got.runs:
                infos[name] = info
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    runs = {k: infos[k] for k in sorted(infos)}
    errors, notes = finish_reading(errors, notes)
    return RunSet(path_display(path), pl.DataFrame(schema=SCALARS_SCHEMA), runs, errors, notes)
