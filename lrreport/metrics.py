"""Canonical metric names: the one table that maps what frameworks write onto them.

Frameworks spell the same series many ways (``loss``, ``train/loss``,
``epoch_loss``, ``Loss/train``, ``train_loss_step``, ``training loss``,
``eval_loss``, ``validation/epoch_loss``, ``lr-Adam/pg1`` ...). A tag is split
into lower-case words on ``/ _ - .`` and spaces; the words are then read as a
*split* (train / val / test), a *quantity* (loss, acc, lr, ...), a
*granularity* (step, epoch, batch) and whatever is left over (a qualifier such
as ``g0`` in ``eval_g0_loss`` or ``LMOutput`` in ``LMOutput_loss``).

* A tag with no qualifier is an **exact** match for its canonical name.
* A tag with a qualifier is a **qualified** match: it becomes the canonical
  series only when the run has no exact one (``eval_g0_loss`` is the run's
  ``val_loss`` when there is no plain ``eval_loss``).
* A run with a ``test`` loss and no validation loss uses the test curve as
  its ``val_loss`` (tutorials log ``Loss/test`` every epoch).
* When several tags of one run claim the same name, the one with the most
  points wins (Lightning's ``train_loss_step`` over ``train_loss_epoch``); the
  others keep their own tag as their metric name. Nothing is ever dropped.

The names are part of the project's contract: ``docs/findings.md`` ("Canonical metric names").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterable, Mapping

__all__ = [
    "CANONICAL",
    "MetricMatch",
    "match_tag",
    "resolve_metrics",
    "split_words",
]

#: The canonical names analyzers rely on (``lr/<group>`` and
#: ``update_ratio/<group>`` are families).
CANONICAL = (
    "train_loss",
    "val_loss",
    "test_loss",
    "train_acc",
    "val_acc",
    "test_acc",
    "lr",
    "grad_norm",
)

# --- the table --------------------------------------------------------------
# Each word set below is part of the one mapping table; tests/test_metrics.py
# walks every spelling listed in FINDINGS.md and the real-world corpus.
SPLIT_WORDS: Mapping[str, str] = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "tr": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "eval": "val",
    "evaluation": "val",
    "validate": "val",  # "Validate: Loss 1.98 ..." (pytorch/examples-style console logs)
    "dev": "val",
    "holdout": "val",
    "test": "test",
    "testing": "test",
}
LOSS_WORDS = frozenset({"loss", "losses", "nll", "objective", "cost"})
# Regression scripts log their loss under the error's name (train_mse / val_mse) and
# no "loss" at all. Such a tag is a *qualified* loss: the run's loss curve only when the
# run has no tag named "loss" (Keras logs both `loss` and an `mse` metric).
LOSS_PROXY_WORDS = frozenset({"mse"})
ACC_WORDS = frozenset({"acc", "accuracy"})
# Keras names accuracies after their kind; these words do not make a tag "qualified".
ACC_KIND_WORDS = frozenset({"categorical", "sparse", "binary", "top1", "top", "1"})
GRANULARITY_WORDS = frozenset({"step", "steps", "epoch", "epochs", "batch", "iter", "iteration", "global"})
# Words that only say "this is an average" or "this is a value".
FILLER_WORDS = frozenset({"avg", "average", "mean", "total", "value", "overall", "set", "data", "metric", "metrics"})
GRAD_NORM_RE = re.compile(r"^(?:(?:train|training)[/_\-. ])?grad(?:ient)?[/_\-. ]?norm(?:[/_\-. ](?:step|epoch))?$", re.I)
# lr, learning_rate, lr-Adam, lr-SGD/pg1, learning_rate/head, train/learning_rate,
# epoch_learning_rate, lr_step, lr-AdamW-1 (Lightning's second optimizer).
# x/lr0 (Ultralytics YOLOv5's results.csv: one per optimizer parameter group, lr/pg0 in YOLOv8).
LR_RE = re.compile(
    r"^(?:(?:train|training|epoch|step|batch|optim|optimizer|opt|hparams?|params?|x)[/_\-. ])*"
    r"(?:lr|learning[_\-. ]?rate)(?P<idx>\d+)?"
    r"(?:[_\-. ](?P<opt>[a-z][a-z0-9]*(?:[_\-.][0-9]+)?))?"
    r"(?:[_\-. ](?:step|epoch))?"
    r"(?:/(?P<group>[^/]+))?$",
    re.I,
)
UPDATE_RATIO_RE = re.compile(
    r"^(?:update[_\-. ]?(?:to[_\-. ]?(?:weight|param)[_\-. ]?)?ratio|update_ratio)/(?P<group>[^/]+)$", re.I
)
# "@" splits too: pytorch/examples' ImageNet script prints "Acc@1".
_SPLIT_RE = re.compile(r"[/_\-. @]+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def split_words(tag: str) -> list[str]:
    """Lower-case words of a tag, split on ``/ _ - .``, whitespace and camelCase (``valLoss``)."""
    return [w for w in _SPLIT_RE.split(_CAMEL_RE.sub(" ", tag.strip()).lower()) if w]


@dataclass(frozen=True)
class MetricMatch:
    """How one tag maps onto a canonical name."""

    metric: str  #: canonical name, or the tag itself when unknown
    exact: bool  #: False for qualified matches and for unknown tags
    known: bool  #: True when the tag maps onto a canonical name at all
    granularity: str | None = None  #: "step" or "epoch" when the tag says so


def match_tag(tag: str) -> MetricMatch:
    """Map one tag onto its canonical metric name (see the module docstring)."""
    t = tag.strip()
    m = UPDATE_RATIO_RE.match(t)
    if m:
        return MetricMatch(f"update_ratio/{m.group('group')}", True, True)
    m = LR_RE.match(t)
    if m:
        group = m.group("group")
        opt = (m.group("opt") or "").lower()
        # "lr_train" / "learning_rate_epoch" are not optimizer names.
        if opt in SPLIT_WORDS or opt in GRANULARITY_WORDS:
            opt = ""
        if group:
            return MetricMatch(f"lr/{group}", True, True)
        if m.group("idx"):
            return MetricMatch(f"lr/pg{m.group('idx')}", True, True)
        return MetricMatch("lr", True, True)
    if GRAD_NORM_RE.match(t):
        return MetricMatch("grad_norm", True, True)

    words = split_words(t)
    split = None
    quantity = None
    granularity = None
    extra: list[str] = []
    proxy = False
    for w in words:
        if w in SPLIT_WORDS and split is None:
            split = SPLIT_WORDS[w]
        elif w in LOSS_WORDS and quantity is None:
            quantity = "loss"
        elif w in ACC_WORDS and quantity is None:
            quantity = "acc"
        elif w in LOSS_PROXY_WORDS and quantity is None:
            quantity, proxy = "loss", True
        elif w in GRANULARITY_WORDS:
            if w.startswith("epoch"):
                granularity = "epoch"
            elif w != "global":
                granularity = "step"
        elif w in FILLER_WORDS or w in ACC_KIND_WORDS:
            continue
        else:
            extra.append(w)
    if quantity is None:
        return MetricMatch(tag, False, False, granularity)
    # No split word: Keras' plain `loss` / `accuracy` and TF2's `epoch_loss` are training.
    metric = f"{split or 'train'}_{quantity}"
    return MetricMatch(metric, not extra and not proxy, True, granularity)


def resolve_metrics(tag_points: Mapping[str, int] | Iterable[tuple[str, int]]) -> dict[str, str]:
    """Give each tag of ONE run its metric name, so no two tags share a name.

    ``tag_points`` maps tag -> number of points. Exact matches beat qualified
    ones; among equals the tag with most points wins, then the shorter tag,
    then the alphabetically first (so the choice is deterministic).
    """
    items = sorted(dict(tag_points).items())
    claims: dict[str, list[tuple[tuple, str]]] = {}
    result: dict[str, str] = {}
    for tag, n in items:
        mm = match_tag(tag)
        if not mm.known:
            result[tag] = tag
            continue
        rank = (0 if mm.exact else 1, -int(n), len(tag), tag)
        claims.setdefault(mm.metric, []).append((rank, tag))
    # A run that evaluated only on a "test" split (the PyTorch tutorials' Loss/test)
    # has that as its validation curve.
    if "val_loss" not in claims and "test_loss" in claims:
        claims["val_loss"] = claims.pop("test_loss")
        if "val_acc" not in claims and "test_acc" in claims:
            claims["val_acc"] = claims.pop("test_acc")
    winners: set[str] = set()
    for metric, cands in claims.items():
        cands.sort()
        result[cands[0][1]] = metric
        winners.add(cands[0][1])
        for _, tag in cands[1:]:
            result[tag] = tag
    # A tag kept under its own name may collide with a canonical name won by
    # another tag ("train_loss" next to a denser "loss"); winners keep theirs.
    taken = {result[t] for t in winners}
    for tag in sorted(t for t in result if t not in winners):
        name = result[tag]
        while name in taken:
            name = f"{name}#"
        result[tag] = name
        taken.add(name)
    return result
