"""The benchmark scripts the README quotes still run: each on a tiny input, its table printed
with the rows it counted (a script that broke with the code it measures would go unnoticed
until someone needed its numbers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _run(*args: str, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    res = subprocess.run([sys.executable, str(SCRIPTS / args[0]), *args[1:]], capture_output=True, text=True,
                         env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_bench_ingest_runs_and_counts_rows(tmp_path):
    out = _run("bench_ingest.py", "--scalars", "20000", "--runs", "2", "--repeat", "1", "--tools", "lrreport",
               "--skip-cold", tmp_path=tmp_path)
    rows = [line.split() for line in out.splitlines() if line.startswith(("simple ", "tf2 "))]
    assert {r[0] for r in rows} == {"simple", "tf2"}
    assert all(r[1] == "lrreport.load" for r in rows)
    assert "20,000" in out and "fixed start-up" in out


def test_bench_report_runs(tmp_path):
    out = _run("bench_report.py", "--runs", "3", "--no-old", tmp_path=tmp_path)
    (row,) = [line.split() for line in out.splitlines() if line.split()[:1] == ["3"]]
    assert int(row[1]) > 0 and float(row[6]) > 0  # points read, a report written
