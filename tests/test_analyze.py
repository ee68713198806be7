"""The analyzer on real logs, on hostile series, and its API (config, suppression, determinism)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrreport
from lrreport.analyze.config import Config, load_config
from lrreport.report.jsonout import to_json
from lrreport.runs import SCALARS_SCHEMA, RunInfo, RunSet


def runset_from(series: dict[str, np.ndarray], run: str = "r", hparams=None, steps=None) -> RunSet:
    rows = []
    for metric, values in series.items():
        st_ = steps if steps is not None else np.arange(len(values))
        for s, v in zip(st_, values):
            rows.append({"run": run, "source": "test", "tag": metric, "metric": metric, "step": int(s), "epoch": None, "wall_time": None, "value": float(v)})
    df = pl.DataFrame(rows, schema=SCALARS_SCHEMA)
    info = RunInfo(run=run, source="test", path=run, hparams=hparams or {}, metrics=sorted(series), points=len(rows))
    return RunSet("mem", df, {run: info})


# --- real logs -----------------------------------------------------------------------

OVERFIT = {
    "hf_trainer_state/trainer-state-viz-overfit.json": (300, 1500),
    "hf_trainer_state/whisper-large-v2-ja-overfit.json": (500, 2000),
    "keras_history/braintumor-overfit-learning_rate.json": (8, 20),
    "tfevents/dlgn-v13-overfit.tfevents": (900, 1300),
}


@pytest.mark.parametrize("rel", sorted(OVERFIT))
def test_overfitting_found_with_where_to_stop(realworld, rel):
    a = lrreport.analyze(lrreport.load(realworld / rel))
    (f,) = [f for f in a.findings if f.code == "overfitting"]
    lo, hi = OVERFIT[rel]
    assert lo <= f.best_step <= hi, f.best_step
    assert f.severity == "warning" and f.evidence["val_rise_over_min"] > 0.05
    assert str(f.best_step) in f.advice
    if "tfevents" in rel:  # Lightning's `epoch` scalar gives the epoch to stop at
        assert 35 <= f.best_epoch <= 50


def test_nan_gan_is_divergence(realworld):
    a = lrreport.analyze(lrreport.load(realworld / "lightning_csv/genrisk-gan-v0-nan-divergence.csv"))
    (f,) = [f for f in a.findings if f.code == "divergence"]
    assert f.severity == "error" and f.start_step == 0


@pytest.mark.parametrize(
    "rel",
    ["keras_history/trafficsign-healthy.json", "lightning_csv/cyclemoid-mnist-v0.csv", "tfevents/dlgn-v54-healthy.tfevents"],
)
def test_healthy_real_runs_raise_no_warning(realworld, rel):
    a = lrreport.analyze(lrreport.load(realworld / rel))
    assert [f.code for f in a.findings if f.severity != "info"] == []


def test_reducelronplateau_cuts_are_schedule_events_in_the_trace(realworld):
    rs = lrreport.load(realworld / "keras_csv/brats2020-reducelr-lr.csv")
    a = lrreport.analyze(rs)
    run = rs.run_names[0]
    assert [round(c.after, 7) for c in a.lr_changes[run]][:2] == [0.0002, 0.00004]
    tr = a.trace(run)
    assert {"epoch", "train_loss", "val_loss", "val_acc", "lr", "observation"} <= set(tr.columns)
    assert tr.height == 24
    # The cut's row tells what it did (lr_story): the LR it took, and the losses around it.
    assert tr["observation"][4].startswith("LR 0.001 → 0.0002. train loss ")
    assert "/epoch" in tr["observation"][4] and "val loss" in tr["observation"][4]


def test_no_lr_logged_says_how(realworld):
    a = lrreport.analyze(lrreport.load(realworld / "keras_history/trafficsign-healthy.json"))
    (f,) = [f for f in a.findings if f.code == "no_lr_logged"]
    assert "callback" in f.advice


# --- hostile series ---------------------------------------------------------------------

SERIES = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.just(0.0), st.just(1e300)), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(train=SERIES, val=SERIES, lr=SERIES)
def test_detectors_never_raise(train, val, lr):
    series = {k: np.asarray(v, dtype=float) for k, v in (("train_loss", train), ("val_loss", val), ("lr", lr)) if v}
    if not series:
        return
    a = lrreport.analyze(runset_from(series))
    assert not [f for f in a.findings if f.code == "analysis_error"], [f.message for f in a.findings]
    json.loads(to_json(a))  # always valid JSON, NaN included
    a.trace("r")


@pytest.mark.parametrize(
    "values",
    [np.array([]), np.array([1.0]), np.full(50, np.nan), np.full(50, 2.3), np.full(100, 1e308), np.linspace(-5, 5, 30)],
    ids=["empty", "single", "all-nan", "constant", "huge", "negative"],
)
def test_edge_series(values):
    series = {"train_loss": values, "val_loss": values, "lr": np.full(len(values), 0.1)}
    series = {k: v for k, v in series.items() if len(v)}
    if not series:
        pytest.skip("nothing to build")
    a = lrreport.analyze(runset_from(series))
    assert not [f for f in a.findings if f.code == "analysis_error"]


def test_constant_loss_is_too_low_not_too_high():
    rng = np.random.default_rng(0)
    loss = 2.3 - 0.002 * np.arange(200) / 200 + 0.001 * rng.standard_normal(200)
    a = lrreport.analyze(runset_from({"train_loss": loss, "lr": np.full(200, 1e-6)}))
    codes = {f.code for f in a.findings}
    assert "lr_too_low" in codes and "lr_too_high" not in codes
    (f,) = [f for f in a.findings if f.code == "lr_too_low"]
    assert f.suggested_lr == pytest.approx(1e-5)


# --- API ----------------------------------------------------------------------------------


def test_config_from_pyproject_and_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lrreport]\nsuppress = ["no_lr_logged"]\nspike_ratio = 4.5\n')
    cfg = load_config(search_from=tmp_path)
    assert cfg.suppress == ("no_lr_logged",) and cfg.spike_ratio == 4.5
    (tmp_path / "c.toml").write_text("overfit_rise = 0.2\n")
    cfg = load_config(tmp_path / "c.toml", search_from=tmp_path)
    assert cfg.overfit_rise == 0.2 and cfg.spike_ratio == 4.5
    with pytest.raises(ValueError, match="unknown lrreport setting"):
        Config().with_overrides({"spike_ration": 3})


def test_suppressed_codes_are_dropped(realworld):
    rs = lrreport.load(realworld / "keras_history/trafficsign-healthy.json")
    a = lrreport.analyze(rs, Config(suppress=("no_lr_logged",)))
    assert not a.findings


def test_json_is_byte_identical_across_loads(realworld):
    one = to_json(lrreport.analyze(lrreport.load(realworld)))
    two = to_json(lrreport.analyze(lrreport.load(realworld)))
    assert one == two
    doc = json.loads(one)
    assert {"lrreport_version", "logdir", "runs", "sweeps", "errors"} <= set(doc)
    for run in doc["runs"]:
        assert {"run", "format", "metrics", "hparams", "findings"} <= set(run)
        for f in run["findings"]:
            assert {"code", "severity", "run", "metric", "start_step", "end_step", "evidence", "message", "advice", "confidence"} <= set(f)


def test_tables_for_notebooks(realworld):
    a = lrreport.analyze(lrreport.load(realworld / "keras_history"))
    df = a.to_polars()
    assert df.height == len(a.findings) and "advice" in df.columns
    assert a.to_pandas().shape[0] == df.height
    assert "<table>" in a._repr_html_()


def test_sweep_found_from_run_names_when_logs_carry_no_lr(tmp_path):
    """Keras histories with no LR key and no hyperparameters: the folder names say the LR."""
    from conftest import write_keras_history

    rng = np.random.default_rng(0)
    t = np.arange(20)
    shapes = {
        1e-5: 2.3 - 0.002 * t,                       # barely moves
        1e-3: 0.3 + 2.0 * np.exp(-t / 4),            # the best
        1e-2: 0.35 + 1.95 * np.exp(-t / 3),          # about as good
        1.0: 2.3 + 0.3 * np.abs(np.sin(t)),          # never learns
    }
    for lr, y in shapes.items():
        noise = 1 + 0.01 * rng.standard_normal(20)
        write_keras_history(tmp_path / f"lr={lr:g}_seed=0" / "history.json", {"loss": list(y * noise), "val_loss": list(y * 1.05)})
    a = lrreport.analyze(lrreport.load(tmp_path))
    (sweep,) = a.sweeps
    assert sweep.best_lr == pytest.approx(1e-3)
    pos = {r.lr: r.position for r in sweep.runs}
    assert pos[1e-5] == "too_low" and pos[1.0] == "too_high"
    (f,) = [f for f in a.run_findings("lr=1e-05_seed=0") if f.code == "lr_too_low"]
    assert f.suggested_lr == pytest.approx(1e-3)


def test_lr_range_test_recognised_by_its_exponential_ramp(tmp_path):
    """No hparams, no telling name: the LR growing exponentially over the whole run is enough."""
    from conftest import write_keras_csv

    lrs = list(1e-6 * (10.0 / 1e-6) ** (np.arange(80) / 79))
    x = np.log10(lrs)
    loss = list(2.3 - 1.5 / (1 + np.exp(-(x + 3) * 2)) + np.where(x > -0.5, 10 ** (2 * (x + 0.5)), 0))
    write_keras_csv(tmp_path / "probe" / "training.log", {"loss": loss, "lr": lrs})
    a = lrreport.analyze(lrreport.load(tmp_path))
    res = a.lr_finds["probe"]
    assert 1e-4 < res.suggested_lr < 1.0 and set(res.candidates) == {"valley", "minimum", "steepest"}
    assert not [f for f in a.findings if f.code in ("divergence", "lr_too_high")]  # the blow-up is the test's end


def test_set_ups_side_by_side_in_one_folder_form_separate_sweeps(tmp_path):
    from conftest import write_keras_csv

    t = np.arange(15)
    for setup, best in (("digits_sgd", 0.1), ("wine_adam", 0.001)):
        for lr in (best / 100, best / 10, best, best * 10):
            gap = abs(np.log10(lr / best))
            y = 0.2 + (0.3 + gap) * np.exp(-t / (3 + 4 * gap)) + 0.1 * gap
            write_keras_csv(tmp_path / f"{setup}_lr{lr:g}.csv", {"loss": list(y), "val_loss": list(y * 1.1)})
    a = lrreport.analyze(lrreport.load(tmp_path))
    assert sorted(s.best_lr for s in a.sweeps) == pytest.approx([0.001, 0.1])
    assert all(len(s.runs) == 4 for s in a.sweeps)
