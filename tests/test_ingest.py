"""Readers and detection on logs written the way each framework writes them, and on hostile files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrreport
from lrreport.ingest.detect import discover

from conftest import curve, write_keras_csv, write_keras_history


def _hist(n=12, lr=True, keras3=True):
    h = {
        "loss": curve(n, 2.3, 0.4),
        "accuracy": curve(n, 0.1, 0.9),
        "val_loss": curve(n, 2.3, 0.5),
        "val_accuracy": curve(n, 0.1, 0.85),
    }
    if lr:
        h["learning_rate" if keras3 else "lr"] = [1e-3] * (n // 2) + [1e-4] * (n - n // 2)
    return h


def test_keras_csv_keras2_and_keras3_names(tmp_path):
    write_keras_csv(tmp_path / "k2" / "training.log", _hist(keras3=False))
    write_keras_csv(tmp_path / "k3" / "training.log", _hist(keras3=True))
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["k2", "k3"]
    for run in rs.runs:
        assert {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(rs.metrics(run))
        assert rs.runs[run].source == "keras_csv"
        s = rs.series(run, "lr")
        assert list(s.step) == list(range(12)) and s.value[-1] == pytest.approx(1e-4)
    raw = (tmp_path / "k2" / "training.log").read_bytes()
    assert b"\r\n" in raw  # written exactly like CSVLogger


def test_keras_csv_na_cells_are_gaps_not_values(tmp_path):
    h = _hist()
    h["val_loss"][3] = None
    write_keras_csv(tmp_path / "training.log", h)
    rs = lrreport.load(tmp_path / "training.log")
    s = rs.series(rs.run_names[0], "val_loss")
    assert len(s) == 11 and 3 not in s.step


def test_keras_history_json_and_several_per_folder(tmp_path):
    write_keras_history(tmp_path / "sweep" / "history_lr0.01.json", _hist())
    write_keras_history(tmp_path / "sweep" / "history_lr0.1.json", _hist(lr=False))
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["sweep/history_lr0.01.json", "sweep/history_lr0.1.json"]
    assert rs.runs["sweep/history_lr0.1.json"].source == "keras_history"
    assert "lr" in rs.metrics("sweep/history_lr0.01.json")


def test_keras_history_with_nan_and_infinity_literals(tmp_path):
    p = tmp_path / "history.json"
    p.write_text('{"loss": [2.0, NaN, Infinity], "val_loss": [2.1, 2.2, null]}')
    rs = lrreport.load(p)
    v = rs.series(rs.run_names[0], "train_loss").value
    assert np.isnan(v[1]) and np.isinf(v[2])
    assert len(rs.series(rs.run_names[0], "val_loss")) == 2


def test_pickled_history_only_with_allow_pickle(tmp_path):
    import pickle

    p = tmp_path / "history.pkl"
    p.write_bytes(pickle.dumps(_hist()))
    rs = lrreport.load(tmp_path)
    assert not rs.runs and "allow-pickle" in rs.errors[0].error
    rs = lrreport.load(tmp_path, allow_pickle=True)
    assert "train_loss" in rs.metrics(rs.run_names[0])


def test_lightning_csv_sparse_rows_and_hparams(tmp_path):
    d = tmp_path / "lightning_logs" / "version_0"
    d.mkdir(parents=True)
    rows = []
    step = 0
    for epoch in range(3):
        for _ in range(5):
            rows.append({"lr-Adam/pg1": 1e-3, "lr-Adam/pg2": 1e-2, "step": step})
            rows.append({"train_loss_step": 2.0 - 0.05 * step, "epoch": epoch, "step": step})
            step += 1
        rows.append({"val_loss": 1.5 - 0.1 * epoch, "val_acc": 0.5 + 0.1 * epoch, "epoch": epoch, "step": step - 1})
        rows.append({"train_loss_epoch": 1.8 - 0.2 * epoch, "epoch": epoch, "step": step - 1})
    cols = sorted({k for r in rows for k in r})
    import csv

    with open(d / "metrics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (d / "hparams.yaml").write_text("lr: 0.001\noptimizer: Adam\nbatch_size: 32\n")
    rs = lrreport.load(tmp_path)
    (run,) = rs.runs
    assert run == "lightning_logs/version_0"
    info = rs.runs[run]
    assert info.source == "lightning_csv" and info.hparams == {"lr": 0.001, "optimizer": "Adam", "batch_size": 32}
    assert {"train_loss", "train_loss_epoch", "val_loss", "val_acc", "lr/pg1", "lr/pg2"} <= set(info.metrics)
    assert len(rs.series(run, "train_loss")) == 15
    assert len(rs.series(run, "lr/pg1")) == 15


def test_mlflow_store_with_nested_keys_and_old_lines(tmp_path):
    run = tmp_path / "mlruns" / "0" / "abc123"
    (run / "metrics" / "val").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "tags").mkdir()
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")
    (run / "meta.yaml").write_text("run_id: abc123\nstatus: 3\n")
    (run / "metrics" / "loss").write_text("".join(f"{1000 + i} {2.0 - i * 0.1} {i}\n" for i in range(10)))
    (run / "metrics" / "val" / "loss").write_text("".join(f"{1000 + i} {2.1 - i * 0.1}\n" for i in range(3)))
    (run / "params" / "learning_rate").write_text("0.01")
    (run / "tags" / "mlflow.runName").write_text("bright-owl")
    rs = lrreport.load(tmp_path)
    (name,) = rs.runs
    info = rs.runs[name]
    assert info.hparams["learning_rate"] == 0.01 and info.hparams["mlflow.runName"] == "bright-owl"
    assert set(info.metrics) == {"train_loss", "val_loss"}
    assert list(rs.series(name, "val_loss").step) == [0, 0, 0]  # two-field lines mean step 0


def test_generic_csv_with_step_column(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,train_loss,val_loss,lr\n" + "".join(f"{i * 10},{2 - i * 0.1},{2.1 - i * 0.09},0.1\n" for i in range(10)))
    rs = lrreport.load(tmp_path)
    assert rs.runs[rs.run_names[0]].source == "csv"
    assert list(rs.series(rs.run_names[0], "train_loss").step[:3]) == [0, 10, 20]


def test_unrelated_files_are_passed_over(tmp_path):
    (tmp_path / "data.csv").write_text("x,y\n1,2\n")
    (tmp_path / "config.json").write_text('{"lr": 0.1}')
    (tmp_path / "notes.txt").write_text("hello")
    rs = lrreport.load(tmp_path)
    assert not rs.runs and not rs.errors


HOSTILE = {
    "trainer_state.json": b"{not json",
    "history.json": b'{"loss": "nope"}',
    "training.log": b"epoch,loss\n" + os.urandom(300).replace(b"\n", b"x"),
    "metrics.csv": b"\x00\x01\x02binary",
    "events.out.tfevents.1.host": b"this is not a tfrecord file at all",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_give_one_line_errors_and_others_still_load(tmp_path, name):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / name).write_bytes(HOSTILE[name])
    write_keras_history(tmp_path / "good" / "history.json", _hist())
    rs = lrreport.load(tmp_path)
    assert "good" in rs.runs
    for e in rs.errors:
        assert "\n" not in e.error and e.error
        assert "bad" in e.path


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        lrreport.load(tmp_path / "nope")


def test_keras_tensorboard_layout_is_one_run(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    for sub, base in (("train", 2.0), ("validation", 2.2)):
        w = EventFileWriter(str(tmp_path / "run1" / sub))
        for e in range(5):
            for tag, v in (("epoch_loss", base - 0.2 * e), ("epoch_accuracy", 0.5 + 0.05 * e), ("epoch_learning_rate", 0.01)):
                if sub == "validation" and tag == "epoch_learning_rate":
                    continue
                tp = tensor_util.make_tensor_proto(np.float32(v))
                val = summary_pb2.Summary.Value(tag=tag, tensor=tp)
                val.metadata.plugin_data.plugin_name = "scalars"
                w.add_event(Event(wall_time=1.0 + e, step=e, summary=summary_pb2.Summary(value=[val])))
        w.close()
    rs = lrreport.load(tmp_path)
    assert list(rs.runs) == ["run1"]
    assert {"train_loss", "val_loss", "train_acc", "val_acc", "lr"} <= set(rs.metrics("run1"))
    assert rs.series("run1", "val_loss").value[0] == pytest.approx(2.2)


def test_discover_finds_each_run_once(tmp_path):
    write_keras_csv(tmp_path / "a" / "training.log", _hist())
    write_keras_history(tmp_path / "a" / "history.json", _hist())  # same run, second view
    write_keras_csv(tmp_path / "b" / "training.log", _hist())
    srcs = discover(tmp_path)
    assert [s.root.name for s in srcs] == ["a", "b"]
    assert srcs[0].kinds == ["keras_csv", "keras_history"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(
        st.lists(st.one_of(st.floats(allow_nan=True), st.sampled_from(["", "NA", "nan", "inf", "x", ",", '"'])), min_size=3, max_size=3),
        max_size=30,
    ),
    cut=st.integers(min_value=0, max_value=2000),
)
def test_csv_reader_never_crashes(tmp_path_factory, cells, cut):
    d = tmp_path_factory.mktemp("csv")
    text = "epoch,loss,val_loss\n" + "".join(",".join(str(c) for c in row) + "\r\n" for row in cells)
    (d / "training.log").write_text(text[: cut + 20])
    rs = lrreport.load(d)  # must not raise
    for e in rs.errors:
        assert "\n" not in e.error


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=5)),
                        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4), max_leaves=20))
def test_json_readers_never_crash(tmp_path_factory, doc):
    d = tmp_path_factory.mktemp("json")
    (d / "trainer_state.json").write_text(json.dumps({"log_history": doc}))
    (d / "history.json").write_text(json.dumps({"loss": doc}))
    rs = lrreport.load(d)
    for e in rs.errors:
        assert "\n" not in e.error


def test_fifo_named_like_a_log_is_skipped(tmp_path):
    os.mkfifo(tmp_path / "events.out.tfevents.1.host")
    os.mkfifo(tmp_path / "training.log")
    write_keras_history(tmp_path / "ok" / "history.json", _hist())
    rs = lrreport.load(tmp_path)  # must not block on the FIFOs
    assert list(rs.runs) == ["ok"]


def test_torch_add_scalars_children_belong_to_their_run(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    w = torch_tb.SummaryWriter(str(tmp_path / "exp1"))
    for i in range(5):
        w.add_scalars("Loss", {"train": 1.0 / (i + 1), "val": 1.2 / (i + 1)}, i)
        w.add_scalar("lr", 0.1, i)
    w.close()
    w = torch_tb.SummaryWriter(str(tmp_path / "exp1" / "other"))  # a later, separate process would differ
    w.close()
    rs = lrreport.load(tmp_path)
    assert list(rs.runs) == ["exp1"]
    assert {"train_loss", "val_loss", "lr"} <= set(rs.metrics("exp1"))
    assert rs.series("exp1", "val_loss").value[0] == pytest.approx(1.2)


def test_separate_writer_in_a_subfolder_is_its_own_run(tmp_path):
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.compat.proto.event_pb2 import Event

    def write(path, name, tag):
        path.mkdir(parents=True, exist_ok=True)
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        w = EventFileWriter(str(path), filename_suffix="")
        for i in range(3):
            v = summary_pb2.Summary.Value(tag=tag, simple_value=1.0 / (i + 1))
            w.add_event(Event(wall_time=1.0, step=i, summary=summary_pb2.Summary(value=[v])))
        w.close()
        (f,) = [p for p in path.iterdir() if "tfevents" in p.name]
        f.rename(path / name)

    write(tmp_path / "a", "events.out.tfevents.100.hostA.11.0", "loss")
    write(tmp_path / "a" / "b", "events.out.tfevents.200.hostB.22.0", "loss")
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["a", "a/b"]


def test_history_saved_through_pandas(tmp_path):
    import pandas as pd

    h = _hist(lr=False)
    pd.DataFrame(h).to_csv(tmp_path / "history.csv")
    (tmp_path / "j").mkdir()
    pd.DataFrame(h).to_json(tmp_path / "j" / "history.json")
    rs = lrreport.load(tmp_path)
    for run in rs.runs:
        assert {"train_loss", "val_loss", "train_acc", "val_acc"} <= set(rs.metrics(run)), run
        assert list(rs.series(run, "val_loss").step) == list(range(12))


def test_yaml_alias_bomb_in_hparams_does_not_hang(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    d = tmp_path / "lightning_logs" / "version_0"
    d.mkdir(parents=True)
    (d / "hparams.yaml").write_text("\n".join(lines) + "\nlr: 0.01\n")
    (d / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n0,0,1.0,1.1\n1,1,0.8,0.9\n")
    rs = lrreport.load(tmp_path)  # 9**12 strings if expanded: must return at once
    info = rs.runs["lightning_logs/version_0"]
    assert info.hparams["lr"] == 0.01 and len(info.hparams["a11"]) <= 400
