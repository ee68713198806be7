"""The public API is what the README documents, and the wheel carries what the package needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import lrreport

REPO = Path(__file__).resolve().parent.parent


def test_all_is_the_documented_api():
    assert sorted(lrreport.__all__) == sorted(
        ["Analysis", "Finding", "LRFindResult", "LogReadError", "ReadError", "Report", "RunInfo", "RunSet",
         "Sweep", "__version__", "analyze", "load"]
    )
    readme = (REPO / "README.md").read_text()
    for name in ("lrreport.load", "lrreport.analyze", "lrreport.Report"):
        assert name in readme
    for name in lrreport.__all__:
        assert hasattr(lrreport, name)


def test_version_matches_pyproject():
    text = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', text, re.M).group(1) == lrreport.__version__


@pytest.mark.slow
def test_wheel_ships_templates_and_py_typed(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git needed to copy the tree")
    pytest.importorskip("hatchling")
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("lrreport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "lrreport/py.typed" in names
    assert "lrreport/templates/report.html.j2" in names
    assert "lrreport/cli.py" in names and "lrreport/ingest/tfevents.py" in names
    assert "lrreport/ingest/WANDB_LICENSE" in names  # the W&B record decoder follows wandb's MIT-licensed schema
    assert not any(n.startswith(("tests/", "sample_logs/")) for n in names)
