"""Which reader for which path: walk a log tree and find every run once.

Rules, in the order they apply:

* An MLflow run folder (``meta.yaml`` + ``metrics/``) is one run; nothing
  below it is walked (its artifacts would count the run twice).
* TensorBoard event files: all event files of a folder belong to one run. A
  folder named ``train``/``validation`` (Keras' TensorBoard callback), named
  like a timestamp (torch's ``add_hparams`` sub-run), or written by the same
  process as its parent's event file (torch's ``add_scalars`` children,
  ``Loss_train/``, ``Loss_val/``) belongs to its parent run.
  ``*.profile-empty`` files are skipped, as TensorBoard does.
* ``trainer_state.json``: one run per Trainer output folder; the copies in
  ``checkpoint-*/`` are snapshots of it, and only the most complete is read.
* File logs (Keras CSVLogger, Lightning ``metrics.csv``, generic CSV, Keras
  History JSON): a folder with one log of a kind merges it into the folder's
  run (the harness writes event files and a CSV of the same run side by
  side); a folder with several logs of one kind holds several runs, one per file.
* A Weights & Biases run folder (``wandb/run-*/``, ``wandb/offline-run-*/``:
  a ``run-<id>.wandb`` file, or ``files/`` with ``wandb-summary.json`` or
  ``config.yaml``) is one run; nothing below it is walked (its
  ``files/output.log`` is the reader's fallback, not a run of its own).
* Plain-text output (``*.log``, ``*.out``, ``*.err``, ``*.txt``, ``nohup.out``,
  ``slurm-*.out``, a notebook's ``*.ipynb``) is a log when its head or tail
  prints training progress (:mod:`lrreport.ingest.textlog`); a ``.log`` is
  first tried as a CSV (Keras' CSVLogger writes ``training.log``). JSON lines
  (``*.jsonl``, and a ``*.json`` holding one object per line, such as
  MMDetection's ``<time>.log.json``) are read the same way. Beside a
  structured log of the same folder it is the console copy of that run: it is
  not read, and the run's warnings say so.
* Files that are not logs (data CSVs, configs, images, checkpoints, code) are
  passed over silently; a file that claims to be a log by its name
  (``train*.log``, ``nohup.out``, ``slurm-*.out``, ``output.log``,
  ``*history*.json``) or content (a CSV header with loss/accuracy columns, a
  JSON with metric lists) but cannot be read is reported in ``errors``.

Nothing is skipped in silence (:class:`Found` collects it for ``RunSet``): a
folder that cannot be listed, a file with a log's suffix that cannot be opened
(permission denied, a broken link or a link loop) or is no regular file (a
FIFO, socket or device: opening it could block or never end) is an error; a
link to a folder is not followed (a link cycle would walk forever) and is
noted; a damaged ``trainer_state.json`` replaced by a checkpoint's older copy
is an error and a note. A failure while telling one file's format costs that
file only.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runs import FileNote, ReadError
from .csvlog import (
    EPOCH_COLUMNS,
    STEP_COLUMNS,
    looks_like_metric_header,
    read_csv_header,
)
from .files import read_head
from .tfevents import is_event_file

__all__ = ["Found", "RunSource", "discover", "source_of_file", "why_not_a_log"]

KERAS_TB_SUBDIRS = frozenset({"train", "validation", "eval", "val", "valid", "training", "evaluation", "test"})
#: events.out.tfevents.<time>.<host>[.<pid>[.<n>]]: the writer's identity is host.pid.
EVENT_NAME = re.compile(r"tfevents\.\d+(?:\.\d+)?\.(?P<who>.+?)(?:\.\d+)?$")
TIMESTAMP_DIR = re.compile(r"^\d{9,11}(\.\d+)?$")
SKIP_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".hg", ".svn", ".ipynb_checkpoints", ".trash", "artifacts"})
CSV_SUFFIXES = (".csv", ".log", ".tsv")
NOT_LOG_JSON = frozenset(
    {
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.json",
        "preprocessor_config.json",
        "adapter_config.json",
        "added_tokens.json",
        "package.json",
    }
)
HPARAM_FILES = ("hparams.yaml", "hparams.yml", "hparams.json")
TEXT_SUFFIXES = (".log", ".out", ".err", ".txt", ".ipynb", ".jsonl", ".ndjson")
#: Names that say "I am a training log" even before a line is read: such a file with no
#: progress line in it is reported, not passed over.
LOG_BY_NAME = re.compile(
    r"^(?:train\w*\.(?:log|txt|out)|training\w*\.(?:log|txt)|nohup\.out|slurm-[\w.-]*\.(?:out|err)|output\.log)$", re.I
)
#: Text files that are never training logs whatever they print.
NOT_LOG_TEXT = re.compile(r"^(?:requirements.*\.txt|license.*|readme.*|cmakelists\.txt|debug(?:-\w+)?\.log|.*\.profile-empty)$", re.I)
MAX_SNIFF_JSON = 64 << 20
CHECKPOINT_DIR = re.compile(r"^checkpoint-\d+$")


@dataclass
class RunSource:
    """One run to read: its root (folder or file) and its files by kind."""

    root: Path
    parts: list[tuple[str, Path]] = field(default_factory=list)  #: (kind, file) in read order
    single_file: bool = False  #: the run is one file among several of its kind in a folder
    cached: dict[Path, Any] = field(default_factory=dict)  #: parsed JSON kept from sniffing
    notes: list[str] = field(default_factory=list)  #: said in the run's warnings (files passed over, and why)

    file_notes: list[FileNote] = field(default_factory=list)  #: the same, counted per file (RunSet.notes)

    @property
    def kinds(self) -> list[str]:
        return sorted({k for k, _ in self.parts})


@dataclass
class Found:
    """What discovery could not read or passed over, besides the runs it found."""

    errors: list[ReadError] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)


#: Suffixes and names of files that may be logs: such a file that cannot be opened, or is
#: no regular file, is reported (a file that could never be a log is not).
_LOG_SUFFIXES = (".json", ".wandb", ".pkl", ".pickle") + CSV_SUFFIXES + TEXT_SUFFIXES


def _may_be_a_log(name: str) -> bool:
    low = name.lower()
    if low.endswith(".profile-empty") or low in NOT_LOG_JSON:
        return False
    return "tfevents" in low or low.endswith(_LOG_SUFFIXES) or low == "nohup.out"


def _why_unusable(p: Path) -> str | None:
    """Why a file that may be a log cannot be read (None: it can be opened)."""
    import errno

    try:
        st = p.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
        if os.path.islink(p) and exc.errno == errno.ENOENT:
            return f"a broken link (to {os.readlink(p)})"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "cannot read: permission denied"
        return f"cannot read: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        from .files import _kind_of_mode

        return f"skipped: {_kind_of_mode(st.st_mode)}, not a regular file (reading it could block or never end)"
    if not os.access(p, os.R_OK):
        return "cannot read: permission denied"
    return None


def _sniff_json(path: Path) -> tuple[str | None, Any]:
    """('keras_history' | 'hf_trainer_state' | None, parsed object)."""
    from .hf import looks_like_trainer_state
    from .keras import load_json, looks_like_history

    try:
        if path.stat().st_size > MAX_SNIFF_JSON:
            return None, None
    except OSError:
        return None, None
    head = read_head(path, 64).lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if not head.startswith((b"{", b"[")):  # a dict, or pandas' orient="records" list
        return None, None
    try:
        obj = load_json(path)
    except Exception:
        return None, None
    if looks_like_trainer_state(obj):
        return "hf_trainer_state", obj
    if looks_like_history(obj):
        return "keras_history", obj
    from .sacred import looks_like_sacred_metrics

    if looks_like_sacred_metrics(obj):
        return "sacred", obj
    return None, None


def _json_lines(path: Path) -> bool:
    """Do the file's first two non-empty lines each hold one JSON object (JSON lines)?"""
    import json

    lines = [ln for ln in read_head(path, 1 << 16).splitlines() if ln.strip()][:3]
    if len(lines) < 2:
        return False
    for ln in lines[:2]:
        try:
            if not isinstance(json.loads(ln), dict):
                return False
        except ValueError:
            return False
    return True


def _csv_kind(path: Path) -> str | None:
    # A .log is console text as often as a CSV: only a comma-separated header makes it one.
    header = read_csv_header(path, commas_only=path.name.lower().endswith(".log"))
    if not header or len(header) < 2:
        return None
    lower = [h.lower() for h in header]
    from .tbcsv import HEADERS

    if tuple(lower) in HEADERS:
        return "tb_csv"  # one curve downloaded from TensorBoard's UI
    if lower[0] in ("", "unnamed: 0") and any("loss" in c for c in lower[1:]):
        return "csv"  # pd.DataFrame(history.history).to_csv(): the index is the epoch
    has_step = any(c in lower for c in STEP_COLUMNS)
    has_epoch = any(c in lower for c in EPOCH_COLUMNS)
    if path.name == "metrics.csv" and "step" in lower:
        return "lightning_csv"
    if lower[0] == "epoch" and not has_step:
        # CSVLogger writes "epoch" then the logs' keys sorted; a hand-written history
        # with an epoch column first is read the same way, under its own name.
        return "keras_csv" if header[1:] == sorted(header[1:]) else "csv"
    if "step" in lower and ("epoch" in lower or (path.parent / "hparams.yaml").is_file()):
        return "lightning_csv"
    if has_step or has_epoch:
        return "csv"
    if looks_like_metric_header(header):
        return "csv"  # pd.DataFrame(history.history).to_csv(index=False): row k is epoch k
    return None


def source_of_file(path: Path, allow_pickle: bool = False) -> tuple[str | None, Any]:
    """The kind of log one file is (None for "not a log"), and any object parsed to tell."""
    name = path.name
    low = name.lower()
    if "tfevents" in low:
        return ("tfevents", None) if is_event_file(path) else (None, None)
    if low == "trainer_state.json":
        return "hf_trainer_state", None  # read (and its errors reported) even if broken
    if low.endswith(".json"):
        if low in NOT_LOG_JSON or low.endswith(".index.json"):
            return None, None
        kind, obj = _sniff_json(path)
        if kind is None and "history" in low:
            return "keras_history", None  # claims to be a history: report why it is not
        if kind is None and obj is None and _json_lines(path):
            return _text_kind(path)  # one object per line: a logger's record per step
        return kind, obj
    if low.endswith(CSV_SUFFIXES):
        kind = _csv_kind(path)
        if kind is None and low.endswith(".log"):
            return _text_kind(path)
        return kind, None
    if low.endswith((".pkl", ".pickle")) and "hist" in low:
        return "keras_pickle", None
    if low.endswith(".wandb"):
        return "wandb", None  # a .wandb record log outside its run folder
    if low.endswith(TEXT_SUFFIXES) or low == "nohup.out":
        return _text_kind(path)
    return None, None


def _text_kind(path: Path) -> tuple[str | None, Any]:
    from .textlog import sniff_text_log

    if NOT_LOG_TEXT.match(path.name):
        return None, None
    if sniff_text_log(path):
        return "text", None
    if LOG_BY_NAME.match(path.name):
        return "text", None  # named like a training log: read, and say why not if it is not one
    return None, None


def why_not_a_log(path: Path) -> str:
    """One line for a single file given on the command line that is no log lrreport reads."""
    low = path.name.lower()
    if low.endswith(".profile-empty"):
        return "TensorBoard profiler marker file (*.profile-empty): it holds no scalars, and TensorBoard skips it too"
    return "not a training log lrreport knows (TensorBoard, CSV, Keras, Lightning, HF, MLflow, W&B, JSON history, console text)"


def _regular_file(p: Path) -> bool:
    try:
        return stat.S_ISREG(p.stat().st_mode)
    except OSError:
        return False


def _classify(p: Path, allow_pickle: bool, found: Found) -> tuple[str | None, Any]:
    """The kind of one file found by the walk; what cannot be used is said in ``found``."""
    why = _why_unusable(p) if _may_be_a_log(p.name) else (None if _regular_file(p) else "")
    if why is not None:
        if why:
            found.errors.append(ReadError(str(p), why))
        return None, None
    try:
        return source_of_file(p, allow_pickle)
    except Exception as exc:  # one file's sniffing must not cost the tree
        msg = str(exc).splitlines()[0][:200] if str(exc) else ""
        found.errors.append(ReadError(str(p), f"internal error while telling its format ({type(exc).__name__}: {msg}); please report it"))
        return None, None


def _writer_ids(files: list[Path]) -> set[str]:
    ids = set()
    for f in files:
        m = EVENT_NAME.search(f.name)
        if m:
            ids.add(m.group("who"))
    return ids


def _event_run_root(d: Path, logdir: Path, event_dirs: dict[Path, list[Path]]) -> Path:
    """The run a folder of event files belongs to: its own, or its parent's for Keras'
    train/ + validation/ layout, torch's add_hparams sub-run (a timestamp), and torch's
    add_scalars children (<tag>_<key>/ folders written by the parent run's process)."""
    if d == logdir:
        return d
    if d.name.lower() in KERAS_TB_SUBDIRS or TIMESTAMP_DIR.match(d.name):
        return d.parent
    parent_files = event_dirs.get(d.parent)
    if parent_files and _writer_ids(event_dirs[d]) & _writer_ids(parent_files):
        return d.parent
    return d


def _hf_run_root(path: Path) -> Path:
    d = path.parent
    if CHECKPOINT_DIR.match(d.name):
        return d.parent
    return d


def discover(logdir: Path, allow_pickle: bool = False, found: Found | None = None) -> list[RunSource]:
    """Every run under ``logdir`` (a folder or a single log file), each once, in path order.
    Folders and files that could not be used are said in ``found``."""
    from .mlflow import is_mlflow_run_dir
    from .wandb import is_wandb_run_dir

    found = Found() if found is None else found
    logdir = Path(logdir)
    if logdir.exists() and not logdir.is_dir() and not _regular_file(logdir):
        found.errors.append(ReadError(str(logdir), _why_unusable(logdir) or "not a regular file"))
        return []
    if logdir.is_dir() and is_wandb_run_dir(logdir, os.listdir(logdir)):
        return [RunSource(root=logdir, parts=[("wandb", logdir)])]
    if logdir.is_file():
        kind, obj = source_of_file(logdir, allow_pickle)
        if kind is None:
            # A single file named on the command line: say why we cannot use it.
            kind = "unknown"
        src = RunSource(root=logdir, parts=[(kind, logdir)], single_file=True)
        if obj is not None:
            src.cached[logdir] = obj
        return [src]

    event_dirs: dict[Path, list[Path]] = {}
    mlflow_runs: list[Path] = []
    wandb_runs: list[Path] = []
    hf_states: dict[Path, list[Path]] = {}
    file_logs: dict[Path, list[tuple[str, Path, Any]]] = {}

    def unlistable(exc: OSError) -> None:
        where = exc.filename or str(logdir)
        found.errors.append(ReadError(str(where), f"folder not read: {exc.strerror or exc}; the runs in it, if any, are missing"))

    for root, dirs, files in os.walk(logdir, followlinks=False, onerror=unlistable):
        d = Path(root)
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("."))
        for x in [x for x in dirs if os.path.islink(d / x)]:
            # Not followed: a link cycle would walk forever, and a link into the tree would read a run twice.
            target = os.readlink(d / x)
            found.notes.append(FileNote(str(d / x), "skipped", f"a link to a folder (to {target}) is not followed"))
            dirs.remove(x)
        if is_mlflow_run_dir(d):
            mlflow_runs.append(d)
            dirs[:] = []
            continue
        if is_wandb_run_dir(d, files):
            wandb_runs.append(d)
            dirs[:] = []
            continue
        for fn in sorted(files):
            p = d / fn
            kind, obj = _classify(p, allow_pickle, found)
            if kind is None:
                continue
            if kind == "tfevents":
                event_dirs.setdefault(d, []).append(p)
            elif kind == "hf_trainer_state" and fn == "trainer_state.json":
                hf_states.setdefault(_hf_run_root(p), []).append(p)
            else:
                file_logs.setdefault(d, []).append((kind, p, obj))

    event_runs: dict[Path, list[Path]] = {}
    for d, files in event_dirs.items():
        event_runs.setdefault(_event_run_root(d, logdir, event_dirs), []).extend(files)
    sources: dict[Path, RunSource] = {}

    def source_at(root: Path) -> RunSource:
        if root not in sources:
            sources[root] = RunSource(root=root)
        return sources[root]

    pending_notes: dict[Path, list[str]] = {}
    for root, files in event_runs.items():
        src = source_at(root)
        for f in sorted(files, key=lambda p: (p.parent.relative_to(root).as_posix(), p.name)):
            src.parts.append(("tfevents", f))
    for root in mlflow_runs:
        source_at(root).parts.append(("mlflow", root))
    for root in wandb_runs:
        source_at(root).parts.append(("wandb", root))
    for root, copies in hf_states.items():
        from .hf import trainer_state_check

        checked = {p: trainer_state_check(p) for p in copies}
        best = max(copies, key=lambda p: (checked[p][0], p.parent == root, str(p)))
        src = source_at(root)
        src.parts.append(("hf_trainer_state", best))
        main = root / "trainer_state.json"
        if best != main and main in checked:
            (n_main, _), why = checked[main]
            n_best = checked[best][0][0]
            rel = best.relative_to(root).as_posix()
            if why is not None:
                found.errors.append(ReadError(str(main), why))
                detail = f"damaged ({why}); its older copy {rel} was read instead ({n_best} log entries)"
            else:
                detail = f"holds {n_main} log entries, fewer than its copy {rel} ({n_best}): that copy was read instead"
            src.notes.append(f"trainer_state.json: {detail}")
            src.file_notes.append(FileNote(str(main), "replaced", detail))
    for d, logs in file_logs.items():
        texts_here = [p for kind, p, _ in logs if kind == "text"]
        others = [kind for kind, _, _ in logs if kind != "text"]
        # One console log beside the one structured log of a folder's run is that run's
        # console copy; several of either are several runs, each read on its own.
        one_run = (d in sources and not others) or (d not in sources and len(others) == 1)
        if len(texts_here) == 1 and one_run:
            # Console output beside a structured log of the same folder prints the same
            # run again: reading both would count it twice.
            texts = sorted(p.name for kind, p, _ in logs if kind == "text")
            logs = [x for x in logs if x[0] != "text"]
            if not logs and d in sources:
                sources[d].notes.append(f"console output not read ({', '.join(texts)}): the structured log beside it holds this run")
            else:
                pending_notes[d] = texts
        # Curves downloaded from TensorBoard's UI: the files of one exported run are that run.
        exports: dict[str, list[Path]] = {}
        for kind, p, _ in logs:
            if kind == "tb_csv":
                from .tbcsv import export_parts

                exports.setdefault(export_parts(p.name)[0], []).append(p)
        logs = [x for x in logs if x[0] != "tb_csv"]
        for key in sorted(exports):
            src = source_at(d / key if len(exports) > 1 and key else d)
            src.parts.extend(("tb_csv", p) for p in exports[key])
        by_kind: dict[str, int] = {}
        for kind, _, _ in logs:
            by_kind[kind] = by_kind.get(kind, 0) + 1
        for kind, p, obj in logs:
            if by_kind[kind] == 1:
                src = source_at(d)
            else:
                src = sources.setdefault(p, RunSource(root=p, single_file=True))
            src.parts.append((kind, p))
            if obj is not None:
                src.cached[p] = obj
    for d, texts in pending_notes.items():
        note = f"console output not read ({', '.join(texts)}): the structured log beside it holds this run"
        for key in sorted(sources, key=lambda p: p.as_posix()):
            if key == d or key.parent == d:
                sources[key].notes.append(note)
    return [sources[k] for k in sorted(sources, key=lambda p: p.as_posix())]
