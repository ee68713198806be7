"""Damaged copies of sample_logs/ (flipped bytes, cut files, spliced junk, NaN text) go
through the whole pipeline - load, analyze, every renderer - without an exception, with
one-line errors, and with no detector failing."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

import lrreport
from lrreport.report import Report
from lrreport.report.jsonout import to_json
from lrreport.report.junit import to_junit
from lrreport.report.markdown import to_markdown

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _damage(root: Path, rng: random.Random) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for p in rng.sample(files, k=min(len(files), rng.randint(1, 8))):
        data = bytearray(p.read_bytes())
        if not data:
            continue
        mode = rng.choice(["flip", "truncate", "splice", "nan"])
        if mode == "flip":
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif mode == "truncate":
            data = data[: rng.randrange(len(data))]
        elif mode == "splice":
            i = rng.randrange(len(data))
            data[i:i] = rng.randbytes(rng.randint(1, 64))
        else:
            data = bytearray(bytes(data).replace(b"0.", b"nan", rng.randint(1, 5)))
        p.write_bytes(bytes(data))


@pytest.mark.parametrize("seed", range(6))
def test_damaged_logs_never_break_the_pipeline(tmp_path, seed):
    if not SAMPLES.is_dir():
        pytest.skip("sample_logs/ not generated")
    root = tmp_path / "logs"
    shutil.copytree(SAMPLES, root)
    _damage(root, random.Random(seed))
    rs = lrreport.load(root)
    for e in rs.errors:
        assert e.error and "\n" not in e.error and os.path.isabs(e.path)
    a = lrreport.analyze(rs)
    assert not [f.message for f in a.findings if f.code == "analysis_error"]
    to_json(a)
    to_markdown(a)
    to_junit(a, fail_on="warning")
    Report(a, workers=1).to_html()
