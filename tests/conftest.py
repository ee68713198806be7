"""Shared fixtures: where the real-world logs live, and small logs written the way the frameworks write them."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
REALWORLD = Path(os.environ.get("LRREPORT_REALWORLD", REPO.parent / "shared" / "realworld"))


@pytest.fixture(scope="session")
def realworld() -> Path:
    if not REALWORLD.is_dir():
        pytest.skip(f"real-world logs not found at {REALWORLD} (../shared is absent)")
    return REALWORLD


def write_keras_csv(path: Path, history: dict[str, list[float]]) -> Path:
    """As keras.callbacks.CSVLogger writes it: csv.writer (CRLF), 'epoch' then sorted keys."""
    keys = sorted(history)
    n = len(next(iter(history.values())))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["epoch", *keys])
        w.writeheader()
        for e in range(n):
            row = {"epoch": e}
            for k in keys:
                v = history[k][e]
                row[k] = "NA" if v is None else v
            w.writerow(row)
    return path


def write_keras_history(path: Path, history: dict[str, list[float]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history))
    return path


def curve(n: int, start: float = 2.3, end: float = 0.3, noise: float = 0.0, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    base = end + (start - end) * np.exp(-t / max(1.0, n / 5))
    return [float(x) for x in base * (1 + noise * rng.standard_normal(n))]


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """The summary cache of every CLI call in the tests lives in a temp folder, never ~/.cache."""
    path = tmp_path_factory.mktemp("lrreport-cache")
    old = os.environ.get("LRREPORT_CACHE_DIR")
    os.environ["LRREPORT_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("LRREPORT_CACHE_DIR", None)
    else:
        os.environ["LRREPORT_CACHE_DIR"] = old
