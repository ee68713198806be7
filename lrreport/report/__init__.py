"""Report: turn an Analysis into what people and CI read (HTML, JSON, Markdown, JUnit, terminal)."""

from __future__ import annotations

from .html import Report
from .output import write_atomic

__all__ = ["Report", "write_atomic"]
