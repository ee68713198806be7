"""Home-made histories: CSVs and JSON dicts written by pandas, csv.writer and json.dump as
people write them (no epoch column, fits appended, two models in one file, metadata keys)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

import lrreport

from conftest import curve


def _hist(n=8):
    return {
        "accuracy": curve(n, 0.2, 0.9),
        "loss": curve(n, 2.0, 0.4),
        "val_accuracy": curve(n, 0.2, 0.85),
        "val_loss": curve(n, 2.1, 0.5),
        "learning_rate": [1e-3] * n,
    }


def _only(rs):
    assert not rs.errors, rs.errors
    (name,) = rs.runs
    return name, rs.runs[name]


@pytest.mark.parametrize("index", [False, True])
def test_pandas_to_csv_without_an_epoch_column(tmp_path, index):
    h = _hist()
    pd.DataFrame(h).to_csv(tmp_path / "history.csv", index=index)
    name, info = _only(lrreport.load(tmp_path / "history.csv"))
    assert {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(info.metrics)
    s = lrreport.load(tmp_path / "history.csv").series(name, "val_loss")
    assert list(s.step) == list(range(8)) and list(s.epoch) == list(range(8))
    assert s.value[0] == pytest.approx(h["val_loss"][0])


def test_metric_csv_without_epoch_is_found_in_a_folder_and_data_csvs_stay_quiet(tmp_path):
    pd.DataFrame(_hist()).to_csv(tmp_path / "training_history.csv", index=False)
    pd.DataFrame({"x": [1, 2], "y": [3, 4]}).to_csv(tmp_path / "points.csv", index=False)
    rs = lrreport.load(tmp_path)
    assert list(rs.runs) == [tmp_path.name] and not rs.errors


@pytest.mark.parametrize("orient", ["columns", "index", "records", "split", "table"])
def test_pandas_to_json_every_orient(tmp_path, orient):
    h = _hist()
    pd.DataFrame(h).to_json(tmp_path / "history.json", orient=orient)
    rs = lrreport.load(tmp_path / "history.json")
    name, info = _only(rs)
    assert info.source == "keras_history"
    assert {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(info.metrics)
    s = rs.series(name, "train_loss")
    assert len(s) == 8 and s.value[-1] == pytest.approx(h["loss"][-1])


def _append_fit(path, rows, header=True):
    with open(path, "a", newline="") as fh:
        w = csv.writer(fh)
        if header:
            w.writerow(["epoch", "loss", "val_loss"])
        w.writerows(rows)


def test_fits_appended_under_one_header_are_separate_runs(tmp_path):
    p = tmp_path / "training.log"  # CSVLogger(append=True) writes the header once
    _append_fit(p, [[e, 2 - 0.1 * e, 2.1 - 0.1 * e] for e in range(5)])
    _append_fit(p, [[e, 3 - 0.1 * e, 3.1 - 0.1 * e] for e in range(10)], header=False)
    rs = lrreport.load(p)
    assert sorted(rs.runs) == ["training.log#fit1", "training.log#fit2"]
    assert len(rs.series("training.log#fit1", "train_loss")) == 5
    s = rs.series("training.log#fit2", "train_loss")
    assert len(s) == 10 and s.value[0] == pytest.approx(3.0)
    assert any("fit 2 of 2" in w for w in rs.runs["training.log#fit2"].warnings)


def test_header_written_again_starts_a_new_fit(tmp_path):
    p = tmp_path / "log.csv"
    _append_fit(p, [[e, 2 - 0.1 * e, 2.1] for e in range(1, 4)])
    _append_fit(p, [[e, 1.5 - 0.1 * e, 2.1] for e in range(1, 6)])
    rs = lrreport.load(p)
    assert sorted(rs.runs) == ["log.csv#fit1", "log.csv#fit2"]
    assert len(rs.series("log.csv#fit2", "val_loss")) == 5


def test_resumed_run_is_one_run_and_later_data_wins(tmp_path):
    p = tmp_path / "log.csv"
    _append_fit(p, [[e, 1.0 / e, 0.0] for e in range(1, 26)])  # killed after epoch 25
    _append_fit(p, [[e, 0.5 / e, 0.0] for e in range(21, 31)], header=False)  # reloaded epoch 20's checkpoint
    rs = lrreport.load(p)
    name, info = _only(rs)
    s = rs.series(name, "train_loss")
    assert list(s.epoch) == list(range(1, 31))
    assert s.value[19] == pytest.approx(1 / 20) and s.value[20] == pytest.approx(0.5 / 21)
    assert any("resumed at epoch 21 after epoch 25" in w for w in info.warnings)


def test_two_models_told_apart_by_a_column(tmp_path):
    rows = [("resnet", e, 2 - 0.1 * e, 1e-3) for e in range(1, 6)] + [("vit", e, 3 - 0.2 * e, 1e-4) for e in range(1, 8)]
    pd.DataFrame(rows, columns=["model", "epoch", "train_loss", "lr"]).to_csv(tmp_path / "log.csv", index=False)
    rs = lrreport.load(tmp_path / "log.csv")
    assert sorted(rs.runs) == ["log.csv#resnet", "log.csv#vit"]
    assert len(rs.series("log.csv#vit", "train_loss")) == 7
    assert rs.series("log.csv#resnet", "lr").value[0] == pytest.approx(1e-3)


def test_a_phase_column_is_the_split_not_a_run(tmp_path):
    rows = []
    for e in range(4):
        rows.append((e, "train", 2 - 0.3 * e, 0.5))
        rows.append((e, "val", 2.2 - 0.2 * e, 0.4))
    pd.DataFrame(rows, columns=["epoch", "phase", "loss", "acc"]).to_csv(tmp_path / "log.csv", index=False)
    rs = lrreport.load(tmp_path / "log.csv")
    name, info = _only(rs)
    assert {"train_loss", "val_loss", "train_acc", "val_acc"} <= set(info.metrics)
    assert rs.series(name, "val_loss").value[1] == pytest.approx(2.0)


def test_history_with_metadata_keys(tmp_path):
    h = _hist(10)
    doc = {
        "timestamp": "2024-05-01T12:00:00",
        "class_names": ["cat", "dog", "fish"],
        "phase_starts": [0, 6],
        "test_accuracy": 0.91,
        **h,
        "batch_size": 32,
    }
    (tmp_path / "history.json").write_text(json.dumps(doc, indent=2))
    rs = lrreport.load(tmp_path / "history.json")
    name, info = _only(rs)
    assert {"train_loss", "val_loss", "lr", "test_acc"} <= set(info.metrics)
    assert "phase_starts" not in info.metrics and "timestamp" not in info.hparams
    assert info.hparams == {"batch_size": 32}
    assert any("phase_starts" in w and "class_names" in w for w in info.warnings)
    assert len(rs.series(name, "train_loss")) == 10


@pytest.mark.parametrize("nested", [True, False])
def test_history_with_its_config(tmp_path, nested):
    config = {"optimizer": {"name": "adam", "lr": 3e-4}, "model": "resnet18", "seed": 1}
    h = _hist(6)
    doc = {"config": config, "history": h} if nested else {"config": config, **h}
    (tmp_path / "run.json").write_text(json.dumps(doc))
    rs = lrreport.load(tmp_path / "run.json")
    name, info = _only(rs)
    assert info.hparams["optimizer.lr"] == 3e-4 and info.hparams["model"] == "resnet18"
    assert len(rs.series(name, "val_loss")) == 6


def test_keras_history_object_with_params(tmp_path):
    doc = {"history": _hist(4), "params": {"verbose": 1, "epochs": 4, "steps": 100}, "epoch": [0, 1, 2, 3]}
    (tmp_path / "history.json").write_text(json.dumps(doc))
    name, info = _only(lrreport.load(tmp_path / "history.json"))
    assert info.hparams["epochs"] == 4 and "train_loss" in info.metrics


def test_second_phase_under_a_prefix_is_its_own_run(tmp_path):
    doc = {
        "loss": curve(6, 1.6, 0.3),
        "val_loss": curve(6, 1.8, 0.4),
        "fine_tune_loss": curve(4, 1.0, 0.9),
        "fine_tune_val_loss": curve(4, 0.4, 0.45),
        "test_loss": 0.25,
    }
    (tmp_path / "h.json").write_text(json.dumps(doc))
    rs = lrreport.load(tmp_path / "h.json")
    assert sorted(rs.runs) == ["h.json", "h.json#fine_tune"]
    ft = rs.runs["h.json#fine_tune"]
    assert {"train_loss", "val_loss"} <= set(ft.metrics)
    assert len(rs.series("h.json#fine_tune", "val_loss")) == 4
    assert len(rs.series("h.json", "train_loss")) == 6


def test_pytorch_style_history_dict(tmp_path):
    doc = {"train_loss": curve(5), "val_loss": curve(5, 2.4, 0.5), "train_acc": curve(5, 0.1, 0.9), "lr": [1e-4] * 5}
    (tmp_path / "history_metrics.json").write_text(json.dumps(doc, indent=4))
    name, info = _only(lrreport.load(tmp_path))
    assert info.source == "history_json"
    assert {"train_loss", "val_loss", "train_acc", "lr"} <= set(info.metrics)


def test_list_of_epoch_dicts(tmp_path):
    rows = [{"epoch": e + 1, "train_loss": 1 / (e + 1), "val_loss": 1.1 / (e + 1)} for e in range(5)]
    (tmp_path / "metrics.json").write_text(json.dumps(rows))
    rs = lrreport.load(tmp_path / "metrics.json")
    name, info = _only(rs)
    assert list(rs.series(name, "val_loss").epoch) == [1, 2, 3, 4, 5]


def test_regression_history_with_mse_and_no_loss(tmp_path):
    pd.DataFrame({"epoch": range(1, 6), "train_mse": curve(5), "val_mse": curve(5, 2.5, 0.6), "val_r2": curve(5, 0.1, 0.9)}).to_csv(
        tmp_path / "training_history.csv", index=False
    )
    name, info = _only(lrreport.load(tmp_path / "training_history.csv"))
    assert {"train_loss", "val_loss", "val_r2"} <= set(info.metrics)


def test_ultralytics_results_csv_with_a_padded_header(tmp_path):
    cols = ["epoch", "train/box_loss", "train/obj_loss", "train/cls_loss", "metrics/mAP_0.5", "val/box_loss", "x/lr0"]
    header = ",".join(f"{c:>20}" for c in cols)
    rows = [",".join(f"{v:>20}" for v in (e, 0.1 / (e + 1), 0.05, 0.02, 0.1 * e, 0.12 / (e + 1), 0.01)) for e in range(5)]
    (tmp_path / "results.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    rs = lrreport.load(tmp_path / "results.csv")
    name, info = _only(rs)
    assert {"train_loss", "val_loss", "lr/pg0"} <= set(info.metrics)
    assert list(rs.series(name, "val_loss").epoch) == [0, 1, 2, 3, 4]


def test_one_dict_of_lists_per_split(tmp_path):
    doc = {"epochs": [1, 2, 3], "train": {"loss": [1.0, 0.8, 0.6], "acc": [0.5, 0.6, 0.7]}, "val": {"loss": [1.1, 0.9, 0.8]}}
    (tmp_path / "history.json").write_text(json.dumps(doc))
    rs = lrreport.load(tmp_path / "history.json")
    name, info = _only(rs)
    assert {"train_loss", "val_loss", "train_acc"} <= set(info.metrics)
    assert list(rs.series(name, "val_loss").epoch) == [1, 2, 3]


def test_tensorboard_ui_csv_exports_are_runs_of_their_tags(tmp_path):
    """TensorBoard's dashboard downloads one curve per CSV (``Wall time,Step,Value``, named
    ``run-<run>-tag-<tag>.csv``). The files of one exported run are that run; a Keras run
    exported per split (``<run>_train``, ``<run>_validation``) is one run with both splits;
    a renamed file keeps its stem as the tag."""
    import math

    for run in ("version_0", "version_1"):
        for split in ("train", "validation"):
            for tag in ("epoch_loss", "epoch_accuracy"):
                rows = ["Wall time,Step,Value"]
                for s in range(20):
                    v = math.exp(-s / 5) + (0.2 if split == "validation" else 0) if "loss" in tag else 1 - math.exp(-s / 5)
                    rows.append(f"{1700000000.5 + s},{s},{v!r}")
                (tmp_path / f"run-{run}_{split}-tag-{tag}.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "alone").mkdir()
    (tmp_path / "alone" / "val_loss.csv").write_text("Wall time,Step,Value\n1.0,0,0.9\n2.0,10,0.5\n3.0,20,0.4\n")
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["alone", "version_0", "version_1"] and not rs.errors
    assert rs.runs["version_0"].source == "tb_csv"
    assert rs.runs["version_0"].metrics == ["train_acc", "train_loss", "val_acc", "val_loss"]
    v = rs.scalars.filter((rs.scalars["run"] == "version_1") & (rs.scalars["metric"] == "val_loss")).sort("step")
    assert v["step"].to_list() == list(range(20))
    assert v["value"][0] == pytest.approx(1.2) and v["wall_time"][0] == pytest.approx(1700000000.5)
    assert rs.runs["alone"].metrics == ["val_loss"]


def test_sacred_file_store_run(tmp_path):
    """A run written by Sacred's FileStorageObserver (tests/data/sacred, made with sacred
    0.8.7 by scripts/make_sacred_fixture.py): the logged series with their steps, the LR
    from config.json, cout.txt taken as the console copy of the same run."""
    import shutil
    from pathlib import Path

    data = Path(__file__).parent / "data" / "sacred"
    shutil.copytree(data / "1", tmp_path / "store" / "1")  # expected.json beside it is a history of its own
    expected = json.loads((data / "expected.json").read_text())
    rs = lrreport.load(tmp_path / "store")
    assert list(rs.runs) == ["1"] and not rs.errors
    info = rs.runs["1"]
    assert info.source == "sacred" and info.hparams["lr"] == 0.01
    assert info.metrics == ["lr", "train_loss", "val_loss"]
    assert any("console output not read" in w for w in info.warnings)
    for name, metric in (("training.loss", "train_loss"), ("validation.loss", "val_loss")):
        got = rs.scalars.filter(rs.scalars["metric"] == metric).sort("step")
        assert got["step"].to_list() == list(range(12))
        assert got["value"].to_list() == pytest.approx(expected[name])
        assert got["wall_time"].null_count() == 0


def test_semicolon_and_tab_separated_histories(tmp_path):
    """Keras' ``CSVLogger(..., separator=";")``, a spreadsheet's export with decimal commas,
    and a TSV: read like their comma-separated twins (before, all three were passed over
    without a word). A ``.log`` still needs commas to be taken for a CSV: console text
    holds semicolons and tabs too."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "training.csv").write_text("epoch;loss;lr;val_loss\n0;1.2;0.001;1.3\n1;0.9;0.001;1.0\n2;0.7;0.001;0.9\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "history.csv").write_text("epoch;loss;val_loss\n0;1,2;1,3\n1;0,9;1,0\n2;0,7;0,9\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "history.tsv").write_text("epoch\tloss\tval_loss\n0\t1.2\t1.3\n1\t0.9\t1.0\n2\t0.7\t0.9\n")
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["a", "b", "c"] and not rs.errors
    for run in ("a", "b", "c"):
        got = rs.scalars.filter((rs.scalars["run"] == run) & (rs.scalars["metric"] == "val_loss")).sort("step")
        assert got["value"].to_list() == pytest.approx([1.3, 1.0, 0.9]), run
    assert rs.runs["a"].metrics == ["lr", "train_loss", "val_loss"]
    assert any("decimal commas" in w for w in rs.runs["b"].warnings)


def test_wandb_chart_export_is_one_run_per_run_column(tmp_path):
    """A chart downloaded from the W&B web UI ("Export panel" -> CSV): a ``Step`` column and,
    per run, ``<run> - <metric>`` with ``__MIN``/``__MAX`` beside it; runs that did not log at
    a step leave their cells empty. Each run is a run of its own; the range columns are left
    out."""
    rows = ['"Step","run-a - train/loss","run-a - train/loss__MIN","run-a - train/loss__MAX","run-b - train/loss",'
            '"run-b - train/loss__MIN","run-b - train/loss__MAX"']
    for s in range(0, 200, 10):
        a, b = 1.0 / (s + 1), 2.0 / (s + 1)
        rows.append(f'"{s}","{a!r}","{a!r}","{a!r}","{b!r}","{b!r}","{b!r}"' if s < 150 else f'"{s}","{a!r}","{a!r}","{a!r}","","",""')
    (tmp_path / "wandb_export_2024-01-01T00_00_00.000+00_00.csv").write_text("\n".join(rows) + "\n")
    rs = lrreport.load(tmp_path / "wandb_export_2024-01-01T00_00_00.000+00_00.csv")
    assert sorted(rs.runs) == ["wandb_export_2024-01-01T00_00_00.000+00_00.csv#run-a",
                               "wandb_export_2024-01-01T00_00_00.000+00_00.csv#run-b"]
    for run, k, n in ((sorted(rs.runs)[0], 1.0, 20), (sorted(rs.runs)[1], 2.0, 15)):
        assert rs.runs[run].metrics == ["train_loss"]
        got = rs.scalars.filter(rs.scalars["run"] == run).sort("step")
        assert got.height == n and got["value"][1] == pytest.approx(k / 11)


def test_csv_served_by_tensorboard_matches_its_event_file():
    """tests/data/tb_csv/: the CSVs TensorBoard 2.21 served for sample_logs/healthy-demo
    (``/data/plugin/scalars/scalars?run=.&tag=...&format=csv``, what its download link
    fetches), saved under the dashboard's file names: the same points as the event file."""
    from pathlib import Path

    here = Path(__file__).parent
    rs = lrreport.load(here / "data" / "tb_csv")
    assert list(rs.runs) == ["tb_csv"] and rs.runs["tb_csv"].metrics == ["lr", "train_loss", "val_loss"]
    ev = lrreport.load(here.parent / "sample_logs" / "healthy-demo")
    for metric in ("val_loss", "lr"):
        a = rs.scalars.filter(rs.scalars["metric"] == metric).sort("step")
        b = ev.scalars.filter(ev.scalars["metric"] == metric).sort("step")
        assert a["step"].to_list() == b["step"].to_list()
        assert a["value"].to_list() == pytest.approx(b["value"].to_list(), rel=1e-6)
