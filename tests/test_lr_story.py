"""The story of each LR change (lrreport.analyze.lr_story): on the StepLR demo of
sample_logs, on a real Keras ReduceLROnPlateau log, and on schedules built to show
one effect each (a cut that stalls, one that unsticks a plateau, a warmup, restarts)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrreport
from lrreport.analyze.lr_story import describe_changes, lr_events, story_axis
from lrreport.report.jsonout import to_json

REPO = Path(__file__).resolve().parent.parent
SPE = 50  # steps per epoch of the synthetic runs


@pytest.fixture(scope="module")
def sample():
    if not (REPO / "sample_logs" / "healthy-demo").is_dir():
        pytest.skip("sample_logs/ not generated")
    return lrreport.analyze(lrreport.load(REPO / "sample_logs" / "healthy-demo"))


def test_demo_tells_what_each_steplr_drop_did(sample):
    (run,) = sample.runs
    first, second = sample.lr_changes[run]
    assert (first.where, first.kind, second.where) == ("epoch 5", "cut", "epoch 10")
    assert (first.before, first.after) == pytest.approx((0.1, 0.05)) and second.after == pytest.approx(0.025)
    for c in (first, second):
        train, val = c.losses
        assert (train.metric, val.metric) == ("train_loss", "val_loss")
        assert train.n_before == train.n_after == 3  # three epochs each side
        assert c.story.startswith(f"LR {c.before:.3g} → {c.after:.3g}. train loss falling ")
        assert "/epoch before" in c.story and "/epoch after" in c.story and "val loss" in c.story
    # The demo's loss was still falling at 0.1 and kept falling, more slowly, after each drop:
    # the story gives both slopes and says it cannot credit the drop with a gain.
    t = first.losses[0]
    assert t.slope_before < t.slope_after < 0
    assert first.helped is None and "no drop at the change" in first.reason
    assert f"{abs(t.slope_before):.2g}/epoch before" in first.story and "× slower" in first.story
    # The JSON carries the numbers.
    doc = json.loads(to_json(sample))
    js = doc["runs"][0]["lr_changes"]
    assert [c["where"] for c in js] == ["epoch 5", "epoch 10"]
    assert js[0]["losses"][0]["slope_before"] == pytest.approx(t.slope_before, rel=1e-5)
    assert js[0]["lr_before"] == pytest.approx(0.1) and js[0]["helped"] is None


def test_reducelronplateau_cut_that_helped(realworld):
    a = lrreport.analyze(lrreport.load(realworld / "keras_csv/mnist-cnn-reducelr-learning_rate.csv"))
    (run,) = a.runs
    first = a.lr_changes[run][0]
    assert first.where == "epoch 17" and first.kind == "cut"
    train = first.losses[0]
    # 0.0296 at epoch 16, 0.0230 at epoch 17: a drop far beyond the loss's own trend.
    assert train.level_before == pytest.approx(0.02963, abs=1e-4) and train.level_start == pytest.approx(0.02299, abs=1e-4)
    assert first.helped is True and "dropped at the change" in first.reason
    assert "fell 0.0066 (-22%) across the change" in first.story


def curve(n: int, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 0.3 + 2.0 * np.exp(-t / (n / 6)) + noise * rng.standard_normal(n)


def axis_for(n_steps: int):
    ends = np.arange(SPE - 1, n_steps, SPE)
    return story_axis(0, n_steps - 1, ends, np.arange(len(ends)))


def test_cut_while_falling_fast_that_stalls_did_not_help():
    step = np.arange(20 * SPE)
    lr = np.where(step < 4 * SPE, 0.1, 0.001)
    loss = np.where(step < 4 * SPE, 2.0 - 0.3 * step / SPE, 0.8)
    (c,) = describe_changes(step, lr, {"train_loss": (step, loss)}, axis_for(len(step)))
    assert c.helped is False and "stalled" in c.reason
    assert "train loss falling 0.3/epoch before, flat" in c.story


def test_cut_on_a_plateau_that_unsticks_it_helped():
    step = np.arange(20 * SPE)
    lr = np.where(step < 10 * SPE, 0.1, 0.01)
    loss = np.where(step < 10 * SPE, 1.0, 1.0 - 0.05 * (step - 10 * SPE) / SPE) + 0.001 * np.sin(step)
    (c,) = describe_changes(step, lr, {"train_loss": (step, loss)}, axis_for(len(step)))
    assert c.helped is True and c.story.startswith("LR 0.1 → 0.01. train loss flat (")


def test_nan_after_a_raise_did_not_help():
    step = np.arange(20 * SPE)
    lr = np.where(step < 10 * SPE, 0.01, 1.0)
    loss = curve(len(step))
    loss[10 * SPE + 30 :] = np.nan
    (c,) = describe_changes(step, lr, {"train_loss": (step, loss)}, axis_for(len(step)))
    assert c.kind == "raise" and c.helped is False and "NaN/Inf" in c.reason


def test_warmup_end_and_warm_restarts_are_changes():
    step = np.arange(30 * SPE)
    warm = np.where(step < 3 * SPE, 0.1 * (step + 1) / (3 * SPE), 0.1)  # linear warmup per step
    warm = np.where(step >= 15 * SPE, 0.01, warm)
    events = lr_events(step, warm)
    assert [(e[0], e[3]) for e in events] == [(3 * SPE - 1, "warmup_end"), (15 * SPE, "cut")]
    period = 5 * SPE  # SGDR: cosine from 0.1 to 0.001, restarted every 5 epochs
    sgdr = 0.001 + 0.099 * 0.5 * (1 + np.cos(np.pi * (step % period) / period))
    kinds = [e[3] for e in lr_events(step, sgdr)]
    assert kinds == ["restart"] * 5
    changes = describe_changes(step, sgdr, {"train_loss": (step, curve(len(step)))}, axis_for(len(step)))
    assert [c.where for c in changes] == ["epoch 5", "epoch 10", "epoch 15", "epoch 20", "epoch 25"]
    assert all("(warm restart)" in c.story for c in changes)


def test_lr_range_test_ramp_is_not_a_warmup():
    step = np.arange(100)
    lr = 1e-7 * (1e8 ** (step / 99))
    assert lr_events(step, lr) == []


def test_changes_between_negligible_lrs_get_no_verdict():
    step = np.arange(20 * SPE)
    lr = np.select([step < 5 * SPE, step < 10 * SPE], [0.1, 1e-6], 1e-8)
    changes = describe_changes(step, lr, {"train_loss": (step, curve(len(step), noise=0.3))}, axis_for(len(step)))
    assert changes[1].helped is None and "too small to move the weights" in changes[1].reason


def test_runs_without_epochs_measure_per_round_number_of_steps():
    step = np.arange(0, 10_000, 10)
    lr = np.where(step < 5000, 0.1, 0.01)
    axis = story_axis(0, 9990)
    (c,) = describe_changes(step, lr, {"train_loss": (step, curve(len(step)))}, axis)
    assert axis.unit == "500 steps" and c.where == "step 5,000" and c.epoch is None
    assert "/500 steps before" in c.story


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lr=st.lists(st.sampled_from([0.0, 1e-5, 1e-3, 0.1, 1.0, math.nan, math.inf]), min_size=0, max_size=60),
    loss=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=60),
    epochs=st.booleans(),
)
def test_any_series_gives_a_story_or_nothing(lr, loss, epochs):
    step = np.arange(len(lr))
    ls = np.arange(len(loss))
    axis = story_axis(0, max(len(lr), 1), np.arange(4, 60, 5) if epochs else None)
    with np.errstate(all="ignore"):
        out = describe_changes(step, np.array(lr, dtype=float), {"train_loss": (ls, np.array(loss, dtype=float))}, axis)
    for c in out:
        assert c.story and c.kind in ("cut", "raise", "warmup_end", "restart")
        json.dumps(c.to_dict(), allow_nan=False)
