"""Read TensorBoard event files (``events.out.tfevents.*``): every scalar, fast, through damage.

What it reads: the TFRecord framing of each file and the ``tensorboard.Event``
protos inside (``tensorboard/compat/proto/event.proto``). Kept as scalars:
``Summary.Value.simple_value`` (TF1, PyTorch's SummaryWriter, Lightning) and
one-element ``TensorProto`` values of dtype float32/float64/half/bfloat16/
int32/int64 (TF2 ``tf.summary.scalar``, Keras' TensorBoard callback), from
``*_val`` fields or little-endian ``tensor_content``. Images, histograms, audio,
text, pr_curves, graphs and run metadata are skipped. NaN and +/-Inf are kept.
Hyperparameters come from the hparams plugin's ``_hparams_/session_start_info``
(what ``SummaryWriter.add_hparams`` and Lightning write).

Every point is kept. TensorBoard's ``EventAccumulator`` keeps a reservoir
sample of 10,000 scalars per tag by default (``size_guidance``), and it,
``tbparse`` and TensorBoard's loaders stop at the first damaged record of a
file, silently dropping everything after it. Here a record whose data CRC
fails, or whose proto is malformed, is skipped and counted; a bad length
header is resynchronised over (scan for the next header whose length CRC is
valid and whose length fits the file); a truncated tail (a file still being
written) keeps every complete record. Only a file with no readable record at
all raises :class:`~lrreport.ingest.base.LogReadError`.

Restarts follow TensorBoard's "later data wins" (``EventAccumulator._Purge``),
which purges only on a restart of the same run: a SessionLog START at step s
drops the points logged before it, in its folder, with step >= s. A new event
file written by the same process as the folder's previous file (the host and
pid in its name) that begins above the folder's first step, inside the steps
already logged, is that process resuming from a checkpoint, and counts as a
restart at its first step. Everything else is kept, as TensorBoard keeps it for
today's (``brain.Event:2``) files: a step that goes back without a restart, and
the files of several runs (several processes) written into one folder, whose
repeated steps a warning names. (TensorBoard's backwards-step purge applies
only to ``brain.Event:1`` files, from before 2017.)

Speed: the framing, CRC-32C and protobuf wire format are walked over the
file's bytes by one of two readers with the same results (:mod:`._scan`
picks): in Python and numpy (:mod:`._tfrecord_py`) for a process's first
8 MB of event files, which costs nothing to start, and by a numba kernel
(:mod:`._tfrecord`) after that, which releases the GIL, so
:func:`read_event_files` reads files in parallel threads. The kernel is
compiled on the first large input after an install (10-25 s on 2 cores) and
cached on disk for later processes.
"""

from __future__ import annotations

import contextvars
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..runs import FileNote
from ._scan import (
    STAT_CORRUPT,
    STAT_MALFORMED,
    STAT_RECORDS,
    STAT_SKIPPED_BYTES,
    STAT_TRUNCATED,
    purge_superseded,
    scan_events,
)
from .base import FRAME_SCHEMA, LogReadError, RunData
from .files import read_array
from .numbers import MAX_STEP

__all__ = ["EventFile", "is_event_file", "read_event_file", "read_event_files", "read_tfevents_run"]

HPARAMS_TAG_PREFIX = "_hparams_/"
SESSION_START_TAG = "_hparams_/session_start_info"
LFS_POINTER_PREFIX = b"version https://git-lfs"


@dataclass
class EventFile:
    """The scalars of one event file, as column arrays (one entry per point, in file order)."""

    path: str
    tags: list[str]  #: distinct tags; ``tag_index`` points into this list
    tag_index: np.ndarray  #: int32
    step: np.ndarray  #: int64
    wall_time: np.ndarray  #: float64, seconds since the epoch
    value: np.ndarray  #: float64
    hparams: dict[str, Any] = field(default_factory=dict)
    n_records: int = 0  #: records whose framing and CRCs are valid
    n_corrupt: int = 0  #: records (or damaged stretches) skipped
    truncated: bool = False  #: the file ends inside a record
    warnings: list[str] = field(default_factory=list)
    #: SessionLog START events: rows of (index of the next point, step)
    session_starts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __len__(self) -> int:
        return int(self.value.shape[0])


def is_event_file(path: Path) -> bool:
    """A TensorBoard event file by name (``*tfevents*``), excluding the profiler's empty markers."""
    name = Path(path).name
    return "tfevents" in name and not name.endswith(".profile-empty")


def _read_bytes(path: Path) -> np.ndarray:
    try:
        return read_array(path, "tfevents")
    except MemoryError:
        raise LogReadError(path, "cannot read: out of memory") from None


#: events.out.tfevents.<time>.<host>.<pid>[.<n>][.<suffix>]: who wrote the file.
_WRITER = re.compile(r"tfevents\.\d+(?:\.\d+)?\.(?P<host>.+?)\.(?P<pid>\d+)(?:\.\d+)*(?:\.[^.]*)?$")


def writer_of(path: Path) -> tuple[str, str] | None:
    """(host, pid) of the process that wrote an event file, from its name; None when the name does not say."""
    m = _WRITER.search(Path(path).name)
    return (m.group("host"), m.group("pid")) if m else None


def _hparams_from_value(raw: bytes) -> dict[str, Any]:
    """Hyperparameters from one serialized ``_hparams_/session_start_info`` Summary.Value (else {})."""
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        value = Summary.Value.FromString(raw)
        if value.tag != SESSION_START_TAG or value.metadata.plugin_data.plugin_name != "hparams":
            return {}
        data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
    except (DecodeError, ValueError, RuntimeError):
        return {}
    out: dict[str, Any] = {}
    for name, v in data.session_start_info.hparams.items():
        kind = v.WhichOneof("kind")
        if kind == "number_value":
            x = v.number_value
            out[name] = int(x) if x.is_integer() and abs(x) < 2**53 else x
        elif kind == "string_value":
            out[name] = v.string_value
        elif kind == "bool_value":
            out[name] = v.bool_value
    return out


def read_event_file(path: Path) -> EventFile:
    """Read every scalar of one event file; LogReadError only when nothing at all is readable."""
    path = Path(path)
    buf = _read_bytes(path)
    if buf.size == 0:
        raise LogReadError(path, "empty file (0 bytes): not a TensorBoard event file")
    if buf[: len(LFS_POINTER_PREFIX)].tobytes() == LFS_POINTER_PREFIX:
        raise LogReadError(path, "Git LFS pointer, not event data (run `git lfs pull`)")
    tag_id, step, wall, value, tag_off, tag_len, starts, specials, stats = scan_events(buf)
    n_records = int(stats[STAT_RECORDS])
    n_corrupt = int(stats[STAT_CORRUPT])
    truncated = bool(stats[STAT_TRUNCATED])
    if n_records == 0:
        reason = "not a TensorBoard event file: no valid record found"
        if truncated:
            reason = "not a TensorBoard event file: no complete record (the file ends inside its first one)"
        raise LogReadError(path, reason)
    n_malformed = int(stats[STAT_MALFORMED])
    if n_malformed == n_records:
        raise LogReadError(path, f"no readable event: all {n_records} records hold malformed data")

    tags = [
        buf[off : off + ln].tobytes().decode("utf-8", errors="replace")
        for off, ln in zip(tag_off.tolist(), tag_len.tolist())
    ]
    hparams: dict[str, Any] = {}
    for _, off, ln in specials.tolist():
        hparams.update(_hparams_from_value(buf[off : off + ln].tobytes()))

    warnings = []
    if truncated:
        warnings.append(
            f"{path.name}: last record truncated (file still being written?); kept {n_records} complete records"
        )
    if n_corrupt:
        extra = f", {int(stats[STAT_SKIPPED_BYTES])} bytes resynchronised over" if stats[STAT_SKIPPED_BYTES] else ""
        warnings.append(f"{path.name}: {n_corrupt} corrupt records skipped{extra}")
    return EventFile(
        path=str(path),
        tags=tags,
        tag_index=tag_id,
        step=step,
        wall_time=wall,
        value=value,
        hparams=hparams,
        n_records=n_records,
        n_corrupt=n_corrupt,
        truncated=truncated,
        warnings=warnings,
        session_starts=starts,
    )


def _read_or_error(path: Path) -> EventFile | LogReadError:
    try:
        return read_event_file(path)
    except LogReadError as exc:
        return exc
    except MemoryError:
        return LogReadError(path, "out of memory while reading")


def read_event_files(paths: list[Path], workers: int | None = None) -> list[EventFile | LogReadError]:
    """Read several event files in parallel threads; each result is an EventFile or the file's LogReadError."""
    paths = [Path(p) for p in paths]
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(paths)))
    if workers == 1:
        return [_read_or_error(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Each thread reads within the caller's limits (size cap, time budget).
        ctx = contextvars.copy_context()
        futures = [pool.submit(ctx.copy().run, _read_or_error, p) for p in paths]
        return [f.result() for f in futures]


def _subdir(run_dir: Path, path: Path) -> str:
    """The file's folder relative to the run ('' when directly in it), as a tag prefix stem."""
    try:
        rel = path.parent.relative_to(run_dir)
    except ValueError:
        return ""
    s = rel.as_posix()
    return "" if s == "." else s


def read_tfevents_run(run_dir: Path, files: list[Path], workers: int | None = None) -> RunData:
    """All event files of ONE run as a RunData; tags of files in subfolders get the subfolder as prefix."""
    run_dir = Path(run_dir)
    keyed = sorted(((_subdir(run_dir, Path(f)), Path(f).name, Path(f)) for f in files), key=lambda k: k[:2])
    results = read_event_files([k[2] for k in keyed], workers=workers)

    tag_ids: dict[str, int] = {}
    tag_stream: list[int] = []
    streams: dict[str, int] = {}
    parts_tag, parts_step, parts_wall, parts_value = [], [], [], []
    start_pos, start_step, start_stream = [], [], []
    hparams: dict[str, Any] = {}
    warnings: list[str] = []
    errors: list[str] = []
    read_files: list[str] = []
    notes: list[FileNote] = []
    #: per stream (sub-folder): (writer of its last file, first step, step range logged so far, that file)
    last_of: dict[int, tuple[tuple[str, str] | None, int, int, int, Path]] = {}
    offset = 0
    for (sub, _, path), res in zip(keyed, results):
        if isinstance(res, LogReadError):
            errors.append(f"{path.name}: {res.reason}")
            warnings.append(f"skipped unreadable event file {path}: {res.reason}")
            continue
        read_files.append(str(path))
        hparams.update(res.hparams)
        warnings.extend(res.warnings)
        if res.n_corrupt:
            notes.append(FileNote(str(path), "damaged", f"{res.n_corrupt} corrupt records skipped"))
        if res.truncated:
            notes.append(FileNote(str(path), "truncated", f"last record truncated (still being written?); kept {res.n_records} complete records"))
        k = streams.setdefault(sub, len(streams))
        prefix = f"{sub}/" if sub else ""
        remap = np.empty(len(res.tags), dtype=np.int32)
        for i, t in enumerate(res.tags):
            tid = tag_ids.setdefault(prefix + t, len(tag_ids))
            if tid == len(tag_stream):
                tag_stream.append(k)
            remap[i] = tid
        parts_tag.append(remap[res.tag_index] if len(res.tags) else res.tag_index)
        parts_step.append(res.step)
        parts_wall.append(res.wall_time)
        parts_value.append(res.value)
        if len(res.session_starts):
            start_pos.append(res.session_starts[:, 0] + offset)
            start_step.append(res.session_starts[:, 1])
            start_stream.append(np.full(len(res.session_starts), k, dtype=np.int64))
        if len(res):
            restart = _file_restart(path, res, last_of.get(k), warnings)
            if restart is not None:
                start_pos.append(np.array([offset], dtype=np.int64))
                start_step.append(np.array([restart], dtype=np.int64))
                start_stream.append(np.array([k], dtype=np.int64))
            prev = last_of.get(k)
            lo, hi = int(res.step.min()), int(res.step.max())
            if prev is not None:
                lo, hi = min(lo, prev[2]), max(hi, prev[3])
            first = prev[1] if prev is not None else int(res.step[0])
            last_of[k] = (writer_of(path), first, lo, hi, path)
        offset += len(res)
    if not read_files:
        raise LogReadError(run_dir, "no readable event file: " + "; ".join(errors))

    tag_index = np.concatenate(parts_tag) if parts_tag else np.zeros(0, np.int32)
    step = np.concatenate(parts_step) if parts_step else np.zeros(0, np.int64)
    wall = np.concatenate(parts_wall) if parts_wall else np.zeros(0, np.float64)
    value = np.concatenate(parts_value) if parts_value else np.zeros(0, np.float64)
    sp = np.concatenate(start_pos) if start_pos else np.zeros(0, np.int64)
    ss = np.concatenate(start_step) if start_step else np.zeros(0, np.int64)
    sk = np.concatenate(start_stream) if start_stream else np.zeros(0, np.int64)
    ts = np.asarray(tag_stream, dtype=np.int64) if tag_stream else np.zeros(1, np.int64)
    keep = purge_superseded(tag_index, step, ts, sp, ss, sk)
    n_dropped = int(keep.size - np.count_nonzero(keep))
    # A step beyond 2**62 is damage (a flipped bit in its varint): skipped and counted, so
    # nothing downstream computes with steps near the int64 limits.
    far = (step > MAX_STEP) | (step < -MAX_STEP)  # not np.abs: abs(-2**63) overflows
    if far.any():
        n_far = int(np.count_nonzero(far & keep))
        keep &= ~far
        if n_far:
            warnings.append(f"{n_far} points with a step beyond 2**62 skipped (damaged records?)")
            notes.append(FileNote(str(run_dir), "damaged", f"{n_far} points with a step beyond 2**62 skipped"))
    if not keep.all():
        tag_index, step, wall, value = tag_index[keep], step[keep], wall[keep], value[keep]
    if n_dropped:
        warnings.append(
            f"{n_dropped} points superseded by a restart (a restart event, or the same writer starting a new "
            "file at an earlier step; later data wins, as in TensorBoard)"
        )
    tag_names = pl.Series("tag", list(tag_ids), dtype=pl.String)
    frame = pl.DataFrame(
        {
            "tag": tag_names.gather(pl.Series(tag_index, dtype=pl.UInt32)),
            "step": pl.Series(step, dtype=pl.Int64),
            "wall_time": pl.Series(wall, dtype=pl.Float64),
            "value": pl.Series(value, dtype=pl.Float64),
        }
    )
    frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("epoch")).select(list(FRAME_SCHEMA))
    return RunData(source="tfevents", frame=frame, files=read_files, hparams=hparams, warnings=warnings, notes=notes)


def _file_restart(path: Path, res: EventFile, prev, warnings: list[str]) -> int | None:
    """The step at which a new file restarts its folder's run (its points from there on
    supersede the earlier files'), or None when it does not.

    TensorBoard purges only on a restart of the same run: a SessionLog START, handled in
    the file itself. A new file of the same writer process (the host and pid in its name)
    that begins above the folder's first step but below what was logged is that process
    resuming from a checkpoint: a restart. Any other file whose steps overlap the
    earlier ones (another process: a second, unrelated run writing to the same folder,
    or a resume we cannot tell from one) keeps every point, as TensorBoard does, and a
    warning says which steps are logged twice."""
    if prev is None:
        return None
    writer, first, lo, hi, prev_path = prev
    start = int(res.step[0])
    if start > hi or int(res.step.max()) < lo:
        return None  # continues where the earlier files stopped, or logs steps they never did
    me = writer_of(path)
    if me is not None and me == writer and start > first:
        return start
    overlap_hi = min(hi, int(res.step.max()))
    warnings.append(
        f"{path.name} logs steps {start}..{overlap_hi} again, already in {prev_path.name} (another run or a resume "
        "writing to the same folder, with no restart event): both kept, as TensorBoard shows them"
    )
    return None
