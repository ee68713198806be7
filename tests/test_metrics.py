"""The canonical metric table (FINDINGS.md 'Canonical metric names')."""

from __future__ import annotations

import pytest

from lrreport.metrics import match_tag, resolve_metrics

FINDINGS_EXAMPLES = {
    "loss": "train_loss",
    "train/loss": "train_loss",
    "epoch_loss": "train_loss",
    "train_loss_step": "train_loss",
    "val_loss": "val_loss",
    "eval_loss": "val_loss",
    "validation/loss": "val_loss",
    "epoch_val_loss": "val_loss",
    "lr": "lr",
    "learning_rate": "lr",
    "lr-Adam": "lr",
    "lr-SGD/pg1": "lr/pg1",
    "Loss/train": "train_loss",
    "training loss": "train_loss",
    # More spellings seen in real logs.
    "train/epoch_loss": "train_loss",
    "validation/epoch_loss": "val_loss",
    "validation/epoch_accuracy": "val_acc",
    "epoch_learning_rate": "lr",
    "train/learning_rate": "lr",
    "acc": "train_acc",
    "accuracy": "train_acc",
    "val_acc": "val_acc",
    "val_accuracy": "val_acc",
    "valid_loss": "val_loss",
    "valid_acc": "val_acc",
    "Accuracy/val": "val_acc",
    "Loss.Validation": "val_loss",
    "TRAIN-LOSS": "train_loss",
    "val sparse_categorical_accuracy": "val_acc",
    "lr-AdamW/head": "lr/head",
    "update_ratio/body": "update_ratio/body",
    "grad_norm": "grad_norm",
    "test_loss": "test_loss",
    # Console logs (plain-text training output).
    "Train Loss": "train_loss",
    "TrainLoss": "train_loss",
    "ValAcc": "val_acc",
    "Acc@1": "train_acc",
    "Validate/Loss": "val_loss",
    "Training Loss": "train_loss",
    "val/acc": "val_acc",
    # Ultralytics results.csv (YOLOv5, YOLOv8).
    "x/lr0": "lr/pg0",
    "lr/pg1": "lr/pg1",
    "train/box_loss": "train_loss",
}


@pytest.mark.parametrize("tag,metric", sorted(FINDINGS_EXAMPLES.items()))
def test_spellings_map_to_canonical(tag, metric):
    assert match_tag(tag).metric == metric


@pytest.mark.parametrize("tag", ["hp_metric", "epoch", "train/entropy", "eval_wer", "dice_coef"])
def test_unknown_tags_keep_their_names(tag):
    m = match_tag(tag)
    assert m.metric == tag and not m.known


def test_step_series_beats_epoch_series_and_both_are_kept():
    got = resolve_metrics({"train_loss_step": 500, "train_loss_epoch": 10, "val_loss": 10})
    assert got["train_loss_step"] == "train_loss"
    assert got["train_loss_epoch"] == "train_loss_epoch"
    assert got["val_loss"] == "val_loss"


def test_qualified_name_used_only_without_an_exact_one():
    assert resolve_metrics({"eval_g0_loss": 5, "eval_g1_loss": 5})["eval_g0_loss"] == "val_loss"
    got = resolve_metrics({"eval_g0_loss": 5, "eval_loss": 5})
    assert got["eval_loss"] == "val_loss" and got["eval_g0_loss"] == "eval_g0_loss"
    got = resolve_metrics({"loss": 3, "LMOutput_loss": 3})
    assert got["loss"] == "train_loss" and got["LMOutput_loss"] == "LMOutput_loss"


def test_names_never_collide():
    got = resolve_metrics({"loss": 100, "train_loss": 1, "lr": 5, "lr-Adam": 5})
    assert len(set(got.values())) == len(got)
    assert got["loss"] == "train_loss"


@pytest.mark.parametrize("tag,metric", [("trainLoss", "train_loss"), ("valLoss", "val_loss"), ("valAccuracy", "val_acc"), ("holdout_loss", "val_loss")])
def test_camel_case_and_holdout(tag, metric):
    assert match_tag(tag).metric == metric


def test_test_split_is_validation_only_when_there_is_none():
    got = resolve_metrics({"Loss/train": 100, "Loss/test": 10, "Accuracy/test": 10})
    assert got == {"Loss/train": "train_loss", "Loss/test": "val_loss", "Accuracy/test": "val_acc"}
    got = resolve_metrics({"train_loss": 100, "valid_loss": 10, "test_loss": 1})
    assert got["valid_loss"] == "val_loss" and got["test_loss"] == "test_loss"


def test_mse_is_the_loss_only_when_no_loss_is_logged():
    # Regression scripts log train_mse / val_mse and no "loss"; Keras logs both.
    assert resolve_metrics({"train_mse": 30, "val_mse": 30, "train_mae": 30}) == {
        "train_mse": "train_loss",
        "val_mse": "val_loss",
        "train_mae": "train_mae",
    }
    got = resolve_metrics({"loss": 10, "mse": 10, "val_loss": 10, "val_mse": 10})
    assert got == {"loss": "train_loss", "mse": "mse", "val_loss": "val_loss", "val_mse": "val_mse"}
    assert match_tag("val_rmse").metric == "val_rmse"
