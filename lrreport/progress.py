"""The one progress bar policy: on stderr, for long work, on a terminal, never under CI."""

from __future__ import annotations

import os
import sys

__all__ = ["progress_bar"]

#: Fewer items than this finish before a bar would help.
MIN_ITEMS = 20


def progress_bar(total: int, desc: str, enabled: bool | None = None):
    """A tqdm bar on stderr, or None. ``enabled=None`` decides: at least MIN_ITEMS items,
    stderr is a terminal, and CI is not set."""
    if enabled is None:
        enabled = (
            total >= MIN_ITEMS and sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
        )
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, leave=False)
