"""End to end on real runs: the harness trains a small labelled corpus (scripts/make_corpus.py
--quick: every log format, labels from outcomes), and the analyzer must meet its bars on it
(scripts/eval_analyzer.py). The numbers are deterministic: same seeds, CPU, one thread per run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    labels = _script("make_corpus").build(corpus, workers=2, quick=True)
    return _script("eval_analyzer").evaluate_corpus(corpus, labels)


@pytest.mark.slow
def test_every_run_read(result):
    assert result["errors"] == 0 and result["runs"] >= 60


@pytest.mark.slow
@pytest.mark.parametrize("category,floor", [("too_high", 0.85), ("too_low", 0.85), ("overfitting", 0.75), ("schedule_too_aggressive", 0.85)])
def test_recall_with_the_whole_logdir(result, category, floor):
    assert result["whole"][category]["recall"] >= floor, result["whole"][category]


@pytest.mark.slow
@pytest.mark.parametrize("category", ["too_high", "too_low", "overfitting", "schedule_too_aggressive"])
def test_recall_run_by_run(result, category):
    assert result["alone"][category]["recall"] >= 0.75, result["alone"][category]


@pytest.mark.slow
def test_false_alarms_and_advice(result):
    assert result["whole"]["false_alarm_rate"] <= 0.1
    assert result["alone"]["false_alarm_rate"] <= 0.2  # 10 healthy runs in the quick corpus: 2 at most
    assert result["whole"]["advice_in_range"] >= 0.9


@pytest.mark.slow
def test_beats_every_baseline(result):
    for name, base in result["baselines"].items():
        for cat in ("too_high", "too_low", "overfitting"):
            if base[cat]["positives"] and base[cat]["f1"] is not None:
                assert result["whole"][cat]["f1"] >= base[cat]["f1"], (name, cat)
