"""The CLI's run-by-run path: the same outputs as load + analyze, locally, in processes, on Dask."""

from __future__ import annotations

from pathlib import Path

import pytest

import lrreport
import lrreport.pipeline as pipeline
from lrreport.analyze.summary import COMPACT_POINTS, DISPLAY_POINTS, SMALL_POINTS
from lrreport.report import Report
from lrreport.report.jsonout import to_json

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _outputs(a) -> tuple[str, str]:
    return to_json(a), Report(a).to_html()


@pytest.fixture(scope="module")
def reference():
    return _outputs(lrreport.analyze(lrreport.load(SAMPLES)))


def test_run_by_run_equals_load_and_analyze(reference):
    a = pipeline.analyze_logdir(SAMPLES, workers=1)
    assert _outputs(a) == reference
    # No raw points are held: the RunSet keeps each run's metadata only.
    assert a.runset.scalars.height == 0 and len(a.runset.runs) == len(lrreport.load(SAMPLES).runs)


def test_worker_processes_give_the_same_bytes(reference, monkeypatch):
    monkeypatch.setattr(pipeline, "MIN_SOURCES_FOR_PROCESSES", 1)
    monkeypatch.setattr(pipeline, "MIN_BYTES_FOR_PROCESSES", 0)
    assert _outputs(pipeline.analyze_logdir(SAMPLES, workers=2)) == reference


def test_dask_local_cluster_gives_the_same_bytes(reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            via_client = _outputs(pipeline.analyze_logdir(SAMPLES, dask=client))
            via_address = _outputs(pipeline.analyze_logdir(SAMPLES, dask=cluster.scheduler_address))
    assert via_client == reference and via_address == reference


def test_real_logs_run_by_run(realworld):
    path = realworld / "lightning_csv"
    assert _outputs(pipeline.analyze_logdir(path, workers=1)) == _outputs(lrreport.analyze(lrreport.load(path)))


def test_summaries_hold_only_what_is_drawn():
    a = pipeline.analyze_logdir(SAMPLES, workers=1)
    for run, summary in a._summaries.items():
        for (metric, n), s in summary.display.items():
            assert n in (DISPLAY_POINTS, COMPACT_POINTS, SMALL_POINTS)
            assert len(s) <= n + 8 + int((~__import__("numpy").isfinite(s.value)).sum())


def test_missing_path_and_env_address(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        pipeline.analyze_logdir(tmp_path / "nope")
    monkeypatch.setenv(pipeline.DASK_ENV, "")
    assert pipeline.analyze_logdir(SAMPLES / "lr-too-low").runs
