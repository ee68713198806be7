"""The JSON contract of FINDINGS.md, byte-identical for the same logs."""

from __future__ import annotations

import json

from ..analyze.analysis import Analysis

__all__ = ["to_json"]


def to_json(analysis: Analysis, indent: int | None = 2) -> str:
    # allow_nan=False: NaN/Inf were already turned into strings by Analysis.to_dict.
    text = json.dumps(analysis.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"
    # A lone surrogate (a name whose bytes were not UTF-8, from a RunSet built by hand) as its
    # JSON escape \udcff: the text stays valid UTF-8 and parses back to the same string.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
