"""Every log of the real-world set loads with the metrics its story needs (skipped where the set is absent)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import lrreport

EXPECTED = {
    # file: (format, metrics that must be present)
    "keras_csv/brats2020-reducelr-lr.csv": ("keras_csv", {"train_loss", "val_loss", "lr", "train_acc", "val_acc"}),
    "keras_csv/braintumor-plateau-learning_rate.csv": ("keras_csv", {"train_loss", "val_loss", "lr"}),
    "keras_csv/voiceid-small-nolr.csv": ("keras_csv", {"train_loss", "val_loss", "train_acc", "val_acc"}),
    "keras_history/braintumor-overfit-learning_rate.json": ("keras_history", {"train_loss", "val_loss", "lr"}),
    "keras_history/trafficsign-healthy.json": ("keras_history", {"train_loss", "val_loss", "val_acc"}),
    "keras_history/gpt2-doublehead-stuck-head.json": ("keras_history", {"train_loss", "LMOutput_loss", "MCOutput_loss"}),
    "lightning_csv/opal-onecycle-lr-Adam.csv": ("lightning_csv", {"train_loss", "val_loss", "lr"}),
    "lightning_csv/cyclemoid-mnist-v0.csv": ("lightning_csv", {"train_loss", "val_loss", "val_acc", "test_acc"}),
    "lightning_csv/genrisk-gan-v0-nan-divergence.csv": ("lightning_csv", {"train_loss"}),
    "lightning_csv/camels-ch-const-lr-Adam.csv": ("lightning_csv", {"train_loss", "lr"}),
    "lightning_csv/arcroute-rl-loss-spikes.csv": ("lightning_csv", {"train_loss"}),
    "lightning_csv/probing-no-learning.csv": ("lightning_csv", {"train_loss", "train_acc"}),
    "hf_trainer_state/whisper-large-v2-ja-overfit.json": ("hf_trainer_state", {"train_loss", "val_loss", "lr", "eval_wer"}),
    "hf_trainer_state/whisper-tiny-ncc-100k.json": ("hf_trainer_state", {"train_loss", "val_loss", "lr"}),
    "hf_trainer_state/trainer-state-viz-overfit.json": ("hf_trainer_state", {"train_loss", "val_loss", "lr", "grad_norm"}),
    "tfevents/dlgn-v13-overfit.tfevents": ("tfevents", {"train_loss", "val_loss", "val_acc", "train_acc"}),
    "tfevents/fashion-mnist-torch-tutorial-mixed.tfevents": ("tfevents", {"train_loss"}),
    "tfevents/swahili-keras-tf2-train.tfevents.v2": ("tfevents", {"train_loss"}),
    "tfevents/mintomics-v32-truncated-stuck.tfevents": ("tfevents", {"train_loss", "lr"}),
}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_each_real_file_loads_with_its_metrics(realworld, rel):
    fmt, metrics = EXPECTED[rel]
    rs = lrreport.load(realworld / rel)
    assert not rs.errors, rs.errors
    (info,) = rs.runs.values()
    assert info.source == fmt
    assert metrics <= set(info.metrics), (metrics - set(info.metrics), info.metrics)


#: Labelled logs that truly hold no loss curve, and what lrreport says about each.
NO_CURVE = {
    # labels.json: "Run died immediately: only hp_metric=-1, hparams plugin tags and one lr-Adam
    # point". Read as the run it is (an lr point, no loss), so the analyzer can say so.
    "tfevents/mintomics-v28-hparams-lr-only.tfevents": "run",
    # The TF profiler's 40-byte marker: TensorBoard skips it; named alone, it is an error.
    "tfevents/swahili-keras.tfevents.profile-empty": "error",
}


def _labels(realworld) -> dict:
    return json.loads((realworld / "labels.json").read_text())


def test_every_labelled_log_alone_comes_back_with_its_loss_curve(realworld):
    failures = []
    for rel in sorted(_labels(realworld)):
        rs = lrreport.load(realworld / rel)
        with_loss = [r for r in rs.runs if {"train_loss", "val_loss"} & set(rs.metrics(r))]
        if rel in NO_CURVE:
            if NO_CURVE[rel] == "run":
                ok = len(rs.runs) == 1 and not with_loss and not rs.errors
            else:
                ok = not rs.runs and len(rs.errors) == 1 and "profile" in rs.errors[0].error
        else:
            ok = bool(with_loss) and not rs.errors
        if not ok:
            failures.append((rel, {r: rs.metrics(r) for r in rs.runs}, [e.error for e in rs.errors]))
    assert not failures, failures


def test_whole_tree_reads_every_file_once(realworld):
    rs = lrreport.load(realworld)
    assert not rs.errors, rs.errors  # the profile-empty marker is skipped quietly, as TensorBoard does
    assert set(rs.scalars.columns) == {"run", "source", "tag", "metric", "step", "epoch", "wall_time", "value"}
    # Each file belongs to one run, or to the runs one file holds (<file>#fit2, #<model>).
    owners: dict[str, set[str]] = {}
    for name, info in rs.runs.items():
        for f in info.files:
            owners.setdefault(f, set()).add(name.split("#")[0])
    assert all(len(o) == 1 for o in owners.values()), {f: o for f, o in owners.items() if len(o) > 1}
    for rel in _labels(realworld):
        if rel in NO_CURVE and NO_CURVE[rel] == "error":
            continue
        target = str(realworld / rel)
        covered = any(f == target or f.startswith(target + "/") for f in owners)
        assert covered, rel
    with_loss = [r for r in rs.runs if {"train_loss", "val_loss"} & set(rs.metrics(r))]
    assert len(with_loss) >= len(rs.runs) - 1  # the loose tfevents files form one run, as TensorBoard reads them


def test_mlflow_store(realworld):
    rs = lrreport.load(realworld / "mlflow")
    (info,) = rs.runs.values()
    assert info.source == "mlflow"
    assert info.hparams["opt_learning_rate"] == pytest.approx(0.002, rel=1e-6) or "opt_learning_rate" in info.hparams
    s = rs.series(info.run, "train_loss")
    assert len(s) == 10 and s.value[0] == pytest.approx(332.684, rel=1e-4) and s.value[-1] < 240
    assert list(s.step) == list(range(10))


def test_nan_kept_as_nan(realworld):
    rs = lrreport.load(realworld / "lightning_csv/genrisk-gan-v0-nan-divergence.csv")
    v = rs.scalars.filter(rs.scalars["tag"] == "train_disc_loss")["value"].to_numpy()
    assert np.isnan(v).sum() >= 300 and np.nanmax(v) > 1e23


def test_hf_summary_entry_left_out_and_checkpoint_copies_not_counted(realworld, tmp_path):
    src = (realworld / "hf_trainer_state/whisper-large-v2-ja-overfit.json").read_text()
    (tmp_path / "out" / "checkpoint-1000").mkdir(parents=True)
    (tmp_path / "out" / "trainer_state.json").write_text(src)
    (tmp_path / "out" / "checkpoint-1000" / "trainer_state.json").write_text(src)
    rs = lrreport.load(tmp_path)
    assert list(rs.runs) == ["out"]
    tags = set(rs.scalars["tag"].to_list())
    assert "train_runtime" not in tags and "train_loss" not in tags and "eval_runtime" not in tags
    assert rs.series("out", "val_loss").value[-1] == pytest.approx(0.42001, rel=1e-4)


def test_keras_lr_float32_artefacts_kept(realworld):
    rs = lrreport.load(realworld / "keras_csv/brats2020-reducelr-lr.csv")
    lr = rs.series(rs.run_names[0], "lr").value
    assert lr[0] == pytest.approx(1e-3) and math.isclose(lr.min(), 1e-6, rel_tol=1e-3)
