"""Plain-text training output: lines printed by the real libraries (tests/data/text, made by
scripts/make_text_fixtures.py), the real-world console logs, and random noise."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrreport
from lrreport.ingest.textlog import METRIC_WORDS, name_value_pairs, parse_lines, read_text_log

from conftest import curve

DATA = Path(__file__).parent / "data" / "text"


def _series(rs, run, metric):
    s = rs.series(run, metric)
    assert s is not None, (metric, rs.metrics(run))
    return s


def _expected(name):
    return json.loads((DATA / f"{name}.expected.json").read_text())


# --- lines made by the real libraries ------------------------------------------------
@pytest.mark.parametrize("name", ["keras3_fit_verbose1.txt", "keras3_fit_verbose2.txt"])
def test_keras_fit_output_gives_the_history(name):
    exp = _expected(name)["history"]
    rs = lrreport.load(DATA / name)
    (run,) = rs.runs
    assert rs.runs[run].source == "text"
    for metric, key in (("train_loss", "loss"), ("val_loss", "val_loss"), ("train_acc", "accuracy"), ("val_acc", "val_accuracy"), ("lr", "learning_rate")):
        s = _series(rs, run, metric)
        assert list(s.epoch) == [1, 2, 3, 4]  # as printed: "Epoch 1/4"
        assert s.value == pytest.approx(exp[key], abs=6e-5)  # Keras prints 4 decimals
    # model.evaluate() after fit prints a progress line with its own loss: not epoch 4's.
    assert _series(rs, run, "train_loss").value[-1] == pytest.approx(exp["loss"][-1], abs=6e-5)


def test_keras_progress_bar_overwrites_and_ansi_codes_are_what_the_terminal_showed():
    raw = (DATA / "keras3_fit_verbose1.txt").read_bytes()
    assert b"\r" in raw and b"\x08" in raw and b"\x1b[" in raw


def test_lightning_tqdm_bar_gives_each_epochs_values():
    exp = _expected("lightning2_tqdm.txt")["history"]
    rs = lrreport.load(DATA / "lightning2_tqdm.txt")
    (run,) = rs.runs
    for metric in ("train_loss", "val_loss"):
        s = _series(rs, run, metric)
        assert list(s.epoch) == [0, 1, 2]  # Lightning counts epochs from 0
        assert s.value == pytest.approx(exp[metric], rel=5e-3)  # the bar prints 3 digits


def test_hf_trainer_printed_dicts_give_the_log_history():
    exp = _expected("hf_trainer_printed.txt")["log_history"]
    rs = lrreport.load(DATA / "hf_trainer_printed.txt")
    (run,) = rs.runs
    train = [e for e in exp if "loss" in e]
    evals = [e for e in exp if "eval_loss" in e]
    s = _series(rs, run, "train_loss")
    assert s.value == pytest.approx([e["loss"] for e in train], rel=1e-3)
    assert s.epoch == pytest.approx([e["epoch"] for e in train])
    assert _series(rs, run, "lr").value == pytest.approx([e["learning_rate"] for e in train], rel=1e-3)
    v = _series(rs, run, "val_loss")
    assert v.value == pytest.approx([e["eval_loss"] for e in evals], rel=1e-3)
    assert "grad_norm" in rs.metrics(run)
    assert not any("runtime" in m or "per_second" in m for m in rs.metrics(run))


def test_notebook_output_cells_are_read(tmp_path):
    text = (DATA / "keras3_fit_verbose2.txt").read_text()
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["model.fit(...)"], "outputs": [{"output_type": "stream", "name": "stdout", "text": text.splitlines(True)}]},
            {"cell_type": "markdown", "source": ["loss: 0.5 in the prose is not a log"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "train.ipynb").write_text(json.dumps(nb))
    rs = lrreport.load(tmp_path)
    (run,) = rs.runs
    assert rs.runs[run].source == "notebook"
    assert len(_series(rs, run, "val_loss")) == 4


# --- the real-world console logs: what a person reads off them ---------------------------
def test_rooftop_epoch_loss_lines(realworld):
    rs = lrreport.load(realworld / "stdout/rooftop-seg-200ep-plateau.log")
    (run,) = rs.runs
    s = _series(rs, run, "train_loss")
    assert list(s.epoch) == list(range(1, 201))
    assert s.value[0] == pytest.approx(0.6924) and s.value[15] == pytest.approx(0.5547) and s.value[-1] == pytest.approx(0.5025)
    # The final Accuracy/F1/IoU lines after training are a summary, not a curve.
    assert set(rs.metrics(run)) == {"train_loss"}


def test_emonet_train_and_val_loss(realworld):
    rs = lrreport.load(realworld / "stdout/emonet-tcn-500ep.log")
    (run,) = rs.runs
    t, v = _series(rs, run, "train_loss"), _series(rs, run, "val_loss")
    assert list(t.epoch) == list(range(1, 501)) and list(v.epoch) == list(range(1, 501))
    assert (t.value[0], v.value[0], t.value[-1], v.value[-1]) == pytest.approx((0.0717, 0.0766, 0.0010, 0.0005))


def test_skin_lesion_resumed_session_is_one_run_and_later_data_wins(realworld):
    rs = lrreport.load(realworld / "stdout/skin-lesion-vgg16-resumed-overfit.log")
    (run,) = rs.runs
    info = rs.runs[run]
    assert any("resumed at epoch 21 after epoch 25" in w for w in info.warnings)
    v, t, lr = _series(rs, run, "val_loss"), _series(rs, run, "train_loss"), _series(rs, run, "lr")
    assert list(v.epoch) == list(range(1, 31))
    assert v.value[0] == pytest.approx(1.3028) and v.value[19] == pytest.approx(1.0521)  # first session, epoch 20
    assert v.value[20] == pytest.approx(1.1477) and v.value[-1] == pytest.approx(1.2776)  # resumed session 21..30
    assert t.value[20] == pytest.approx(0.7671) and t.value[-1] == pytest.approx(0.5128)
    assert lr.value[0] == pytest.approx(1e-4) and lr.value[-1] == pytest.approx(5e-5)
    assert {"train_acc", "val_acc"} <= set(info.metrics)


def test_face_emotion_restarted_fits_are_separate_runs(realworld):
    rs = lrreport.load(realworld / "stdout/face-emotion-restarted-runs.log")
    assert sorted(rs.runs) == [f"face-emotion-restarted-runs.log#fit{i}" for i in (1, 2, 3)]
    lengths = [len(_series(rs, r, "val_loss")) for r in sorted(rs.runs)]
    assert lengths == [10, 8, 11]
    v1 = _series(rs, "face-emotion-restarted-runs.log#fit1", "val_loss")
    assert v1.value[0] == pytest.approx(1.9097) and v1.value[-1] == pytest.approx(1.2401)
    a3 = _series(rs, "face-emotion-restarted-runs.log#fit3", "val_acc")
    assert a3.value[0] == pytest.approx(22.92) and a3.value[-1] == pytest.approx(53.62)  # percent, as printed


def test_driver_distraction_step_losses_in_epoch_six(realworld):
    rs = lrreport.load(realworld / "stdout/driver-distraction-step-loss.log")
    (run,) = rs.runs
    s = _series(rs, run, "train_loss")
    assert set(s.epoch) == {6}
    assert s.value[0] == pytest.approx(0.0490) and 0.01 <= s.value.min() and s.value.max() <= 0.2
    assert s.step[0] == 5 * 1549 + 10 and list(s.step) == sorted(s.step)  # "Step [10/1549]" of epoch 6 of 6
    assert _series(rs, run, "val_loss").value[-1] == pytest.approx(0.0660)


def test_keras_stdout_with_tf_noise_and_glued_warnings(realworld):
    rs = lrreport.load(realworld / "stdout/fer-keras-stdout.txt")
    (run,) = rs.runs
    t, v = _series(rs, run, "train_loss"), _series(rs, run, "val_loss")
    assert list(v.epoch) == list(range(1, 51))
    assert (t.value[0], v.value[0]) == pytest.approx((1.8313, 1.7856))
    assert (t.value[-1], v.value[-1]) == pytest.approx((0.9907, 0.9877))
    assert _series(rs, run, "val_acc").value[-1] == pytest.approx(0.6379)


# --- shapes, restarts, claims -------------------------------------------------------------
SHAPES = [
    ("Epoch [3/30] TrainLoss 0.5 ValLoss 0.6 LR=1e-4", 3, {"TrainLoss": 0.5, "ValLoss": 0.6, "LR": 1e-4}),
    ("epoch 3 | loss: 0.52 | val_loss: 0.61 | lr: 0.001", 3, {"loss": 0.52, "val_loss": 0.61, "lr": 0.001}),
    ("Epoch 3: Train Loss=0.0717, Val Loss=0.0766", 3, {"Train Loss": 0.0717, "Val Loss": 0.0766}),
    ("2024-01-02 10:11:12,345 - INFO - Epoch [3/50], Train Loss: 1.94, Train Acc: 20.34%", 3, {"Train Loss": 1.94, "Train Acc": 20.34}),
    ("Epoch 3: 100%|██████████| 50/50 [00:01<00:00, 30.50it/s, loss=0.123, v_num=1, val_loss=0.2]", 3, {"loss": 0.123, "val_loss": 0.2}),
    ("EPOCH 3 summary: acc=0.91 loss=nan", 3, {"acc": 0.91}),
]


@pytest.mark.parametrize("line,epoch,values", SHAPES)
def test_line_shapes(line, epoch, values):
    parse = parse_lines([line])
    (ev,) = parse.events
    assert ev.epoch == epoch
    got = dict(ev.metrics)
    for k, v in values.items():
        assert got[k] == pytest.approx(v)
    assert set(got) <= set(values) | {"loss"}


def test_nan_is_a_value_when_named():
    (ev,) = parse_lines(["epoch 4 loss=nan val_loss=inf"]).events
    got = dict(ev.metrics)
    assert got["loss"] != got["loss"] and got["val_loss"] == float("inf")


def test_iteration_lines_nanogpt_style(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"iter {i}: loss {3.0 - i / 1000:.4f}, time 12.3ms, mfu 30.1%\n" for i in range(0, 1000, 10)))
    rs = lrreport.load(p)
    (run,) = rs.runs
    s = _series(rs, run, "train_loss")
    assert list(s.step[:3]) == [0, 10, 20] and len(s) == 100
    assert rs.metrics(run) == ["train_loss"]  # "time" and "mfu" are no metrics


def test_separate_fits_and_a_resume_in_one_text(tmp_path):
    lines = [f"Epoch {e}/5 - loss: {1 / e:.4f}" for e in range(1, 6)]
    lines += [f"Epoch {e}/5 - loss: {2 / e:.4f}" for e in range(1, 4)]  # killed, then restarted from scratch
    lines += [f"Epoch {e}/5 - loss: {0.5 / e:.4f}" for e in range(2, 6)]  # resumed from epoch 1's checkpoint
    (tmp_path / "nohup.out").write_text("\n".join(lines) + "\n")
    rs = lrreport.load(tmp_path / "nohup.out")
    assert sorted(rs.runs) == ["nohup.out#fit1", "nohup.out#fit2"]
    s = _series(rs, "nohup.out#fit2", "train_loss")
    assert list(s.epoch) == [1, 2, 3, 4, 5]
    assert s.value[0] == pytest.approx(2.0) and s.value[1] == pytest.approx(0.25)  # epoch 2 from the resumed session
    assert any("resumed at epoch 2 after epoch 3" in w for w in rs.runs["nohup.out#fit2"].warnings)


def test_text_claims_and_quiet_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "train.log").write_text("starting...\nout of memory\n")  # named like a log, holds none
    (tmp_path / "a" / "notes.txt").write_text("lr 0.1 looked good\n")
    (tmp_path / "a" / "requirements.txt").write_text("torch==2.1\nkeras>=3\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "slurm-1234.out").write_text("Epoch 1/2 | Loss: 0.9\nEpoch 2/2 | Loss: 0.7\n")
    rs = lrreport.load(tmp_path)
    assert list(rs.runs) == ["b"] and rs.runs["b"].source == "text"
    (err,) = rs.errors
    assert err.path.endswith("train.log") and "no training-progress lines" in err.error


def test_ls_shows_the_format_chosen_and_why_a_file_is_unreadable(tmp_path):
    from click.testing import CliRunner

    from lrreport.cli import main

    (tmp_path / "run1").mkdir()
    (tmp_path / "run1" / "nohup.out").write_text("".join(f"Epoch {e}/3 | Loss: {1 / e:.3f}\n" for e in (1, 2, 3)))
    (tmp_path / "run2").mkdir()
    (tmp_path / "run2" / "slurm-77.out").write_text("Traceback (most recent call last):\nCUDA out of memory\n")
    result = CliRunner().invoke(main, ["ls", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "run1" in result.output and " text " in result.output
    assert "1 unreadable" in result.output
    assert "slurm-77.out: no training-progress lines recognised" in result.output


def test_console_copy_beside_a_structured_log_is_not_read_twice(tmp_path):
    import pandas as pd

    pd.DataFrame({"epoch": range(5), "loss": curve(5), "val_loss": curve(5, 2.5)}).to_csv(tmp_path / "history.csv", index=False)
    (tmp_path / "nohup.out").write_text("".join(f"Epoch {e + 1}/5 - loss: 0.5\n" for e in range(5)))
    rs = lrreport.load(tmp_path)
    (run,) = rs.runs
    assert rs.runs[run].source in ("csv", "keras_csv") and not rs.errors
    assert any("console output not read (nohup.out)" in w for w in rs.runs[run].warnings)


def test_linear_time_on_a_large_log(tmp_path):
    p = tmp_path / "train.log"
    with open(p, "w") as fh:
        for e in range(1, 201):
            for k in range(1, 201):
                fh.write(f"2024-01-01 12:00:00,000 INFO Epoch [{e}/200], Step [{k}/200], Loss: {1 / (e + k):.4f}\n")
                fh.write("2024-01-01 12:00:00,000 DEBUG data loader worker 3 ready\n")
            fh.write(f"Epoch {e}: Train Loss={1 / e:.4f}, Val Loss={1.1 / e:.4f}\n")
    t = time.perf_counter()
    (run,) = read_text_log(p)
    took = time.perf_counter() - t
    assert run.frame.height == 200 * 200 + 400
    assert took < 20, f"{p.stat().st_size / 2**20:.1f} MiB took {took:.1f}s"


# --- noise ----------------------------------------------------------------------------------
_line = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)
_numbers_only = st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=8).map(lambda xs: " ".join(str(x) for x in xs))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.one_of(_line, _numbers_only, st.sampled_from(["Epoch 3/10", "\r", "\x08", "{'loss':", "loss:"])), max_size=20))
def test_garbage_never_raises_and_never_yields_a_nameless_value(lines):
    parse = parse_lines(lines)
    for ev in parse.events:
        for name, value in ev.metrics:
            words = set(name.lower().replace("_", " ").replace("/", " ").replace("-", " ").replace(".", " ").replace("@", " ").split())
            assert name and (words & METRIC_WORDS or "learning" in words or "grad" in name.lower() or ev.from_dict), name
            assert isinstance(value, float)


@settings(max_examples=200, deadline=None)
@given(xs=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=10))
def test_numbers_without_a_name_are_not_values(xs):
    line = "Epoch 3 " + " | ".join(f"{x}" for x in xs)
    assert name_value_pairs(line) == []


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=2000), name=st.sampled_from(["train.log", "nohup.out", "x.txt", "slurm-1.out"]))
def test_binary_junk_files_give_one_line_errors_or_nothing(tmp_path_factory, blob, name):
    d = tmp_path_factory.mktemp("junk")
    (d / name).write_bytes(blob)
    rs = lrreport.load(d)
    for e in rs.errors:
        assert "\n" not in e.error and e.error


def test_pytorch_tutorial_prints(tmp_path):
    # The CIFAR-10 tutorial: print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}")
    cifar = "".join(f"[{e},  {i:4d}] loss: {2.3 - 0.1 * e - i / 100000:.3f}\n" for e in (1, 2) for i in range(2000, 12001, 2000))
    (tmp_path / "cifar.log").write_text(cifar + "Finished Training\n")
    rs = lrreport.load(tmp_path / "cifar.log")
    (run,) = rs.runs
    s = _series(rs, run, "train_loss")
    assert list(s.epoch) == [1] * 6 + [2] * 6 and list(s.step) == sorted(s.step) and s.step[6] == 12000 + 2000
    # The transfer-learning tutorial: "Epoch 0/24", "----------", "train Loss: 0.53 Acc: 0.73", "val Loss: ..."
    lines = []
    for e in range(3):
        lines += [f"Epoch {e}/24", "-" * 10, f"train Loss: {0.6 - 0.1 * e:.4f} Acc: {0.7 + 0.05 * e:.4f}", f"val Loss: {0.5 - 0.1 * e:.4f} Acc: {0.8 + 0.03 * e:.4f}", ""]
    (tmp_path / "finetune.log").write_text("\n".join(lines) + "Training complete in 1m 2s\nBest val Acc: 0.860000\n")
    rs = lrreport.load(tmp_path / "finetune.log")
    (run,) = rs.runs
    assert _series(rs, run, "val_acc").value == pytest.approx([0.8, 0.83, 0.86])
    assert _series(rs, run, "train_acc").value == pytest.approx([0.7, 0.75, 0.8])
    assert list(_series(rs, run, "val_loss").epoch) == [0, 1, 2]


def test_a_log_that_prints_no_epoch_numbers_its_lines(tmp_path):
    (tmp_path / "train.log").write_text("".join(f"Train loss: {1 / k:.4f}, Val loss: {1.2 / k:.4f}\n" for k in range(1, 6)) + "done\n")
    rs = lrreport.load(tmp_path / "train.log")
    (run,) = rs.runs
    assert list(_series(rs, run, "val_loss").step) == [1, 2, 3, 4, 5]
    assert any("no epoch or step is printed" in w for w in rs.runs[run].warnings)


def test_deit_style_json_lines(tmp_path):
    rows = [{"train_lr": 1e-3 * (e + 1), "train_loss": 6.9 - e, "test_loss": 6.8 - e, "test_acc1": 0.1 + e, "epoch": e, "n_parameters": 5717416} for e in range(4)]
    (tmp_path / "log.txt").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rs = lrreport.load(tmp_path)
    (run,) = rs.runs
    assert {"train_loss", "val_loss", "lr"} <= set(rs.metrics(run)) and "n_parameters" not in rs.metrics(run)
    assert list(_series(rs, run, "val_loss").epoch) == [0, 1, 2, 3]


def test_keras2_mmdet_lightning1_and_hf4_shapes(tmp_path):
    (tmp_path / "keras2.out").write_text(
        "Train on 48000 samples, validate on 12000 samples\nEpoch 1/2\n"
        "48000/48000 [==============================] - 5s 104us/sample - loss: 0.2985 - acc: 0.9133 - val_loss: 0.1421 - val_acc: 0.9581\n"
        "Epoch 2/2\n48000/48000 [==============================] - 4s 90us/sample - loss: 0.1400 - acc: 0.9580 - val_loss: 0.1100 - val_acc: 0.9660\n"
        "10000/10000 [==============================] - 1s 60us/sample - loss: 0.0900 - acc: 0.9720\nTest accuracy: 0.972\n"
    )
    (tmp_path / "mmdet.log").write_text(
        "".join(
            f"2023-01-01 10:00:00,000 - mmdet - INFO - Epoch [{e}][{k}/7330]\tlr: 1.0e-02, eta: 3 days, 4:00:00, time: 0.500, "
            f"memory: 3000, loss_cls: 1.2, acc: 80.0, loss: {3 - e - k / 1000:.3f}\n"
            for e in (1, 2)
            for k in (50, 100)
        )
    )
    (tmp_path / "lightning1.log").write_text(
        "Epoch 0: 100%|##########| 50/50 [00:01<00:00, 30.50it/s, loss=0.523, v_num=1]\r"
        "Epoch 0: 100%|##########| 50/50 [00:01<00:00, 30.50it/s, loss=0.523, v_num=1, val_loss=0.61]\r"
        "Epoch 1: 100%|##########| 50/50 [00:01<00:00, 30.50it/s, loss=0.423, v_num=1, val_loss=0.51]\n"
    )
    (tmp_path / "hf4.log").write_text(
        "{'loss': 0.6931, 'learning_rate': 4.5e-05, 'epoch': 0.33}\n{'loss': 0.5, 'learning_rate': 4e-05, 'epoch': 0.67}\n"
        "{'eval_loss': 0.45, 'eval_accuracy': 0.8, 'eval_runtime': 1.2, 'epoch': 1.0}\n"
        "{'train_runtime': 10.0, 'train_loss': 0.6, 'epoch': 1.0}\n"
    )
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["hf4.log", "keras2.out", "lightning1.log", "mmdet.log"] and not rs.errors
    assert _series(rs, "keras2.out", "train_loss").value == pytest.approx([0.2985, 0.14])  # not evaluate()'s 0.09
    assert _series(rs, "keras2.out", "val_acc").value == pytest.approx([0.9581, 0.966])
    m = _series(rs, "mmdet.log", "train_loss")
    assert list(m.step) == [50, 100, 7380, 7430] and m.value[-1] == pytest.approx(0.9)
    assert _series(rs, "lightning1.log", "val_loss").value == pytest.approx([0.61, 0.51])
    assert _series(rs, "hf4.log", "train_loss").value == pytest.approx([0.6931, 0.5])  # not the run's average
    assert _series(rs, "hf4.log", "val_loss").value == pytest.approx([0.45])


def test_json_lines_logs_with_a_phase_field(tmp_path):
    """MMDetection/MMCV write ``<time>.log.json``: one JSON object per line, ``"mode"``
    train or val. Read as text (the records hold the values by name); a val record's bare
    names are validation metrics. A ``.jsonl`` is read the same way; a one-line JSON config
    or JSON lines without metrics stay quiet."""
    recs = [{"env_info": "sys.platform: linux", "seed": 0}]
    for e in range(1, 7):
        for it in (50, 100):
            recs.append({"mode": "train", "epoch": e, "iter": it, "lr": 0.02, "memory": 3000,
                         "loss_bbox": 0.3, "loss": 1.0 / e + 0.2, "time": 0.4})
        recs.append({"mode": "val", "epoch": e, "iter": 100, "lr": 0.02, "loss": 1.5 / e + 0.3, "bbox_mAP": 0.1 + e / 50})
    text = "\n".join(json.dumps(r) for r in recs) + "\n"
    (tmp_path / "20230101_120000.log.json").write_text(text)
    (tmp_path / "metrics.jsonl").write_text(text)
    (tmp_path / "config.json").write_text('{"lr": 0.001, "batch_size": 32}\n')
    (tmp_path / "other.json").write_text('{"a": 1}\n{"b": 2}\n')
    rs = lrreport.load(tmp_path)
    assert sorted(rs.runs) == ["20230101_120000.log.json", "metrics.jsonl"] and not rs.errors
    for run in rs.runs:
        df = rs.scalars.filter(rs.scalars["run"] == run)
        val = df.filter(df["metric"] == "val_loss").sort("epoch")
        train = df.filter(df["metric"] == "train_loss").sort("step")
        assert val["value"].to_list() == pytest.approx([1.5 / e + 0.3 for e in range(1, 7)])
        assert val["epoch"].to_list() == [float(e) for e in range(1, 7)]
        assert len(train) == 12 and train["value"][0] == pytest.approx(1.2)
        assert "val_bbox_mAP" in set(df["metric"])


def test_detectron2_metrics_json_lines(tmp_path):
    """Detectron2's JSONWriter appends one record per logging period to ``metrics.json``
    (JSON lines, ``iteration`` as the step, ``total_loss``, ``lr``): read as the training
    loss and LR by iteration."""
    with open(tmp_path / "metrics.json", "w") as f:
        for it in range(19, 1000, 20):
            f.write(json.dumps({"data_time": 0.01, "eta_seconds": 100.0, "fast_rcnn/cls_accuracy": 0.9, "iteration": it,
                                "loss_cls": 0.2, "lr": 0.02, "time": 0.4, "total_loss": 1.0 + 1.0 / (it + 1)}) + "\n")
    rs = lrreport.load(tmp_path)
    (run,) = rs.runs
    df = rs.scalars
    loss = df.filter(df["metric"] == "train_loss").sort("step")
    assert loss["step"].to_list() == list(range(19, 1000, 20))
    assert loss["value"][0] == pytest.approx(1.05)
    assert "lr" in rs.runs[run].metrics


def test_printed_epoch_table_fastai_style(tmp_path):
    """fastai's Recorder prints one row per epoch under a header of names (on a console:
    fixed-width text; ``#na#`` where a value is missing, a ``mm:ss`` time column). Each
    number takes its column's name; rows stop at the first line that is not one."""
    text = (
        "epoch     train_loss  valid_loss  accuracy  time    \n"
        "0         0.912345    0.701234    0.750000  00:05     \n"
        "1         0.612345    #na#        0.820000  00:05     \n"
        "2         0.412345    0.451234    0.850000  00:05     \n"
        "Better model found at epoch 2 with valid_loss value: 0.451234.\n"
        "3 4 5 6 7\n"
    )
    (tmp_path / "train.log").write_text(text)
    rs = lrreport.load(tmp_path / "train.log")
    df = rs.scalars
    val = df.filter(df["metric"] == "val_loss").sort("epoch")
    assert val["epoch"].to_list() == [0.0, 2.0] and val["value"].to_list() == pytest.approx([0.701234, 0.451234])
    train = df.filter(df["metric"] == "train_loss").sort("epoch")
    assert train["value"].to_list() == pytest.approx([0.912345, 0.612345, 0.412345])
    assert set(df["metric"]) == {"train_loss", "val_loss", "train_acc"}


def test_timm_train_console(tmp_path):
    """timm's train.py prints ``Train: E [ k/N (p%)]  Loss: ...  LR: ...`` and then ``Test:``
    lines: epoch E, batch k of N, the test lines at the end of their epoch
    (tests/data/text/timm_train_console.txt: written by hand in timm's console shape, not by timm)."""
    rs = lrreport.load(Path(__file__).parent / "data" / "text" / "timm_train_console.txt")
    df = rs.scalars
    train = df.filter(df["metric"] == "train_loss").sort("step")
    assert train["epoch"].to_list() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert train["step"].to_list() == [0, 500, 1250, 1251, 1751, 2501]
    val = df.filter(df["metric"] == "val_loss").sort("step")
    assert val["epoch"].to_list() == [0.0, 1.0] and val["value"].to_list() == pytest.approx([6.5938, 6.0938])
    lr = df.filter(df["metric"] == "lr").sort("step")
    assert lr["value"][-1] == pytest.approx(2.008e-4)
