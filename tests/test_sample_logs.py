"""The README's first command analyses sample_logs/: each story there (real harness runs,
every log format) must come out as the finding it was made to show."""

from __future__ import annotations

from pathlib import Path

import pytest

import lrreport

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"

STORIES = {
    "healthy-demo": set(),
    "lr-too-high": {"lr_too_high"},
    "lr-too-low": {"lr_too_low"},
    "overfitting": {"overfitting"},
    "group-lrs": {"lr_group_imbalance"},
    "lr-sweep/lr=1e+01_seed=0": {"lr_too_high"},
    "lr-sweep/lr=1e-01_seed=0": set(),
    "lr-sweep/lr=1e-04_seed=0": {"lr_too_low"},
}


@pytest.fixture(scope="module")
def analysis():
    if not SAMPLES.is_dir():
        pytest.skip("sample_logs/ not generated")
    return lrreport.analyze(lrreport.load(SAMPLES))


@pytest.mark.parametrize("run", sorted(STORIES))
def test_story(analysis, run):
    got = {f.code for f in analysis.run_findings(run) if f.severity != "info"}
    assert got == STORIES[run], (run, got)


def test_warmup_needed_on_a_real_early_blow_up(analysis):
    (f,) = [f for f in analysis.run_findings("warmup-needed") if f.code == "warmup_needed"]
    assert f.evidence["early_peak_over_start"] > 3 and f.start_step == 0
    assert f.warmup_steps >= f.end_step and f"total_iters={f.warmup_steps}" in f.advice


def test_divergence_and_early_schedule_cut(analysis):
    div = [r for r in analysis.runs if r.startswith("divergence/")]
    cut = [r for r in analysis.runs if r.startswith("schedule-cut-early/")]
    assert div and {f.code for f in analysis.run_findings(div[0])} >= {"divergence"}
    (f,) = [f for f in analysis.run_findings(cut[0]) if f.code == "schedule_too_aggressive"]
    assert f.suggested_cut_step > f.start_step


def test_every_format_is_represented(analysis):
    formats = {info.source for info in analysis.runset.runs.values()}
    assert {"tfevents", "keras_csv", "keras_history", "lightning_csv", "hf_trainer_state", "mlflow"} <= formats


def test_sweep_and_lr_find(analysis):
    (sweep,) = analysis.sweeps
    assert sweep.best_lr == pytest.approx(0.1)
    assert {r.position for r in sweep.runs} >= {"best", "too_high", "too_low"}
    (res,) = analysis.lr_finds.values()
    assert 1e-4 < res.suggested_lr < 1.0 and set(res.candidates) == {"valley", "minimum", "steepest"}
    # Too-high and too-low advice inside the range that worked.
    for r in sweep.runs:
        if r.position in ("too_high", "too_low"):
            (f,) = [f for f in analysis.run_findings(r.run) if f.code in ("lr_too_high", "lr_too_low", "divergence")]
            assert f.suggested_lr == pytest.approx(sweep.best_lr)


def test_demo_trace_is_the_epoch_table_the_project_started_from(analysis):
    tr = analysis.trace("healthy-demo")
    assert tr.height == 15 and list(tr.columns) == ["epoch", "step", "train_loss", "val_loss", "val_acc", "lr", "observation"]
    assert tr["lr"].to_list()[:5] == pytest.approx([0.1] * 5)  # float32 in TensorBoard
    assert tr["lr"][5] == pytest.approx(0.05) and tr["lr"][10] == pytest.approx(0.025)
    # Each StepLR drop's row says what it did to the losses, with numbers (lr_story).
    assert tr["observation"][5].startswith("LR 0.1 → 0.05. train loss falling ")
    assert tr["observation"][10].startswith("LR 0.05 → 0.025. train loss falling ")
    # Same numbers as the harness printed for its epoch table (mean train loss, val loss).
    assert tr["train_loss"][0] == pytest.approx(0.6217, abs=1e-4) and tr["val_loss"][0] == pytest.approx(0.5533, abs=1e-4)
    ov = analysis.trace("overfitting")
    (i,) = [k for k, o in enumerate(ov["observation"]) if "best val loss" in o]
    assert ov["observation"][i + 1].startswith("val loss rising since epoch")
