"""The one YAML loader: every ``hparams.yaml``, MLflow ``meta.yaml`` and W&B ``config.yaml`` goes through it.

``yaml.safe_load`` runs no code, but it still lets a small file do harm:

* **alias bombs**: nine levels of ten aliases (a few hundred bytes) make a tree
  of a billion nodes once anything walks it (``json.dumps`` of the hparams);
* **alias loops**: ``&a [*a]`` builds a list that contains itself, and every
  walker recurses forever;
* **deep nesting**: ``[[[[...]]]]`` ten thousand deep overflows the composer's
  recursion;
* **odd scalars raise on construction**, not as ``YAMLError``: a date
  ``2024-13-45`` or ``2024-02-30``, ``!!int '0xZZ'``, a 5000-digit integer.

So the loader here is PyYAML's pure-Python ``SafeLoader`` with bounds enforced
while the node tree is composed (before anything is built): at most
:data:`MAX_ALIASES` aliases, no alias to a node that contains it, at most
:data:`MAX_NODES` nodes counting every alias at its full expanded size, at most
:data:`MAX_DEPTH` levels. An alias or subtree beyond a bound is replaced by a
text that says so (and the caller warns), and the rest of the file is read; a
file of more than :data:`MAX_NODES` nodes of its own, or over the config size
cap of :mod:`lrreport.ingest.files`, is not read. Scalars that cannot be built are
kept as their text, dates stay text (a run's ``start_time`` is not compared as
a date anywhere), and tags PyYAML would refuse (``!!python/tuple``, which
Lightning writes into ``hparams.yaml``) are built as the plain list, dict or
text they wrap. Every failure is a :class:`~lrreport.ingest.base.LogReadError`.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import yaml

from .base import LogReadError
from .files import read_bytes

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_NODES", "load_yaml_text", "read_yaml", "refused_warning"]

MAX_ALIASES = 200
MAX_NODES = 200_000
MAX_DEPTH = 64
#: Nesting beyond which a file is refused before PyYAML sees it: its scanner keeps a list
#: of possible keys per level, so parsing time grows with the square of the depth
#: (5000 levels of ``[`` took 30 s). Within it, subtrees deeper than MAX_DEPTH are cut.
MAX_SCAN_DEPTH = 512
_QUOTED_OR_COMMENT = re.compile(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*")
_LEAD = re.compile(r"^([ \t]*)((?:-[ \t]+)*)")


class _Bounded(Exception):
    pass


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader with alias, loop, size and depth bounds checked while composing. An alias
    or a subtree beyond a bound is replaced by a text saying so (``refused`` lists them),
    so the rest of the document (the ``lr`` beside an alias bomb) is still read."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._lr_depth = 0
        self._lr_nodes = 0
        self._lr_aliases = 0
        self._lr_open: set[str] = set()
        self.refused: list[str] = []

    def _refuse(self, why: str, start, end) -> yaml.ScalarNode:
        self.refused.append(why)
        node = yaml.ScalarNode("tag:yaml.org,2002:str", f"<refused: {why}>", start, end)
        node._lr_size = 1
        return node

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            self._lr_aliases += 1
            target = self.anchors.get(anchor)
            why = None
            if self._lr_aliases > MAX_ALIASES:
                why = f"more than {MAX_ALIASES} aliases"
            elif anchor in self._lr_open:
                why = f"alias *{anchor} refers to a node that contains it (a loop)"
            elif target is not None and self._lr_nodes + getattr(target, "_lr_size", 1) > MAX_NODES:
                why = f"alias *{anchor} would expand the document beyond {MAX_NODES} nodes"
            if why is not None:
                event = self.get_event()
                return self._refuse(why, event.start_mark, event.end_mark)
            if target is not None:
                self._lr_nodes += getattr(target, "_lr_size", 1)
            return super().compose_node(parent, index)
        if self._lr_depth >= MAX_DEPTH:
            return self._skip_subtree()
        self._lr_depth += 1
        self._lr_nodes += 1
        if self._lr_nodes > MAX_NODES:
            raise _Bounded(f"more than {MAX_NODES} nodes")
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._lr_open.add(anchor)
        start = self._lr_nodes
        try:
            node = super().compose_node(parent, index)
        finally:
            self._lr_depth -= 1
            if anchor is not None:
                self._lr_open.discard(anchor)
        node._lr_size = self._lr_nodes - start + 1
        return node

    def _skip_subtree(self) -> yaml.ScalarNode:
        """Consume one node nested beyond MAX_DEPTH, without recursion, and stand a text in for it."""
        first = self.get_event()
        anchor = getattr(first, "anchor", None)
        depth = 1 if isinstance(first, (yaml.SequenceStartEvent, yaml.MappingStartEvent)) else 0
        last = first
        while depth:
            last = self.get_event()
            if isinstance(last, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
            elif isinstance(last, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
        node = self._refuse(f"nested deeper than {MAX_DEPTH} levels", first.start_mark, last.end_mark)
        if anchor is not None:
            self.anchors[anchor] = node
        return node


def _text_on_failure(construct):
    def build(loader, node):
        try:
            return construct(loader, node)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            return loader.construct_scalar(node)

    return build


def _plain(loader, suffix, node):
    """A tag PyYAML's safe loader refuses, built as the plain value it wraps."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


for _tag, _fn in (
    ("tag:yaml.org,2002:int", yaml.SafeLoader.construct_yaml_int),
    ("tag:yaml.org,2002:float", yaml.SafeLoader.construct_yaml_float),
    ("tag:yaml.org,2002:binary", yaml.SafeLoader.construct_yaml_binary),
    ("tag:yaml.org,2002:bool", yaml.SafeLoader.construct_yaml_bool),
):
    BoundedSafeLoader.add_constructor(_tag, _text_on_failure(_fn))
BoundedSafeLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
BoundedSafeLoader.add_multi_constructor("", _plain)
BoundedSafeLoader.add_multi_constructor("!", _plain)


def nesting_depth(text: str) -> int:
    """An upper estimate of a YAML text's nesting, in one linear pass: flow brackets outside
    quotes and comments, and block levels (indentation steps plus leading ``- ``)."""
    bare = _QUOTED_OR_COMMENT.sub("", text)
    raw = np.frombuffer(bare.encode("utf-8", "replace"), dtype=np.uint8)
    step = (raw == ord("[")).astype(np.int32) + (raw == ord("{")) - (raw == ord("]")) - (raw == ord("}"))
    flow = int(np.cumsum(step).max()) if step.size else 0
    block = 0
    stack: list[int] = []
    for line in bare.splitlines():
        if not line.strip():
            continue
        m = _LEAD.match(line)
        indent = len(m.group(1))
        while stack and stack[-1] >= indent:
            stack.pop()
        stack.append(indent)
        block = max(block, len(stack) + m.group(2).count("-"))
    return max(flow, block)


def load_yaml_text(data: str | bytes, where: str | os.PathLike = "<yaml>", refused: list[str] | None = None) -> Any:
    """Parse one YAML document within the bounds above; LogReadError when it cannot be. What
    was replaced by a "refused" text (an alias bomb, a loop, a subtree too deep) is appended
    to ``refused``."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if nesting_depth(text) > MAX_SCAN_DEPTH:
        raise LogReadError(where, f"YAML refused: nested deeper than {MAX_SCAN_DEPTH} levels")
    try:
        loader = BoundedSafeLoader(data)
        try:
            obj = loader.get_single_data()
            if refused is not None:
                refused.extend(loader.refused)
            return obj
        finally:
            loader.dispose()
    except _Bounded as exc:
        raise LogReadError(where, f"YAML refused: {exc}") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LogReadError(where, f"not valid YAML ({first})") from None
    except (RecursionError, MemoryError):
        raise LogReadError(where, "YAML refused: too deep or too large to build") from None
    except (ValueError, TypeError, OverflowError, ArithmeticError, UnicodeError) as exc:
        raise LogReadError(where, f"not valid YAML ({type(exc).__name__}: {exc})") from None


def read_yaml(path: str | os.PathLike, refused: list[str] | None = None) -> Any:
    """A YAML settings file, read through the safe opener and the bounded loader."""
    return load_yaml_text(read_bytes(path, "config"), path, refused)


def refused_warning(name: str, refused: list[str]) -> list[str]:
    """The warning line for what the loader replaced in one file (none when nothing was)."""
    if not refused:
        return []
    return [f"{name}: {len(refused)} YAML parts refused and kept as text ({refused[0]})"]
