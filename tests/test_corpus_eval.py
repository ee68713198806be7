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


SCHEDULES = [
    ("onecycle", "onecycle", "step", 0),
    ("cosine_warmup", "cosine", "step", 50),
    ("plateau", "plateau", "epoch", 0),
    ("multistep", "multistep:milestones=10/15,gamma=0.3", "epoch", 0),
    ("step", "step:step_size=7,gamma=0.5", "epoch", 0),
    ("exponential", "exponential:gamma=0.95", "epoch", 0),
    ("warm_restarts", "cosine_restarts:t_0=5", "epoch", 0),
]


@pytest.mark.slow
def test_sensible_schedules_at_a_good_lr_raise_no_lr_warning(tmp_path):
    """The schedules people use (one-cycle, warmup + cosine, ReduceLROnPlateau, multistep,
    warm restarts) at an LR that works: no schedule, too-high or too-low warning."""
    from dataclasses import replace

    import lrreport
    from lrreport.harness.sweep import run_configs
    from lrreport.harness.train import TrainConfig

    bases = [
        ("digits-sgd", TrainConfig(dataset="digits", hidden=(64,), epochs=20, batch_size=32, optimizer="sgd",
                                   momentum=0.9, lr=0.05, log_every=1)),
        ("wine-adam", TrainConfig(dataset="wine", hidden=(32,), epochs=40, batch_size=16, optimizer="adam", lr=3e-3,
                                  log_every=0)),
    ]
    formats = ["tb", "hf", "lightning", "csv", "keras_history", "mlflow", "keras_tb"]
    configs = [
        replace(base, schedule=s, sched_interval=iv, warmup=w, formats=(formats[i % 7],), name=f"{b}/{n}", seed=3)
        for i, ((b, base), (n, s, iv, w)) in enumerate((x, y) for x in bases for y in SCHEDULES)
    ]
    run_configs(configs, tmp_path, workers=2, progress=False)
    analysis = lrreport.analyze(lrreport.load(tmp_path))
    assert len(analysis.runs) == len(configs)
    flagged = {
        f.run: f.code
        for f in analysis.findings
        if f.code in ("schedule_too_aggressive", "lr_too_high", "lr_too_low", "divergence")
    }
    assert not flagged, flagged
