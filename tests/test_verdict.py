"""One verdict per run: on real logs strangers wrote, on harness-made sweeps, and the weighing itself."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lrreport
from lrreport.analyze.analysis import Finding
from lrreport.analyze.lr_prior import prior_for, regime_of
from lrreport.analyze.verdict import decide
from lrreport.runs import SCALARS_SCHEMA, RunInfo, RunSet

# --- real logs: the verdict a person reads off the curves ------------------------------------

#: Logs whose curves tell one clear story (labels read by a person; see the set's own notes).
VERDICTS = {
    "tfevents/dlgn-v13-overfit.tfevents": "overfitting",
    "lightning_csv/mnist-lightning-v1-overfit": "overfitting",
    "keras_csv/deepfake-overfit.csv": "overfitting",
    "keras_csv/tomato-leaf-overfit.csv": "overfitting",
    "hf_trainer_state/mti881-ner-lr-not-applied/named-lr2e-4.json": "overfitting",
    "lightning_csv/genrisk-gan-v0-nan-divergence.csv": "divergence",
    "lightning_csv/era-s13-yolov3-onecycle-sweep/version_1": "divergence",
    "lightning_csv/pendulum-pinn-v25-plateau": "plateau",
    "lightning_csv/pendulum-pinn-v11-stuck": "plateau",
    "tfevents/mirt-vae-v12-plateau": "plateau",
    "lightning_csv/trash-vit-cosine-val-flat": "plateau",
    "lightning_csv/eeg-classifier-v20-barely-moving": "lr_too_low",
    "lightning_csv/pendulum-pinn-v28-10000ep": "healthy",
    "lightning_csv/mlaos-regression-healthy": "healthy",
    "lightning_csv/mnist-cnn-healthy": "healthy",
    "lightning_csv/eeg-classifier-v0-slow-healthy": "healthy",
    "lightning_csv/lstm-toy-slow-descent": "healthy",
    "hf_trainer_state/canine-mlm-slow.json": "healthy",
    "lightning_csv/sign-lang-train-only-300ep": "healthy",
}


@pytest.mark.parametrize("rel", sorted(VERDICTS))
def test_verdict_on_real_logs(realworld, rel):
    a = lrreport.analyze(lrreport.load(realworld / rel))
    (run,) = a.runs
    v = a.verdict(run)
    assert v.code == VERDICTS[rel], (v.code, v.message)
    alarms = [f for f in a.run_findings(run) if f.severity in ("warning", "error")]
    if v.code == "healthy":
        assert not alarms and v.severity is None
    else:
        # One diagnosis: every other alarm is a separate problem, never a symptom repeated.
        assert alarms[0].code == v.code if alarms else False
        assert not set(v.symptoms) & {f.code for f in alarms}


def test_diverged_run_is_not_also_overfitting(realworld):
    """A run that blew up has a validation loss that 'rose from its minimum'; that is a
    symptom, folded into the divergence's evidence, not a second warning."""
    a = lrreport.analyze(lrreport.load(realworld / "lightning_csv/era-s13-yolov3-onecycle-sweep/version_0"))
    (run,) = a.runs
    assert a.verdict(run).code == "divergence"
    assert [f.code for f in a.run_findings(run) if f.severity != "info"] == ["divergence"]


def test_constant_predictor_says_it_cannot_tell(realworld):
    """A net sitting exactly at the loss of a constant predictor (0.25 for 0/1 targets), no LR
    logged: a plateau, and an info finding that names both directions and the experiment."""
    a = lrreport.analyze(lrreport.load(realworld / "lightning_csv/lstm-toy-stuck-at-0.25"))
    (run,) = a.runs
    assert a.verdict(run).code == "plateau"
    (u,) = [f for f in a.run_findings(run) if f.code == "lr_uncertain"]
    assert u.severity == "info"
    assert "too high" in u.message and "too low" in u.message and "lr-find" in u.advice
    plateau = next(f for f in a.run_findings(run) if f.code == "plateau")
    assert plateau.evidence["constant_predictor"]["kind"] == "frozen_loss"


def test_barely_moving_at_chance_is_too_low_with_its_evidence(realworld):
    a = lrreport.analyze(lrreport.load(realworld / "lightning_csv/eeg-classifier-v20-barely-moving"))
    (run,) = a.runs
    v = a.verdict(run)
    assert v.code == "lr_too_low" and "plateau" in v.symptoms
    (f,) = [f for f in a.run_findings(run) if f.code == "lr_too_low"]
    assert f.evidence["constant_predictor"]["kind"] == "frozen_accuracy"
    assert f.evidence["too_low_points"] > f.evidence["too_high_points"]


def test_logged_lr_beats_the_lr_a_folder_name_claims(realworld):
    """Three runs in folders named lr1e-5, lr2e-4 and default all logged the same LR
    schedule: they are not an LR sweep, whatever their names say."""
    a = lrreport.analyze(lrreport.load(realworld / "hf_trainer_state/mti881-ner-lr-not-applied"))
    assert a.sweeps == []
    assert {a.verdict(r).code for r in a.runs} == {"overfitting"}


@pytest.mark.parametrize("folder", ["keras_csv", "lightning_csv", "custom_csv", "hf_trainer_state"])
def test_unrelated_projects_in_one_folder_form_no_sweep(realworld, folder):
    a = lrreport.analyze(lrreport.load(realworld / folder))
    assert a.sweeps == [], [s.name for s in a.sweeps]


def test_real_world_set_meets_its_bars(realworld):
    """The eval script's numbers on the labelled set, each log alone: the floors of the analyzer issue."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from eval_analyzer import evaluate_realworld

    res = evaluate_realworld(realworld)["alone"]
    hits, n = res["recall_all"]
    fa, healthy = res["healthy"]
    assert hits / n >= 0.80, res["misses"]
    assert fa / healthy <= 0.05, res["false_alarms"]


# --- sweeps made by the harness: seeds and formats join one sweep ---------------------------------


@pytest.fixture(scope="module")
def two_seed_sweep(tmp_path_factory):
    pytest.importorskip("torch")
    from lrreport.harness.train import TrainConfig, train

    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("sweep")
    for seed, fmt in ((0, "tb"), (1, "csv")):  # one seed as event files, the other as Keras CSV
        for lr in (1e-4, 3e-2, 0.3, 30.0):
            cfg = TrainConfig(
                dataset="digits", epochs=6, lr=lr, seed=seed, schedule="", formats=(fmt,), log_every=0,
                name=f"lr={lr:g}_seed={seed}", n_train=400, device="cpu",
            )
            train(cfg, root)
    return root


def test_two_seeds_in_two_formats_form_one_sweep(two_seed_sweep):
    a = lrreport.analyze(lrreport.load(two_seed_sweep))
    assert len(a.sweeps) == 1, [s.name for s in a.sweeps]
    sw = a.sweeps[0]
    assert len(sw.runs) == 8 and sw.seeds == 2 and sw.seed_agreement is not None
    assert "rolling median" in sw.score
    assert {lrreport.load(two_seed_sweep).runs[r.run].source for r in sw.runs} >= {"tfevents", "keras_csv"}
    by_lr = {r.lr: r.position for r in sw.runs}
    assert by_lr[30.0] in ("too_high", "failed") and by_lr[1e-4] == "too_low"
    from lrreport.report.jsonout import to_json

    assert json.loads(to_json(a))["sweeps"][0]["seeds"] == 2


# --- the weighing itself ----------------------------------------------------------------------


def _f(code, severity="warning", confidence=0.7, **kw) -> Finding:
    return Finding(code=code, severity=severity, run="r", metric="train_loss", message=f"{code} seen", advice="-",
                   confidence=confidence, **kw)


def test_cause_folds_its_symptoms():
    v, kept = decide("r", [_f("overfitting", confidence=0.95), _f("divergence", "error", 0.85), _f("plateau", confidence=0.9)])
    assert v.code == "divergence" and set(v.symptoms) == {"overfitting", "plateau"}
    assert [f.code for f in kept] == ["divergence"]
    assert len(kept[0].evidence["symptoms"]) == 2
    assert {a.code for a in v.alternatives} == {"overfitting", "plateau"}


def test_explained_finding_is_never_the_cause_however_confident():
    v, kept = decide("r", [_f("plateau", confidence=0.9), _f("lr_too_low", confidence=0.6)])
    assert v.code == "lr_too_low" and v.symptoms == ["plateau"]


def test_opposite_directions_equally_supported_are_uncertain():
    v, kept = decide("r", [_f("lr_too_high", confidence=0.6, evidence={"lr": 0.01}), _f("lr_too_low", confidence=0.62)])
    assert v.code == "lr_uncertain" and v.severity == "info"
    (u,) = [f for f in kept if f.code == "lr_uncertain"]
    assert "0.001" in u.advice and "0.1" in u.advice


def test_independent_problems_stay_separate():
    v, kept = decide("r", [_f("overfitting", confidence=0.8), _f("lr_group_imbalance", confidence=0.7)])
    assert v.code == "overfitting"
    assert {f.code for f in kept} == {"overfitting", "lr_group_imbalance"}
    assert v.alternatives[0].why_not.startswith("a separate problem")


def test_healthy_verdict_and_json_shape():
    v, kept = decide("r", [_f("no_lr_logged", "info", 1.0)])
    assert v.code == "healthy" and v.healthy and kept[0].code == "no_lr_logged"
    d = v.to_dict()
    assert set(d) == {"code", "severity", "confidence", "message", "symptoms", "alternatives"}


# --- sweep scoring: one lucky point cannot win -----------------------------------------------------


def _runset(runs: dict[str, dict]) -> RunSet:
    rows, infos = [], {}
    for name, spec in runs.items():
        for metric, values in spec["series"].items():
            for s, v in enumerate(values):
                rows.append({"run": name, "source": "test", "tag": metric, "metric": metric, "step": s, "epoch": float(s),
                             "wall_time": None, "value": float(v)})
        infos[name] = RunInfo(run=name, source="test", path=name, hparams=spec["hparams"], metrics=sorted(spec["series"]),
                              points=sum(len(v) for v in spec["series"].values()))
    return RunSet("mem", pl.DataFrame(rows, schema=SCALARS_SCHEMA), infos)


def test_a_run_touching_zero_twice_is_not_the_best_of_its_sweep():
    n = 40
    t = np.arange(n)
    good = 2.3 * np.exp(-t / 8) + 0.2
    runs = {}
    for lr, val in ((1e-3, 2.3 - 0.01 * t), (1e-2, good), (1e-1, good * 1.05)):
        runs[f"sw/lr={lr:g}"] = {"series": {"train_loss": val, "val_loss": val + 0.05}, "hparams": {"lr": lr, "model": "mlp"}}
    bad = np.full(n, 300.0) + np.sin(t)
    bad[[12, 30]] = 0.0  # two lucky evaluations
    runs["sw/lr=10"] = {"series": {"train_loss": bad, "val_loss": bad}, "hparams": {"lr": 10.0, "model": "mlp"}}
    a = lrreport.analyze(_runset(runs))
    (sw,) = a.sweeps
    assert sw.best_lr == 1e-2
    assert next(r for r in sw.runs if r.lr == 10.0).position == "too_high"


# --- the LR prior ---------------------------------------------------------------------------------


def test_prior_regimes_and_positions():
    assert regime_of("hf_trainer_state", {}) == "finetune"
    assert regime_of("hf_trainer_state", {"model": "mlp"}) == "scratch"
    assert regime_of("csv", {"activation": "relu", "grad_clip": 1.0}) == "scratch"  # no "vit" in "activation"
    assert regime_of("tfevents", {"model_name_or_path": "bert-base-uncased"}) == "finetune"
    assert regime_of("tfevents", {"peft": "lora", "r": 8}) == "lora"
    p = prior_for("tfevents", {"optimizer": "torch.optim.AdamW"})
    assert p.optimizer == "adam" and p.position(1e-3) == "usual" and p.position(0.1) == "far_high"
    assert p.position(1e-6) == "far_low" and p.position(None) is None
    assert prior_for("tfevents", {}, tags=["lr-SGD"]).optimizer == "sgd"
    assert math.isclose(prior_for("hf_trainer_state", {}).typical, 3e-5)


def test_seeds_are_judged_against_their_own_best():
    """Two seeds whose data splits differ in difficulty (seed 1's losses sit 3x higher): a run
    within a few percent of its own seed's best is not 'too low' because the other seed's
    best is lower; the same LR on the other seed, far off its best, is."""
    n = 30
    t = np.arange(n)
    runs = {}
    for seed, level in ((0, 0.03), (1, 0.15)):
        shape = {1e-4: 6.0, 3e-3: 1.02 if seed == 1 else 4.0, 2e-2: 1.0, 1e-1: 1.1, 3.0: 40.0}
        for lr, k in shape.items():
            val = 0.7 * np.exp(-t / 5) + level * k
            runs[f"sw/lr={lr:g}_seed={seed}"] = {
                "series": {"train_loss": val * 0.9, "val_loss": val},
                "hparams": {"lr": lr, "seed": seed, "model": "mlp"},
            }
    a = lrreport.analyze(_runset(runs))
    (sw,) = a.sweeps
    assert sw.seeds == 2 and sw.best_lr == 2e-2
    pos = {r.run: r.position for r in sw.runs}
    assert pos["sw/lr=0.003_seed=1"] in ("good", "near")
    assert pos["sw/lr=0.003_seed=0"] == "too_low"
    assert a.verdict("sw/lr=0.003_seed=1").code == "healthy"
    low = a.verdict("sw/lr=0.003_seed=0")
    assert low.code == "lr_too_low" and "same set-up and seed" in low.message


def test_a_frozen_validation_accuracy_beside_a_perfect_training_one_is_not_a_dead_net():
    """36 validation samples: a good model's accuracy sits at 35/36 for most of the run while
    training accuracy reaches 1.0. That is quantisation, not a constant predictor."""
    n = 40
    t = np.arange(n)
    val_acc = np.where(t < 5, 0.9444, 0.9722)
    train_acc = np.minimum(1.0, 0.9 + 0.02 * t)
    val_loss = 0.2 * np.exp(-t / 10) + 0.09
    train_loss = 0.4 * np.exp(-t / 3) + 1e-4
    runs = {"wine/lr=0.0237": {"series": {"train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc,
                                          "train_acc": train_acc}, "hparams": {"lr": 0.0237, "optimizer": "adam"}}}
    from lrreport.analyze.baseline import constant_predictor
    from lrreport.analyze.config import Config
    from lrreport.analyze.context import build_context

    def cp_of(runs):
        return constant_predictor(build_context(_runset(runs), "wine/lr=0.0237", Config()))

    assert cp_of(runs) is None
    v = lrreport.analyze(_runset(runs)).verdict("wine/lr=0.0237")
    assert "constant predictor" not in v.message
    # The same frozen accuracy with a training accuracy frozen beside it is a dead net.
    runs["wine/lr=0.0237"]["series"]["train_acc"] = np.full(n, 0.40)
    runs["wine/lr=0.0237"]["series"]["val_acc"] = np.full(n, 0.3889)
    cp = cp_of(runs)
    assert cp is not None and cp["kind"] == "frozen_accuracy"
