"""Plain-text training output: console logs, ``nohup.out``, ``slurm-*.out``, ``logging``
files, W&B's ``output.log`` and a notebook's printed cells.

Only a number printed next to its metric's NAME becomes a value (``loss: 0.52``,
``Val Loss=0.61``, ``lr 1e-4``, ``'eval_loss': 0.3``); a name counts when it
holds a metric word (loss, acc, lr, mse, dice, f1...). Each value is placed by
the epoch or step printed on its line or, for a line that prints none, by the
last one printed before it. The line shapes below are the table of what is
recognised, each with the tool and version it was seen from; a test reads each
on lines made by the real library and on a real log.

``keras_epoch``      ``Epoch 3/50`` on a line of its own: Keras 2.x/3.x ``model.fit(verbose=1|2)``;
                     the progress lines after it (``449/449 ━━━ 24s 54ms/step - loss: 0.52 -
                     val_loss: 0.61``, Keras 3; ``[=====] - 5s - loss: ...``, Keras 2) belong to
                     epoch 3, and the last complete one (``N/N``) is the epoch's value: earlier
                     ones are running means, and a later ``evaluate()`` line is not training.
``python_dict``      ``{'loss': 0.5, 'grad_norm': 1.2, 'learning_rate': 5e-05, 'epoch': 0.1}`` and
                     ``{'eval_loss': ...}``: Hugging Face Trainer's printed logs (transformers
                     4.x; 5.x prints the values as strings, ``{'loss': '0.6937'}``), read with
                     ``ast.literal_eval`` (never ``eval``); JSON lines
                     (``{"train_loss": ..., "epoch": 3}``: the DeiT/MAE ``log.txt``) the same way.
                     The final ``train_runtime`` summary and throughput keys are left out.
``epoch_marker``     ``Epoch 3:``, ``Epoch [3/30]``, ``epoch 3``, ``EPOCH 3``, ``epoch=3``,
                     ``Epoch: [3][ 10/500]`` (pytorch/examples), ``Train: [3/50]`` (Swin-style),
                     ``Train: 3 [ 500/1251 ( 40%)]`` (timm 0.6-1.x: epoch 3, batch 500 of 1251);
                     with a Lightning 2.x tqdm bar (``Epoch 3: 100%|███| 50/50 [..., v_num=1,
                     train_loss=0.123, val_loss=0.2]``) the bar's postfix is read.
``step_marker``      ``iter 100: loss 2.30`` (nanoGPT), ``Step [10/1549], Loss: 0.049``,
                     ``step 100 | loss ...``, ``Iteration 500``.
``epoch_batch``      ``[1,  2000] loss: 2.234``: the PyTorch CIFAR-10 tutorial (epoch, batch).
``table``            a printed epoch table: a header of names starting with ``epoch``
                     (``epoch  train_loss  valid_loss  accuracy  time``: fastai 2.x's
                     ``Recorder`` on a console) and rows of as many cells under it; each
                     number takes its column's name.
``name_value``       the metric pairs of any of those lines: ``name: value``, ``name=value``,
                     ``name value``, ``Train Loss: 1.94, Train Acc: 20.34%`` (a percentage is
                     kept as printed); ``val (avg)`` keeps the value next to the name;
                     ``val Loss: 0.61 Acc: 0.79`` (PyTorch's transfer-learning tutorial): the
                     leading split word names the split of the bare names after it. A log
                     that prints no epoch or step at all numbers each metric's lines 1, 2, ...

Progress bars redraw themselves after ``\\r`` and ``\\b`` on one line: the last
drawing of each epoch on a line is read (tqdm does not start a new line between
epochs, Keras does). ANSI colour codes are dropped. Text after a word such as ``best``, ``saved``,
``checkpoint``, ``loaded``, ``early stopping`` or ``improved`` restates an
earlier value (``Saved best model at epoch 6 with val loss 0.066``) and is
not read. A value from a line without an epoch or step of its own never
overrides one that had its own, and is kept only when that line repeats in at
least two epochs (a final ``Accuracy: 0.75`` after training is a summary, not
a curve). Runs restarted inside one file are split or joined by
:mod:`lrreport.ingest.restarts`.

Steps: a printed global step (``iter 100``) is the step; ``Step [k/N]`` inside
epoch e is ``(e - first) * N + k``; otherwise the step is the epoch number as
printed, and for Hugging Face's dicts (which print no step) the count of
logging moments. Epochs are kept as printed (``Epoch 1/50`` is epoch 1).
"""

from __future__ import annotations

import ast
import functools
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..metrics import SPLIT_WORDS, split_words
from .base import LogReadError, RunData, frame_from_columns
from .files import check_time, open_log, read_head_tail
from .numbers import MAX_STEP, to_step, to_value
from .restarts import describe_sessions, find_sessions, one_session, superseded

__all__ = ["TextParse", "parse_lines", "read_text_log", "sniff_text_log", "text_of_notebook"]

MAX_LINE_CHARS = 1 << 16  # after progress-bar overwrites; a longer "line" is binary noise
SNIFF_HEAD_BYTES = 1 << 20
SNIFF_TAIL_BYTES = 256 << 10

# --- words ------------------------------------------------------------------------
#: A name is a metric's only when one of its words is one of these.
METRIC_WORDS = frozenset(
    {
        "loss", "losses", "nll", "acc", "accuracy", "lr", "mse", "mae", "rmse", "iou", "miou", "dice",
        "f1", "auc", "precision", "recall", "ppl", "perplexity", "wer", "cer", "bleu", "psnr", "ssim",
        "r2", "map", "top1", "top5", "reward", "kl", "elbo", "learningrate", "acc1", "acc5",
    }
)  # fmt: skip
#: Words that may sit in a metric's name beside the metric word ("Train Loss", "Mean Dice", "IoU Score").
NAME_WORDS = frozenset(SPLIT_WORDS) | {
    "avg", "average", "mean", "total", "running", "smoothed", "epoch", "batch", "step", "score",
    "learning", "rate", "top", "grad", "norm", "min", "max", "overall", "set", "metric", "1", "5",
    "sparse", "categorical", "binary", "macro", "micro", "weighted", "class", "pixel",
}  # fmt: skip
#: A name holding one of these is a measurement of the machine, not of learning ("loss scale", "lr time").
NOT_METRIC_WORDS = frozenset(
    {"scale", "scaler", "time", "eta", "mem", "memory", "gpu", "samples", "tokens", "params", "parameters",
     "count", "num", "size", "secs", "sec", "ms", "runtime", "per", "second", "flos", "v"}
)  # fmt: skip

_DIGIT = re.compile(r"\d")
_SPLIT_HINT = re.compile(r"train|val|eval|test")
_PLAIN_SPLIT = re.compile(r"[/_\-. @]+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_OVERWRITE = re.compile(r"[\r\x08]+")
#: A cheap first look: lines without any of these can hold no training progress.
#: (matched on the lower-cased line: a case-blind regex is several times slower).
_PREFILTER = re.compile(r"loss|acc|epoch|lr|learning|iter|step|mse|mae|dice|iou|f1|auc|ppl|perplex|wer|bleu|reward|psnr|prec|recall|\{")
#: Text from here on restates a value (best-so-far, checkpoint and early-stopping messages).
_RESTATES = re.compile(
    r"\b(?:best|saved?|saving|checkpoint\w*|loaded|loading|restor\w*|resum\w*|early[\s_-]?stopping\w*|"
    r"improved|improvement|patience|reducing|reduced)\b",
    re.I,
)

# --- the table of line shapes (see the module docstring) ---------------------------
#: ``Epoch 3/50`` alone on its line: Keras 2.x/3.x model.fit.
KERAS_EPOCH = re.compile(r"^\s*Epoch\s+(\d+)/(\d+)\s*$")
#: ``  449/449 ━━━━ 24s 54ms/step - accuracy: 0.63 - loss: 0.99`` (Keras 3) and
#: ``1875/1875 [======] - 5s 2ms/step - loss: 0.29`` (Keras 2): a Keras progress line.
KERAS_PROGRESS = re.compile(r"^\s*(\d+)/(\d+)\s+(?:\S+\s+)*?-\s+[A-Za-z_][\w./-]*:\s")
#: Epoch printed with its word, in the shapes listed in the module docstring.
#: (These three are matched on the lower-cased line, ASCII letters only, so spans stay aligned.)
EPOCH_MARK = re.compile(
    r"\bepoch\b\s*[:=#]?\s*[\[(]?\s*(\d+)(?:\s*(?:/|of)\s*(\d+))?\s*[\])]?"
    r"(?:\s*\[\s*(\d+)\s*/\s*(\d+)\s*\])?"
)
#: ``Train: [3/50]``: the Swin Transformer / timm-style epoch marker.
TRAIN_EPOCH_MARK = re.compile(r"\b(?:train|training)\b\s*:?\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
#: ``Train: 3 [ 500/1251 ( 40%)]``: timm's train.py (epoch, then batch of batches), 0.6-1.x.
TIMM_TRAIN_MARK = re.compile(r"\b(?:train|training)\b\s*:\s*(\d+)\s*\[\s*(\d+)\s*/\s*(\d+)")
#: ``[1,  2000] loss: 2.234``: the PyTorch CIFAR-10 tutorial's print (epoch, batch), 1.x-2.x.
EPOCH_BATCH_MARK = re.compile(r"^\[\s*(\d+)\s*,\s*(\d+)\s*\]")
STEP_MARK = re.compile(r"\b(?:global[_ ]step|step|iter|iteration)\b\s*[:=#]?\s*[\[(]?\s*(\d+)(?:\s*/\s*(\d+))?\s*[\])]?")
_SEGMENT_EPOCH = re.compile(r"\bepoch\b\s*[:=#]?\s*[\[(]?\s*(\d+)")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_RESTATE_HINT = re.compile(r"best|sav|checkpoint|load|restor|resum|early|improv|patience|reduc")
#: ``Validate: ...``, ``[val] ...``, ``Test: ...``: the split of the names on the line that have none.
LINE_SPLIT = re.compile(
    r"(?:^|[\s\[|>*-])(train|training|val|valid|validation|validate|eval|evaluation|evaluating|test|testing)\s*[:\]](?!\s*[-+]?\d)",
    re.I,
)
#: ``name value``, ``name: value``, ``name=value``: a name of up to four words right before
#: its number. The number must end where a number ends ("1.8329" glued to a timestamp,
#: "1.83292026-02-14", is no value).
_PAIR = re.compile(
    # possessive (*+, {0,3}+): a name never gives words back, so a line costs one pass
    r"(?<![\w@./-])(?P<name>[A-Za-z][\w@./-]*+(?:[ \t]+[A-Za-z][\w@./-]*+){0,3}+)[ \t]*+[:=]?[ \t]*+"
    r"(?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?%?|[-+]?(?:[nN][aA][nN]|[iI]nf(?:inity)?))"
    r"(?=$|[\s,;|)\]}>/])"
)
#: Keys of a printed dict that place it, not measure it; and throughput keys (HF).
DICT_POSITION_KEYS = {"epoch": "epoch", "step": "step", "global_step": "step", "iter": "step", "iteration": "step"}
DICT_NOT_SIGNALS = ("_runtime", "_per_second", "total_flos", "n_parameters", "num_tokens", "num_input_tokens")


@functools.lru_cache(maxsize=4096)
def _metric_name(phrase: str) -> str | None:
    """The metric's name in the words before a number, or None when they name no metric."""
    words = _trim_name(phrase.split())
    return " ".join(words) if _is_metric_name(words) else None


def _is_metric_name(words: list[str]) -> bool:
    # camelCase split ("TrainLoss") and not ("IoU", "mIoU")
    ws = [w for t in words for w in split_words(t)] + [w for t in words for w in _PLAIN_SPLIT.split(t.lower()) if w]
    if not ws or any(w in NOT_METRIC_WORDS for w in ws):
        return False
    if any(w in METRIC_WORDS for w in ws):
        return True
    return ("learning" in ws and "rate" in ws) or ("grad" in ws and "norm" in ws) or "gradnorm" in ws


def _trim_name(words: list[str]) -> list[str]:
    """The metric's own words: drop leading words that are not part of a metric name
    ("INFO Train Loss" -> "Train Loss"); a single token is kept whole ("LMOutput_loss")."""
    if len(words) <= 1:
        return words
    keep: list[str] = []
    for t in reversed(words):
        ws = split_words(t)
        if keep and not all(w in NAME_WORDS or w in METRIC_WORDS for w in ws):
            break
        keep.append(t)
    return list(reversed(keep))


def name_value_pairs(text: str) -> list[tuple[str, float]]:
    """Every ``name value`` pair of a line whose name is a metric's (name as printed, value)."""
    out: list[tuple[str, float]] = []
    for m in _PAIR.finditer(text):
        name = _metric_name(m.group("name"))
        if name is None:
            continue
        raw = m.group("num").rstrip("%")
        try:
            value = float(raw)
        except ValueError:
            continue
        out.append((name, value))
    return out


def _clean(line: str) -> str:
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if len(line) > MAX_LINE_CHARS:
        line = line[-MAX_LINE_CHARS:]
    return line.strip()


def _segments(raw: str) -> list[str]:
    """What a terminal showed, in order: a progress bar redraws itself after ``\\r`` or
    ``\\b`` on the same line, and each drawing is read (tqdm does not start a new line
    between epochs, so the epoch's last drawing sits in the middle of the line)."""
    if "\r" not in raw and "\x08" not in raw:
        return [raw]
    parts = [p for p in _OVERWRITE.split(raw) if p.strip()]
    if len(parts) < 3:
        return parts
    # Only the last drawing of each epoch can matter (a bar's values only grow within
    # its epoch): skip the others unread, which keeps a 100 MB progress-bar log fast.
    keep: list[str] = []
    seen: set[tuple[bool, str | None]] = set()
    for p in reversed(parts):
        low = p.lower()
        m = _SEGMENT_EPOCH.search(low) if "epoch" in low else None
        key = ("{" in p, m.group(1) if m else None)
        if key not in seen:
            seen.add(key)
            keep.append(p)
    keep.reverse()
    return keep


@dataclass(slots=True)
class Event:
    """One line that placed or measured something."""

    line: int
    epoch: float | None = None
    epoch_total: int | None = None
    step: int | None = None  #: a global step printed on the line
    step_in_epoch: int | None = None
    steps_per_epoch: int | None = None
    metrics: list[tuple[str, float]] = field(default_factory=list)
    placed: bool = False  #: the line printed its own epoch or step (or is a Keras progress line)
    keras_done: bool = False  #: a Keras progress line at N/N
    from_dict: bool = False
    pattern: str = ""


def _parse_dict(text: str) -> dict | None:
    if len(text) > 20000:
        return None
    try:
        obj = json.loads(text) if '"' in text and "'" not in text else ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


#: Keys of a logged record that name its phase, and the phases that are an evaluation.
DICT_PHASE_KEYS = ("mode", "phase", "split")
DICT_VAL_PHASES = frozenset({"val", "valid", "validation", "eval", "evaluation", "test", "dev"})


def _dict_event(lineno: int, obj: dict) -> Event | None:
    if "train_runtime" in obj:
        return None  # Trainer's closing summary: whole-run averages, not a point of the curve
    ev = Event(lineno, from_dict=True, pattern="python_dict")
    # A record that names its phase (MMDetection's log.json: "mode": "val") puts its bare
    # metric names in that split.
    phase = next((str(obj[k]).lower() for k in DICT_PHASE_KEYS if isinstance(obj.get(k), str)), None)
    val_phase = phase in DICT_VAL_PHASES
    for k, v in obj.items():
        if isinstance(v, str):
            # transformers 5.x prints its log values formatted, as strings: {'loss': '0.6937'}
            v = to_value(v)
            if v is None:
                continue
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        low = k.lower()
        if low in DICT_POSITION_KEYS:
            # A position that is no usable counter (NaN, 1e400) places nothing.
            pos = to_step(v)
            if pos is None:
                continue
            if DICT_POSITION_KEYS[low] == "epoch":
                ev.epoch = float(v)
            else:
                ev.step = pos
            ev.placed = True
            continue
        if any(s in low for s in DICT_NOT_SIGNALS) or not _is_metric_name([k]):
            continue
        words = split_words(k)
        if val_phase and not any(w in SPLIT_WORDS for w in words) and words[:1] != ["lr"]:
            k = f"val_{k}"
        ev.metrics.append((k, to_value(v)))
    return ev if (ev.metrics or ev.placed) else None


def _apply_line_split(line: str, pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    if (":" not in line and "]" not in line) or not _SPLIT_HINT.search(line.lower()):
        return pairs
    m = LINE_SPLIT.search(line)
    if not m:
        return pairs
    split = m.group(1)
    out = []
    for name, v in pairs:
        if any(w in SPLIT_WORDS for w in split_words(name)) or split_words(name)[:1] == ["lr"]:
            out.append((name, v))
        else:
            out.append((f"{split} {name}", v))
    return out


def _inherit_split(pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """``val Loss: 0.61 Acc: 0.79`` (the PyTorch transfer-learning tutorial's print): a line
    whose first name is a split word then a space names the split of the bare names after it."""
    first = pairs[0][0].split(" ", 1)
    if len(first) < 2 or first[0].lower() not in SPLIT_WORDS:
        return pairs
    out = [pairs[0]]
    for name, v in pairs[1:]:
        if " " not in name and "_" not in name and name.lower() in METRIC_WORDS and name.lower() != "lr":
            name = f"{first[0]} {name}"
        out.append((name, v))
    return out


def parse_line(lineno: int, raw: str, keras_open: bool) -> Event | None:
    """What one line of output says (None: nothing). A line whose epoch or step is no
    usable counter (more digits than an int64 holds) says nothing."""
    try:
        ev = _parse_line(lineno, raw, keras_open)
    except (ValueError, OverflowError):
        return None  # int() of a 5000-digit "epoch": no training log prints that
    if ev is None:
        return None
    for x in (ev.epoch, ev.step, ev.step_in_epoch, ev.steps_per_epoch, ev.epoch_total):
        if x is not None and not (math.isfinite(x) and abs(x) <= MAX_STEP):
            return None
    return ev


def _parse_line(lineno: int, raw: str, keras_open: bool) -> Event | None:
    if not _PREFILTER.search(raw.lower()):
        return None
    line = _clean(raw)
    if not line or not _DIGIT.search(line):
        return None
    # A printed dict: Hugging Face Trainer, JSON lines.
    brace = line.find("{")
    if brace >= 0 and line.endswith("}"):
        obj = _parse_dict(line[brace:])
        if obj is not None:
            return _dict_event(lineno, obj)
    m = KERAS_EPOCH.match(line)
    if m:
        return Event(lineno, epoch=float(m.group(1)), epoch_total=int(m.group(2)), placed=True, pattern="keras_epoch")
    low = line.translate(_ASCII_LOWER)
    cut = _RESTATES.search(line) if _RESTATE_HINT.search(low) else None
    if cut:
        line, low = line[: cut.start()], low[: cut.start()]
        if not line.strip():
            return None
    if keras_open:
        m = KERAS_PROGRESS.match(line)
        if m:
            k, n = int(m.group(1)), int(m.group(2))
            pairs = name_value_pairs(line[m.end(2) :])
            if not pairs:
                return None
            return Event(lineno, metrics=pairs, placed=True, keras_done=k == n, pattern="keras_progress")
    ev = Event(lineno, pattern="name_value")
    rest = line
    m = EPOCH_MARK.search(low) if "epoch" in low else None
    if m is None and "train" in low and "[" in line:
        m = TRAIN_EPOCH_MARK.search(low)
        if m is None:
            mt = TIMM_TRAIN_MARK.search(low)
            if mt:
                ev.epoch = float(mt.group(1))
                ev.step_in_epoch, ev.steps_per_epoch = int(mt.group(2)), int(mt.group(3))
                ev.placed, ev.pattern = True, "epoch_marker"
                close = low.find("]", mt.end())
                end = close + 1 if close >= 0 else mt.end()
                rest = " " * end + rest[end:]
                low = " " * end + low[end:]
    if m is None and line.startswith("["):
        mb = EPOCH_BATCH_MARK.match(low)
        if mb:
            ev.epoch, ev.step = float(mb.group(1)), int(mb.group(2))
            ev.placed, ev.pattern = True, "epoch_batch"
            rest = " " * mb.end() + rest[mb.end() :]
            low = " " * mb.end() + low[mb.end() :]
    if m:
        ev.epoch = float(m.group(1))
        ev.epoch_total = int(m.group(2)) if m.group(2) else None
        if m.re is EPOCH_MARK and m.group(3):
            ev.step_in_epoch, ev.steps_per_epoch = int(m.group(3)), int(m.group(4))
        ev.placed = True
        ev.pattern = "epoch_marker"
        rest = rest[: m.start()] + " | " + rest[m.end() :]
        low = low[: m.start()] + " | " + low[m.end() :]
    m = STEP_MARK.search(low) if ("step" in low or "iter" in low) else None
    if m:
        if m.group(2):
            ev.step_in_epoch, ev.steps_per_epoch = int(m.group(1)), int(m.group(2))
        else:
            ev.step = int(m.group(1))
        ev.placed = True
        ev.pattern = "step_marker" if ev.epoch is None else ev.pattern
        rest = rest[: m.start()] + " | " + rest[m.end() :]
    pairs = name_value_pairs(rest)
    if pairs:
        ev.metrics = _inherit_split(_apply_line_split(rest, pairs))
    if not ev.metrics and not ev.placed:
        return None
    return ev


@dataclass
class TextParse:
    """What a whole text says: its events, in order."""

    events: list[Event]
    lines: int


_TABLE_NAME = re.compile(r"^[A-Za-z_][\w@/.%-]*$")


def _table_header(seg: str) -> list[str] | None:
    """A header of a printed epoch table (fastai's ``epoch  train_loss  valid_loss  accuracy
    time``): ``epoch`` first, then names, at least one a metric's, no number among them."""
    tokens = _clean(seg).split()
    if len(tokens) < 3 or tokens[0].lower() != "epoch" or not all(_TABLE_NAME.match(t) for t in tokens):
        return None
    if not any(_is_metric_name([t]) for t in tokens[1:]):
        return None
    return tokens


def _table_row(lineno: int, seg: str, header: list[str]) -> Event | None:
    """A row under a table header: the epoch, then each named column's number (a cell that
    is no number, such as fastai's ``#na#`` or a ``00:05`` time, is skipped)."""
    tokens = _clean(seg).split()
    if len(tokens) != len(header) or not tokens[0].isdigit():
        return None
    ev = Event(lineno, epoch=float(int(tokens[0])), placed=True, pattern="table")
    for name, cell in zip(header[1:], tokens[1:]):
        v = to_value(cell) if _is_metric_name([name]) else None
        if v is not None:
            ev.metrics.append((name, v))
    return ev


def parse_lines(lines: Iterable[str]) -> TextParse:
    events: list[Event] = []
    keras_open = False
    table: list[str] | None = None
    count = 0
    for count, raw in enumerate(lines, 1):
        for seg in _segments(raw):
            if table is not None:
                row = _table_row(count, seg, table)
                if row is not None:
                    events.append(row)
                    continue
                table = None
            head = _table_header(seg) if "poch" in seg[:40] else None
            if head is not None:
                table = head
                continue
            ev = parse_line(count, seg, keras_open)
            if ev is None:
                continue
            if ev.pattern == "keras_epoch":
                keras_open = True
            elif ev.pattern != "keras_progress" and ev.placed:
                keras_open = False
            events.append(ev)
    return TextParse(events, count)


# --- from events to points ------------------------------------------------------------
@dataclass(slots=True)
class _Point:
    tag: str
    epoch: float | None
    step: int
    value: float
    placed: bool
    line: int


def _counter(events: list[Event]) -> tuple[np.ndarray, str]:
    """Per event: the value that must grow as training goes on (the epoch where the
    log prints epochs, else the printed global step)."""
    if any(e.epoch is not None for e in events):
        return np.array([e.epoch if e.epoch is not None else np.nan for e in events], dtype=np.float64), "epoch"
    return np.array([e.step if e.step is not None else np.nan for e in events], dtype=np.float64), "step"


def _points_of_session(events: list[Event]) -> tuple[list[_Point], list[str]]:
    """Place every measured value of one session (see the module docstring)."""
    points: list[_Point] = []
    notes: list[str] = []
    epochs = [e.epoch for e in events if e.epoch is not None and not e.from_dict]
    base = 0.0 if any(ep == 0 for ep in epochs) else 1.0
    epoch: float | None = None
    step: int | None = None
    ordinal = 0
    offset = 0
    raw_step: int | None = None
    raw_epoch: float | None = None
    keras_vals: dict[float, tuple[bool, set[str]]] = {}
    for e in events:
        if e.epoch is not None:
            epoch = e.epoch
        if e.step is not None:
            # A step counter that starts again when the epoch changes counts within the
            # epoch: continue from where the last epoch ended.
            if raw_step is not None and e.step < raw_step and epoch != raw_epoch:
                offset = step if step is not None else 0
            raw_step, raw_epoch = e.step, epoch
            step = offset + e.step
        elif e.step_in_epoch is not None:
            ep0 = (epoch if epoch is not None else base) - base
            step = int(ep0 * (e.steps_per_epoch or 0) + e.step_in_epoch) if e.steps_per_epoch else e.step_in_epoch
            if abs(step) > MAX_STEP:
                step = None  # epoch x steps per epoch beyond any counter: no position
        if e.from_dict and e.step is None:
            if any(not n.lower().startswith(("eval", "test", "val")) for n, _ in e.metrics):
                ordinal += 1
            step_here = ordinal
        else:
            step_here = step if step is not None else (int(epoch) if epoch is not None else None)
        if not e.metrics:
            continue
        if step_here is None and epoch is None:
            continue  # a value before any epoch or step: a setting printed at start-up
        if step_here is not None and abs(step_here) > MAX_STEP:
            continue  # counters summed past int64: no position a curve can have
        if e.pattern == "keras_progress" and epoch is not None:
            done, keys = keras_vals.get(epoch, (False, set()))
            names = {n for n, _ in e.metrics}
            # After the epoch's N/N line, only a line that adds names (the one with
            # val_* after a glued N/N line) still belongs to it; evaluate() does not.
            if done and not names > keys:
                continue
            keras_vals[epoch] = (done or e.keras_done, keys | names)
        for name, v in e.metrics:
            points.append(_Point(name, epoch, int(step_here if step_here is not None else 0), v, e.placed, e.line))
    if not points and not any(e.placed for e in events):
        # Nothing in the file says where in training a line is ("Train loss: 0.5, Val loss:
        # 0.6" printed once per epoch): the k-th line that prints a name is its step k.
        counts: dict[str, int] = {}
        for e in events:
            for name, v in e.metrics:
                counts[name] = counts.get(name, 0) + 1
                points.append(_Point(name, None, counts[name], v, True, e.line))
        points = [p for p in points if counts[p.tag] >= 2]
        if points:
            notes.append("no epoch or step is printed: the k-th printed value of a metric is read as step k")
    # Last value wins per (tag, epoch, step); values from lines that placed themselves
    # beat values from lines that did not, which also must repeat to count.
    best: dict[tuple[str, float | None, int], _Point] = {}
    for p in points:
        key = (p.tag, p.epoch, p.step)
        old = best.get(key)
        if old is None or p.placed or not old.placed:
            best[key] = p
    unplaced_positions: dict[str, set] = {}
    for p in best.values():
        if not p.placed:
            unplaced_positions.setdefault(p.tag, set()).add((p.epoch, p.step))
    dropped = sorted(t for t, pos in unplaced_positions.items() if len(pos) < 2)
    if dropped:
        notes.append(f"printed once after or outside the epochs, so read as a summary, not a curve: {', '.join(dropped[:5])}")
    kept = [p for p in best.values() if p.placed or p.tag not in dropped]
    kept.sort(key=lambda p: p.line)
    return kept, notes


def events_to_runs(path: Path, parse: TextParse, source: str = "text") -> list[RunData]:
    """The runs of a parsed text: one per fit, resumed sessions joined."""
    events = parse.events
    if not any(e.metrics for e in events):
        raise LogReadError(path, "no training-progress lines recognised (epoch/step lines with named metric values)")
    counter, what = _counter(events)
    sessions, too_many = one_session(find_sessions(counter), len(events), what)
    # A line without an epoch of its own belongs to the epoch printed before it: it is
    # superseded with that epoch when a later session resumes before it.
    filled = counter.copy()
    last = np.nan
    for i, v in enumerate(filled):
        if np.isfinite(v):
            last = v
        else:
            filled[i] = last
    drop = superseded(filled, sessions) if len(sessions) > 1 else np.zeros(len(events), dtype=bool)
    fit_notes = describe_sessions(sessions, what)
    fits = sorted({s.fit for s in sessions})
    patterns = sorted({e.pattern for e in events if e.metrics})
    runs: list[RunData] = []
    for f in fits:
        evs: list[Event] = []
        for s in sessions:
            if s.fit != f:
                continue
            evs += [events[i] for i in range(s.start, s.stop) if not drop[i]]
        # A resumed session's values at an epoch the earlier one also printed win: the
        # superseded rows are dropped above, and within the fit the last line wins.
        points, notes = _points_of_session(evs)
        if not points:
            continue
        frame = frame_from_columns(
            [p.tag for p in points],
            [p.step for p in points],
            [p.value for p in points],
            epoch=[p.epoch for p in points],
        )
        warnings = [f"{path.name}: {x}" for x in too_many + fit_notes[f] + notes]
        if any(e.from_dict and e.step is None for e in evs):
            warnings.append(f"{path.name}: the printed dicts carry no step; the step is the count of logging moments")
        suffix = f"fit{f}" if len(fits) > 1 else ""
        runs.append(
            RunData(
                source=source,
                frame=frame,
                files=[str(path)],
                hparams={},
                warnings=warnings + [f"{path.name}: line shapes read: {', '.join(patterns)}"],
                run_suffix=suffix,
            )
        )
    if not runs:
        raise LogReadError(path, "no training-progress lines recognised (epoch/step lines with named metric values)")
    return runs


# --- files --------------------------------------------------------------------------
class _FileLines:
    """The lines of a text file, read in bounded chunks through the safe opener. A last line
    without its line end is a line still being written: the progress-bar drawings in it that
    a ``\r`` already closed are read, the rest is held back (``held_back`` bytes)."""

    def __init__(self, path: Path):
        self.path = path
        self.held_back = 0
        self.nul_lines = 0  #: lines where NUL bytes (what a crash leaves) cut off what came before them

    def __iter__(self) -> Iterator[str]:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with open_log(self.path, "text") as (fh, size):
            buf = ""
            left = size
            while left > 0:
                check_time(self.path)
                chunk = fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                # newline="" semantics: \r stays inside lines, where progress bars overwrite themselves.
                buf += decoder.decode(chunk)
                has_nul = "\x00" in buf
                parts = buf.split("\n")
                buf = parts.pop()
                if has_nul:
                    parts = [self._after_nul(p) if "\x00" in p else p for p in parts]
                yield from parts
            buf += decoder.decode(b"", final=True)
        if "\x00" in buf:
            buf = self._after_nul(buf)
        if buf:
            cut = buf.rfind("\r")
            self.held_back = len(buf[cut + 1 :].encode("utf-8", errors="replace"))
            if cut >= 0:
                yield buf[: cut + 1]

    def _after_nul(self, line: str) -> str:
        # Zeros where a crashed writer's data never reached the disk: what precedes them on
        # the line is a cut-off write; what follows is the next writer's fresh output.
        self.nul_lines += 1
        return line[line.rfind("\x00") + 1 :]


def text_of_notebook(obj: object) -> list[str]:
    """The printed output of a notebook's cells (stream text and plain-text results), as lines."""
    lines: list[str] = []
    if not isinstance(obj, dict) or not isinstance(obj.get("cells"), list):
        return lines
    for cell in obj["cells"]:
        if not isinstance(cell, dict):
            continue
        for out in cell.get("outputs") or []:
            if not isinstance(out, dict):
                continue
            text = out.get("text")
            if text is None and isinstance(out.get("data"), dict):
                text = out["data"].get("text/plain")
            if isinstance(text, list):
                text = "".join(t for t in text if isinstance(t, str))
            if isinstance(text, str):
                lines.extend(text.split("\n"))
    return lines


def _notebook_lines(path: Path) -> list[str]:
    from .keras import load_json

    return text_of_notebook(load_json(path, "notebook"))


def read_text_log(path: Path) -> list[RunData]:
    """Every run printed in one text file (or notebook)."""
    lines = None
    try:
        if path.suffix.lower() == ".ipynb":
            parse = parse_lines(_notebook_lines(path))
        else:
            lines = _FileLines(path)
            parse = parse_lines(lines)
    except OSError as exc:
        raise LogReadError(path, f"cannot read: {exc.strerror or exc}") from None
    runs = events_to_runs(path, parse, "notebook" if path.suffix.lower() == ".ipynb" else "text")
    if lines is not None and lines.nul_lines:
        for r in runs:
            r.note(path, "damaged", f"{lines.nul_lines} lines holding NUL bytes (zeros a crash leaves behind): the text before them skipped")
    if lines is not None and lines.held_back:
        for r in runs:
            r.note(path, "truncated", f"1 incomplete last line held back ({lines.held_back} bytes without a line end: still being written?)")
    return runs


def sniff_text_log(path: Path) -> bool:
    """Does the head (or tail) of this text file print training progress? Binary files: no."""
    if path.suffix.lower() == ".ipynb":
        try:
            return _has_progress(parse_lines(_notebook_lines(path)))
        except LogReadError:
            return False
    head, tail, _ = read_head_tail(path, SNIFF_HEAD_BYTES, SNIFF_TAIL_BYTES)
    if b"\x00" in re.sub(rb"\x00{16,}", b"", head[:8192]):
        return False  # binary (a block of NULs alone is what a crash leaves in a text log)
    for blob in (head, tail):
        if not blob:
            continue
        parse = parse_lines(blob.decode("utf-8", errors="replace").split("\n"))
        if _has_progress(parse):
            return True
    return False


def _has_progress(parse: TextParse) -> bool:
    """At least one loss/accuracy/LR value on a line that says where in training it is."""
    placed = False
    for e in parse.events:
        if e.placed and not e.metrics:
            placed = True
        if e.metrics and (e.placed or placed):
            return True
    return False
