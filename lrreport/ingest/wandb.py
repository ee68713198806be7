"""Weights & Biases run folders: ``wandb/run-<time>-<id>/`` and ``wandb/offline-run-<time>-<id>/``.

What a run folder holds (seen from wandb 0.15-0.22, online and offline runs)::

    run-<id>.wandb            every record the SDK wrote: the full history, config, summary
    files/config.yaml         {key: {desc: ..., value: ...}} (``_wandb`` is W&B's own bookkeeping)
    files/wandb-summary.json  the last value of each key
    files/output.log          the console output
    files/wandb-metadata.json, requirements.txt, logs/debug*.log: not training signals

The history is read from ``run-<id>.wandb``. That file is a LevelDB-style log
(the framing of ``wandb/sdk/internal/datastore.py`` and its Go successor in
wandb-core): a 7-byte header (``:W&B``, magic ``0xBEE1``, version), then
32 KiB blocks of chunks, each with a 7-byte header (CRC-32 of type + payload,
little-endian length, type FULL/FIRST/MIDDLE/LAST) and the bytes of one
protobuf ``Record`` (``wandb/proto/wandb_internal.proto``). A small decoder of
the protobuf wire format reads the few messages needed here, by the field
numbers of that published schema (wandb is MIT-licensed; the numbers are
listed below and its licence text ships in ``lrreport/ingest/WANDB_LICENSE``):

    Record:        history=2, summary=3, config=5, run=17
    HistoryRecord: item=1 (HistoryItem), step=2 (HistoryStep: num=1)
    HistoryItem:   key=1, nested_key=2, value_json=16 (newer typed values: none=3,
                   boolean=4, integer=5 (sint64), number=6 (double), text=7, json=8)
    ConfigRecord:  update=1 (ConfigItem: key=1, nested_key=2, value_json=16)
    RunRecord:     run_id=1, project=3, config=4, run_group=6, display_name=8, sweep_id=12

No wandb install is needed. Damage is survived the way :mod:`~lrreport.ingest.tfevents`
survives it: a chunk whose CRC fails is skipped and the reader resynchronises
on the next chunk whose header and CRC check out; a truncated tail (a run
still writing, or killed) keeps every complete record; each is counted in the
run's warnings.

Each history row's keys become tags (``train/loss``, ``val/acc``, ``epoch``,
``lr``; nested keys joined with ``/``), at the row's ``_step``, with
``_timestamp`` as wall time. An ``epoch`` key fills the epoch column (as
Lightning's ``epoch`` scalar does in TensorBoard). Non-numeric values
(images, histograms, tables) are left out.

Hyperparameters come from ``files/config.yaml`` (else the config records of the
``.wandb`` file), flattened to dotted keys, plus ``wandb.run_id``,
``wandb.display_name``, ``wandb.project``, ``wandb.group`` and
``wandb.sweep_id`` where the run has them. When the ``.wandb`` file is absent
or holds no history, ``files/output.log`` is read as console text
(:mod:`lrreport.ingest.textlog`), and ``wandb-summary.json``'s last values are
added when that gives no loss; the run's warnings say so.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runs import FileNote
from .base import LogReadError, RunData, frame_from_columns
from .files import check_time, read_bytes
from .lightning import flatten_hparams
from .numbers import json_int, to_step, to_value
from .yamlload import read_yaml, refused_warning

__all__ = ["WandbFile", "is_wandb_run_dir", "read_wandb_file", "read_wandb_run"]

FILE_HEADER = struct.Struct("<4sHB")
IDENT, MAGIC = b":W&B", 0xBEE1
CHUNK_HEADER = struct.Struct("<IHB")
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
#: Row keys W&B adds to every history row: they place the row, they are not metrics.
ROW_KEYS = ("_step", "_runtime", "_timestamp")

# Field numbers of wandb_internal.proto (see the module docstring).
R_HISTORY, R_SUMMARY, R_CONFIG, R_RUN = 2, 3, 5, 17
H_ITEM, H_STEP = 1, 2
I_KEY, I_NESTED, I_NONE, I_BOOL, I_INT, I_NUMBER, I_TEXT, I_JSON, I_VALUE_JSON = 1, 2, 3, 4, 5, 6, 7, 8, 16
RUN_FIELDS = {1: "run_id", 3: "project", 6: "group", 8: "display_name", 12: "sweep_id"}
RUN_CONFIG = 4


def is_wandb_run_dir(d: Path, files: list[str]) -> bool:
    """A W&B run folder: it holds a ``run-<id>.wandb`` record log, or W&B's ``files/`` folder.
    (Any ``*.wandb`` name would make a stray file stop the walk of everything beside it.)"""
    if any(f.startswith("run-") and f.endswith(".wandb") for f in files):
        return True
    sub = d / "files"
    return (sub / "wandb-summary.json").is_file() or ((sub / "config.yaml").is_file() and (sub / "wandb-metadata.json").is_file())


# --- the protobuf wire format, just enough of it ---------------------------------------
class _Malformed(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Malformed
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of one message: ints for varints, bytes otherwise."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 1:
            if pos + 8 > n:
                raise _Malformed
            val, pos = buf[pos : pos + 8], pos + 8
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            if pos + ln > n:
                raise _Malformed
            val, pos = buf[pos : pos + ln], pos + ln
        elif wt == 5:
            if pos + 4 > n:
                raise _Malformed
            val, pos = buf[pos : pos + 4], pos + 4
        else:
            raise _Malformed
        yield num, wt, val


def _text(b: Any) -> str:
    return b.decode("utf-8", errors="replace") if isinstance(b, bytes) else ""


def _item(buf: bytes) -> tuple[str, Any, bool]:
    """(key, value, has_value) of a HistoryItem / ConfigItem / SummaryItem."""
    key = ""
    nested: list[str] = []
    value: Any = None
    has = False
    for num, wt, val in _fields(buf):
        if num == I_KEY and wt == 2:
            key = _text(val)
        elif num == I_NESTED and wt == 2:
            nested.append(_text(val))
        elif num == I_VALUE_JSON and wt == 2:
            try:
                value, has = json.loads(_text(val), parse_constant=_constant, parse_int=json_int), True
            except (ValueError, RecursionError):
                value, has = None, False
        elif num == I_NUMBER and wt == 1:
            value, has = struct.unpack("<d", val)[0], True
        elif num == I_INT and wt == 0:
            value, has = (val >> 1) ^ -(val & 1), True  # sint64 (zigzag)
        elif num == I_BOOL and wt == 0:
            value, has = bool(val), True
        elif num == I_TEXT and wt == 2:
            value, has = _text(val), True
        elif num == I_JSON and wt == 2:
            try:
                value, has = json.loads(_text(val), parse_constant=_constant, parse_int=json_int), True
            except (ValueError, RecursionError):
                pass
    return ("/".join(nested) if nested else key), value, has


def _constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


# --- the record log --------------------------------------------------------------------
@dataclass
class WandbFile:
    """What a ``.wandb`` file holds, as far as learning curves go."""

    rows: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)  #: (step, {key: value})
    config: dict[str, Any] = field(default_factory=dict)
    run: dict[str, str] = field(default_factory=dict)
    records: int = 0
    corrupt: int = 0  #: chunks whose CRC failed, or whose framing made no sense
    malformed: int = 0  #: records whose protobuf could not be decoded
    skipped_bytes: int = 0
    truncated: bool = False


def _chunks(data: bytes, out: WandbFile):
    """Yield each record's bytes, reassembling FIRST/MIDDLE/LAST chunks, surviving damage."""
    pos, n = FILE_HEADER.size, len(data)
    pending: bytearray | None = None
    while pos < n:
        left = BLOCK - (pos % BLOCK)
        if left < CHUNK_HEADER.size:
            pos += left  # the block's zero-filled trailer
            continue
        if pos + CHUNK_HEADER.size > n:
            out.truncated = True
            break
        crc, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        end = pos + CHUNK_HEADER.size + length
        if kind == 0 and length == 0 and crc == 0:
            pos += left  # preallocated, never written
            continue
        if end > n and 1 <= kind <= 4 and length <= left - CHUNK_HEADER.size:
            out.truncated = True  # the writer was cut off inside this chunk
            break
        ok = 1 <= kind <= 4 and length <= left - CHUNK_HEADER.size and end <= n
        if ok:
            payload = data[pos + CHUNK_HEADER.size : end]
            ok = zlib.crc32(payload, zlib.crc32(bytes([kind]))) == crc
        if not ok:
            out.corrupt += 1
            pending = None
            nxt = _resync(data, pos + 1)
            out.skipped_bytes += (nxt if nxt is not None else n) - pos
            if nxt is None:
                break
            pos = nxt
            continue
        pos = end
        if kind == FULL:
            if pending is not None:
                out.corrupt += 1  # a FIRST whose LAST never came
            pending = None
            yield payload
        elif kind == FIRST:
            if pending is not None:
                out.corrupt += 1
            pending = bytearray(payload)
        elif kind == MIDDLE:
            if pending is None:
                out.corrupt += 1
            else:
                pending += payload
        else:  # LAST
            if pending is None:
                out.corrupt += 1
            else:
                pending += payload
                yield bytes(pending)
                pending = None
    if pending is not None:
        out.truncated = True


def _resync(data: bytes, start: int) -> int | None:
    """The next position at or after ``start`` where a chunk header's CRC checks out."""
    n = len(data)
    pos = start
    while pos + CHUNK_HEADER.size <= n:
        if pos & 0xFFFF == 0:
            check_time()
        left = BLOCK - (pos % BLOCK)
        if left < CHUNK_HEADER.size:
            pos += left
            continue
        crc, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        end = pos + CHUNK_HEADER.size + length
        if 1 <= kind <= 4 and length <= left - CHUNK_HEADER.size and end <= n:
            if zlib.crc32(data[pos + CHUNK_HEADER.size : end], zlib.crc32(bytes([kind]))) == crc:
                return pos
        pos += 1
    return None


def _history(buf: bytes) -> tuple[int | None, dict[str, Any]]:
    row: dict[str, Any] = {}
    step = None
    for num, wt, val in _fields(buf):
        if num == H_ITEM and wt == 2:
            key, value, has = _item(val)
            if has and key:
                row[key] = value
        elif num == H_STEP and wt == 2:
            for n2, w2, v2 in _fields(val):
                if n2 == 1 and w2 == 0:
                    step = v2
    return step, row


def _config_items(buf: bytes, into: dict[str, Any]) -> None:
    for num, wt, val in _fields(buf):
        if num == 1 and wt == 2:
            key, value, has = _item(val)
            if has and key:
                into[key] = value


def read_wandb_file(path: Path) -> WandbFile:
    """Every history row, the config and the run's identity in one ``.wandb`` file."""
    data = read_bytes(path, "wandb")
    if len(data) < FILE_HEADER.size:
        raise LogReadError(path, "not a W&B record log (shorter than its header)")
    ident, magic, _version = FILE_HEADER.unpack_from(data, 0)
    if ident != IDENT or magic != MAGIC:
        raise LogReadError(path, "not a W&B record log (no ':W&B' header)")
    out = WandbFile()
    for rec in _chunks(data, out):
        out.records += 1
        try:
            for num, wt, val in _fields(rec):
                if wt != 2:
                    continue
                if num == R_HISTORY:
                    out.rows.append(_history(val))
                elif num == R_CONFIG:
                    _config_items(val, out.config)
                elif num == R_RUN:
                    for n2, w2, v2 in _fields(val):
                        if w2 != 2:
                            continue
                        if n2 in RUN_FIELDS and v2:
                            out.run[RUN_FIELDS[n2]] = _text(v2)
                        elif n2 == RUN_CONFIG:
                            _config_items(v2, out.config)
        except _Malformed:
            out.malformed += 1
    return out


# --- the run folder ----------------------------------------------------------------------
def _number(v: Any) -> float | None:
    if isinstance(v, (bool, int, float)):
        return to_value(v)
    return None


def rows_to_frame(rows: list[tuple[int | None, dict[str, Any]]]):
    tags: list[str] = []
    steps: list[int] = []
    walls: list[float | None] = []
    values: list[float] = []
    skipped: set[str] = set()
    bad_steps = 0
    for i, (hstep, row) in enumerate(rows):
        if i % 4096 == 0:
            check_time()
        raw = row.get("_step", hstep)
        step = to_step(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
        if step is None:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                bad_steps += 1  # NaN, Inf or beyond 2**62: the row is damaged
                continue
            step = i
        ts = row.get("_timestamp")
        wall = _number(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else None
        for key in sorted(k for k in row if isinstance(k, str)):
            if key in ROW_KEYS or key.startswith("_wandb"):
                continue
            v = _number(row[key])
            if v is None:
                skipped.add(key)
                continue
            tags.append(key)
            steps.append(step)
            walls.append(wall)
            values.append(v)
    if bad_steps:
        skipped.add(f"({bad_steps} rows with an unusable _step)")
    return frame_from_columns(tags, steps, values, wall_time=walls), sorted(skipped)


def _config_yaml(path: Path) -> tuple[dict[str, Any], list[str]]:
    """files/config.yaml: {key: {desc, value}}, or plain {key: value} from old SDKs."""
    refused: list[str] = []
    try:
        obj = read_yaml(path, refused)
    except LogReadError as exc:
        return {}, [f"{path.name}: hyperparameters not read ({exc.reason})"]
    if not isinstance(obj, dict):
        return {}, refused_warning(path.name, refused)
    return _plain_config(obj), refused_warning(path.name, refused)


def _plain_config(obj: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for k, v in obj.items():
        if not isinstance(k, str) or k.startswith("_wandb") or k == "wandb_version":
            continue
        if isinstance(v, dict) and "value" in v and set(v) <= {"value", "desc"}:
            v = v["value"]
        plain[k] = v
    return flatten_hparams(plain)


def _summary(path: Path) -> dict[str, Any]:
    from .keras import load_json

    try:
        obj = load_json(path)
    except LogReadError:
        return {}
    return obj if isinstance(obj, dict) else {}


def read_wandb_run(path: Path) -> list[RunData]:
    """One W&B run: its folder (or a lone ``.wandb`` file)."""
    if path.is_file():
        folder, binaries = path.parent, [path]
    else:
        folder = path
        binaries = sorted(p for p in folder.glob("*.wandb") if not p.is_dir())  # a FIFO is refused, and said, by the reader
    files_dir = folder / "files"
    hparams: dict[str, Any] = {}
    warnings: list[str] = []
    read_files: list[str] = []
    cfg = files_dir / "config.yaml"
    if cfg.is_file():
        hparams, w = _config_yaml(cfg)
        warnings += w
        read_files.append(str(cfg))

    frame = None
    notes: list[FileNote] = []
    unreadable: list[str] = []
    for b in binaries:
        try:
            wf = read_wandb_file(b)
        except LogReadError as exc:
            warnings.append(f"{b.name}: {exc.reason}")
            unreadable.append(str(b))
            continue
        read_files.append(str(b))
        if not hparams and wf.config:
            hparams = _plain_config(wf.config)
        for k in ("run_id", "display_name", "project", "group", "sweep_id"):
            if wf.run.get(k):
                hparams[f"wandb.{k}"] = wf.run[k]
        damage = []
        if wf.corrupt:
            damage.append(f"{wf.corrupt} damaged chunks skipped ({wf.skipped_bytes} bytes)")
        if wf.malformed:
            damage.append(f"{wf.malformed} malformed records skipped")
        if damage:
            notes.append(FileNote(str(b), "damaged", "; ".join(damage)))
        if wf.truncated:
            damage.append("truncated tail (the run was still writing, or was killed): complete records kept")
            notes.append(FileNote(str(b), "truncated", damage[-1]))
        if damage:
            warnings.append(f"{b.name}: " + "; ".join(damage))
        if wf.rows:
            f, skipped = rows_to_frame(wf.rows)
            if skipped:
                warnings.append(f"{b.name}: non-numeric history keys left out: {', '.join(skipped[:6])}")
            if f.height:
                frame = f
                break
    if frame is not None:
        return [RunData(source="wandb", frame=frame, files=read_files, hparams=hparams, warnings=warnings, notes=notes)]

    # No usable history in a .wandb file: what the text files hold.
    why = "no run-*.wandb file" if not binaries else "the run-*.wandb file holds no history"
    runs: list[RunData] = []
    out_log = files_dir / "output.log"
    if out_log.is_file():
        from .textlog import read_text_log

        try:
            runs = read_text_log(out_log)
        except LogReadError as exc:
            warnings.append(f"output.log: {exc.reason}")
    summary_path = files_dir / "wandb-summary.json"
    summary = _summary(summary_path) if os.path.lexists(summary_path) else {}
    has_loss = any("loss" in t.lower() for r in runs for t in r.frame["tag"].unique().to_list())
    if summary and not has_loss:
        f, _ = rows_to_frame([(None, {k: v for k, v in summary.items() if isinstance(k, str)})])
        if f.height:
            runs.append(RunData(source="wandb", frame=f, files=[str(files_dir / "wandb-summary.json")]))
            warnings.append("wandb-summary.json: only the last value of each key is known")
    if not runs:
        raise LogReadError(folder if path.is_dir() else path, f"W&B run without a readable history ({why}; no output.log or summary values)")
    note = f"{why}: read from files/output.log" + (" and wandb-summary.json" if summary and not has_loss else "")
    for u in unreadable:
        notes.append(FileNote(u, "replaced", f"{Path(u).name} not readable: {note}"))
    for r in runs:
        r.source = "wandb"
        r.hparams = {**hparams, **r.hparams}
        r.warnings = [note] + warnings + r.warnings
        r.notes = notes + r.notes
        r.files = sorted(set(r.files) | set(read_files))
    return runs
