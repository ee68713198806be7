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


def test_report_sections_rendered_in_processes_give_the_same_bytes(reference, monkeypatch):
    """A long report builds its runs' sections in worker processes, each from the run's own
    slice of the Analysis; the page must not change by a byte."""
    import lrreport.report.html as html

    a = pipeline.analyze_logdir(SAMPLES, workers=1)
    monkeypatch.setattr(html, "RENDER_PROCESSES_ABOVE", 0)
    assert Report(a, workers=2).to_html() == reference[1]
    # A notebook's Analysis (raw points, no summaries) is rendered here, as before.
    full = lrreport.analyze(lrreport.load(SAMPLES))
    assert not any(full.has_summary(n) for n in full.runs)
    assert Report(full, workers=2).to_html() == reference[1]


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


# --- the summary cache and --watch ---------------------------------------------------------------

def test_cache_reads_only_what_changed(tmp_path):
    import shutil

    from lrreport.cache import SummaryCache

    logs = tmp_path / "logs"
    shutil.copytree(SAMPLES, logs)
    cache = SummaryCache(tmp_path / "cache")
    first, again = {}, {}
    a1 = pipeline.analyze_logdir(logs, cache=cache, stats=first)
    a2 = pipeline.analyze_logdir(logs, cache=cache, stats=again)
    assert first["read"] == first["sources"] > 0 and again["read"] == 0
    assert _outputs(a1) == _outputs(a2)
    # A log that grows is read again; the rest come from the cache.
    csv = next(logs.rglob("*.csv"))
    csv.write_text(csv.read_text())  # same bytes, newer mtime
    more = {}
    pipeline.analyze_logdir(logs, cache=cache, stats=more)
    assert more["read"] == 1


def test_cache_off_where_it_cannot_live(tmp_path):
    from lrreport.cache import SummaryCache

    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = SummaryCache(blocker / "cache")  # a folder under a file cannot be made
    assert not cache.enabled
    assert pipeline.analyze_logdir(SAMPLES / "lr-too-low", cache=cache).runs


def test_watch_renews_when_a_run_appears(tmp_path):
    import shutil
    import threading

    from lrreport.cache import SummaryCache
    from lrreport.watch import watch

    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copytree(SAMPLES / "lr-too-low", logs / "a")
    seen: list[int] = []
    stop = threading.Event()

    def on_analysis(a, n):
        seen.append(len(a.runs))
        if n == 1:
            shutil.copytree(SAMPLES / "warmup-needed", logs / "b")

    updates = watch(logs, on_analysis, interval=0.05, stop=stop, max_updates=2, cache=SummaryCache(tmp_path / "c"))
    assert updates == 2 and seen == [1, 2]


def test_inventory_lists_what_load_lists_without_points():
    inv = pipeline.inventory(SAMPLES)
    full = lrreport.load(SAMPLES)
    assert [i.to_dict() for i in inv.runs.values()] == [i.to_dict() for i in full.runs.values()]
    assert inv.errors == full.errors and inv.scalars.height == 0
