"""The training harness: tiny real runs on the CPU, read back through lrreport.load."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import lrreport  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from lrreport.cli import main  # noqa: E402
from lrreport.harness.lrfind import (  # noqa: E402
    exponential_lrs,
    run_lr_find,
    smooth_losses,
    stop_index,
    suggest_all,
    suggest_lr,
)
from lrreport.harness.sweep import expand_sweep, parse_seeds, parse_sweep, run_sweep  # noqa: E402
from lrreport.harness.train import TrainConfig, train  # noqa: E402
from lrreport.harness.writers import FORMATS, parse_formats  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"body": 0.01, "head": 0.1}
#: Formats that can hold per-group LRs (Keras and HF log one LR per run).
GROUP_FORMATS = ("tb", "lightning", "mlflow")


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(**kw) -> TrainConfig:
    base = dict(epochs=3, device="cpu", log_every=1)
    base.update(kw)
    return TrainConfig(**base)


def metrics_of(logdir: Path) -> dict[str, set[str]]:
    rs = lrreport.load(logdir)
    assert not rs.errors, rs.errors
    out: dict[str, set[str]] = {}
    for row in rs.scalars.select("run", "metric").unique().iter_rows():
        out.setdefault(row[0], set()).add(row[1])
    return out


def test_demo_lr_halves_every_five_epochs(tmp_path):
    res = train(TrainConfig(device="cpu"), tmp_path)
    lrs = [round(r.values["lr"], 6) for r in res.record.epochs]
    assert lrs == [0.1] * 5 + [0.05] * 5 + [0.025] * 5
    assert res.record.n_train == 800 and res.record.n_val == 200
    assert res.best_val_loss < 0.5  # the demo learns
    csv_bytes = (res.run_dir / "training.csv").read_bytes()
    assert csv_bytes.startswith(b"epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\r\n")
    assert csv_bytes.count(b"\r\n") == 16
    found = metrics_of(tmp_path)
    assert len(found) == 1
    (metrics,) = found.values()
    assert {"train_loss", "val_loss", "lr", "val_acc", "grad_norm"} <= metrics


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_round_trips(tmp_path, fmt):
    groups = GROUPS if fmt in GROUP_FORMATS else {}
    train(tiny(group_lr=groups, log_every=2, formats=(fmt,)), tmp_path, name="run")
    found = metrics_of(tmp_path)
    assert len(found) == 1, found
    (metrics,) = found.values()
    assert {"train_loss", "val_loss"} <= metrics
    if groups:
        assert {"lr/body", "lr/head", "update_ratio/body", "update_ratio/head"} <= metrics
    else:
        assert "lr" in metrics


def test_group_lrs_and_update_ratios(tmp_path):
    res = train(tiny(dataset="digits", hidden=(32,), group_lr={"body": 1e-5, "head": 0.1}, schedule="constant"))
    rows = res.record.steps
    assert {r.values["lr/body"] for r in rows} == {1e-5} and {r.values["lr/head"] for r in rows} == {0.1}
    body = np.median([r.values["update_ratio/body"] for r in rows])
    head = np.median([r.values["update_ratio/head"] for r in rows])
    assert body < head / 100  # the body barely moves: a frozen group shows in its ratio
    with pytest.raises(ValueError, match="unknown parameter group"):
        train(tiny(group_lr={"neck": 0.1}))


def test_same_seed_same_logs(tmp_path):
    cfg = tiny(formats=("tb", "csv", "lightning"), fixed_clock=True)
    a = train(cfg, tmp_path / "a", name="run")
    b = train(cfg, tmp_path / "b", name="run")
    for rel in ("run/training.csv", "run/lightning_logs/version_0/metrics.csv"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    cols = ["run", "tag", "step", "value", "wall_time"]
    ra = lrreport.load(tmp_path / "a").scalars.select(cols).sort(cols[:3])
    rb = lrreport.load(tmp_path / "b").scalars.select(cols).sort(cols[:3])
    assert ra.filter(tag="train/loss_step").height == len(a.record.steps)  # the event file's scalars
    assert ra.equals(rb)
    c = train(tiny(seed=1), None)
    assert c.record.epochs[-1].values["loss"] != a.record.epochs[-1].values["loss"]
    assert b.best_val_loss == a.best_val_loss


@pytest.mark.parametrize("schedule,interval,warmup", [
    ("constant", "epoch", 0), ("step:step_size=1,gamma=0.1", "epoch", 0), ("multistep:milestones=1/2", "epoch", 0),
    ("exponential:gamma=0.5", "epoch", 0), ("cosine", "step", 0), ("cosine_restarts:t_0=5", "step", 0),
    ("onecycle", "step", 0), ("plateau:patience=0", "epoch", 0), ("cosine", "step", 10), ("step:step_size=1", "epoch", 1),
])
def test_schedules(schedule, interval, warmup):
    res = train(tiny(schedule=schedule, sched_interval=interval, warmup=warmup, optimizer="adam", lr=0.01))
    lrs = [r.values["lr"] for r in res.record.steps]
    assert all(math.isfinite(x) and x >= 0 for x in lrs)
    if schedule != "constant" and not schedule.startswith("plateau"):
        assert len(set(lrs)) > 1
    if warmup:
        assert lrs[0] < lrs[-1] or lrs[0] < max(lrs)


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizers(opt):
    res = train(tiny(optimizer=opt, lr=0.01, momentum=0.9 if opt == "sgd" else 0.0, nesterov=opt == "sgd"))
    assert math.isfinite(res.best_val_loss)


def test_data_sets_and_models():
    reg = train(tiny(dataset="diabetes", epochs=2, lr=0.01))
    assert reg.record.task == "regression" and "val_accuracy" not in reg.record.epochs[0].values
    cnn = train(tiny(dataset="digits", model="cnn", hidden=(4, 8), epochs=1, lr=0.05))
    assert math.isfinite(cnn.best_val_loss)
    high = train(tiny(dataset="diabetes", epochs=5, lr=50.0, momentum=0.9))
    assert high.diverged and len(high.record.epochs) < 5  # stops after the epoch that went NaN


def test_lr_find_math():
    lrs = exponential_lrs(1e-6, 10, 200)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(10)
    x = np.log10(lrs)
    # A textbook range-test curve: flat, a valley down to lr 1e-2, then a blow-up.
    losses = 2.0 - 1.5 / (1 + np.exp(-(x + 3.5) * 3)) + np.where(x > -2, (x + 2) ** 2 * 3, 0)
    losses = losses + np.random.default_rng(0).normal(0, 0.01, len(x))
    sm = smooth_losses(losses)
    stop = stop_index(sm)
    assert stop is not None and lrs[stop] > 1e-2
    sug = suggest_all(lrs[:stop], losses[:stop])
    assert 1e-5 < sug["valley"].lr < 1e-2
    assert sug["minimum"].lr == pytest.approx(lrs[sug["minimum"].index] / 10)
    assert 1e-5 < sug["steepest"].lr < 1e-2
    assert "valley" in sug["valley"].explanation
    with pytest.raises(ValueError):
        suggest_lr([1e-3, 1e-2], [1.0, 0.5])
    assert stop_index(np.array([1.0, 0.5, np.nan])) == 2


def test_lr_find_run_is_logged(tmp_path):
    out = run_lr_find(tiny(dataset="digits", hidden=(32,), formats=("tb", "csv")), tmp_path, num_steps=80, start_lr=1e-5, end_lr=10)
    assert 1e-5 <= out.suggestion.lr <= 10
    assert out.stopped_early  # SGD at LR 10 blows up the smoothed loss
    assert out.run_dir == tmp_path / "lr_find"
    hp = (out.run_dir / "hparams.yaml").read_text()
    assert "lr_find: true" in hp and "suggested_lr:" in hp
    (metrics,) = metrics_of(tmp_path).values()
    assert {"lr", "train_loss"} <= metrics
    assert "suggested lr:" in out.describe()


def test_sweep_names_and_results(tmp_path):
    assert len(parse_sweep(["lr=1e-5:10:13"])["lr"]) == 13
    assert parse_sweep(["lr=1e-5:10:13"])["lr"][0] == pytest.approx(1e-5)
    assert parse_sweep(["batch_size=16,32"]) == {"batch_size": [16, 32]}
    assert parse_seeds("0-2,5") == [0, 1, 2, 5]
    with pytest.raises(ValueError):
        parse_sweep(["colour=1,2"])
    names = [c.name for c in expand_sweep(TrainConfig(), parse_sweep(["lr=1e-3:1e-1:3"]), [0, 1])]
    assert names[:2] == ["lr=1e-03_seed=0", "lr=1e-03_seed=1"]
    res = run_sweep(tiny(epochs=2, formats=("csv",)), tmp_path, sweep=["lr=1e-3:1e-1:3"], seeds=[0],
                    workers=1, progress=False)
    assert [r["name"] for r in res] == ["lr=1e-03_seed=0", "lr=1e-02_seed=0", "lr=1e-01_seed=0"]
    assert all((tmp_path / r["name"] / "training.csv").exists() for r in res)


def test_sweep_in_worker_processes(tmp_path):
    res = run_sweep(tiny(epochs=1, formats=("csv",)), tmp_path, sweep={"lr": [0.01, 0.1]}, seeds=[0, 1],
                    workers=2, progress=False)
    assert len(res) == 4 and not any("error" in r for r in res)
    one = train(tiny(epochs=1, lr=0.1, seed=1), None)
    # The worker's run equals the same run trained here (one thread, same seed).
    assert res[3]["best_val_loss"] == pytest.approx(one.best_val_loss, rel=1e-6)


def test_parse_formats():
    assert parse_formats("tb,csv") == ("tb", "csv")
    assert parse_formats("all") == FORMATS
    with pytest.raises(ValueError):
        parse_formats("wandb")


def test_cli_train_prints_epoch_table(tmp_path):
    r = CliRunner().invoke(main, ["train", "--logdir", str(tmp_path), "--device", "cpu"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["epoch", "train", "loss", "val", "loss", "val", "acc", "lr"]
    assert [ln.split()[-1] for ln in lines[1:16]] == ["0.1"] * 5 + ["0.05"] * 5 + ["0.025"] * 5
    assert (tmp_path / "lr=1e-01_seed=0" / "training.csv").exists()


def test_cli_train_options(tmp_path):
    r = CliRunner().invoke(main, [
        "train", "--logdir", str(tmp_path), "--dataset", "digits", "--hidden", "16,16", "--epochs", "2",
        "--optimizer", "adam", "--lr", "1e-3", "--schedule", "cosine", "--sched-interval", "step", "--warmup", "5",
        "--group-lr", "body=1e-4", "--group-lr", "head=1e-2", "--log-format", "tb,lightning,mlflow",
        "--name", "custom", "--quiet", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    (metrics,) = metrics_of(tmp_path / "custom" / "lightning_logs").values()
    assert {"lr/body", "lr/head", "update_ratio/head"} <= metrics
    bad = CliRunner().invoke(main, ["train", "--logdir", str(tmp_path), "--log-format", "wandb"])
    assert bad.exit_code == 2 and "wandb" in bad.output


def test_cli_sweep_and_lr_find(tmp_path):
    r = CliRunner().invoke(main, ["train", "--logdir", str(tmp_path / "s"), "--epochs", "1", "--sweep",
                                  "lr=1e-2:1e-1:2", "--seeds", "0", "--workers", "1", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert "lr=1e-02_seed=0" in r.output and (tmp_path / "s" / "lr=1e-01_seed=0").is_dir()
    r = CliRunner().invoke(main, ["lr-find", "--logdir", str(tmp_path / "f"), "--num-steps", "60",
                                  "--device", "cpu"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("suggested lr: ")
    float(r.output.split()[2])


def _without_torch(code: str) -> subprocess.CompletedProcess:
    prog = "import sys\nsys.modules['torch'] = None\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_missing_torch_gives_one_line_hint():
    p = _without_torch("""
        from click.testing import CliRunner
        import lrreport, lrreport.harness
        from lrreport.cli import main
        assert CliRunner().invoke(main, ["--help"]).exit_code == 0
        for cmd in ("train", "lr-find"):
            r = CliRunner().invoke(main, [cmd, "--logdir", "x"])
            print(r.exit_code, r.output.strip())
        try:
            lrreport.harness.train()
        except lrreport.harness.MissingTorch as e:
            print("api:", e)
    """)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "2 lrreport train needs PyTorch: pip install 'lrreport[harness]'"
    assert lines[1] == "2 lrreport lr-find needs PyTorch: pip install 'lrreport[harness]'"
    assert lines[2].startswith("api: lrreport train needs PyTorch")


def test_hf_and_lightning_layouts(tmp_path):
    res = train(tiny(formats=("hf", "lightning"), log_every=5), tmp_path, name="run")
    state = json.loads((res.run_dir / "trainer_state.json").read_text())
    assert state["global_step"] == len(res.record.steps) and state["logging_steps"] == 5
    logs = state["log_history"]
    assert {"epoch", "grad_norm", "learning_rate", "loss", "step"} == set(logs[0])
    assert any("eval_loss" in e and "eval_runtime" in e for e in logs)
    assert "train_runtime" in logs[-1]
    text = (res.run_dir / "lightning_logs" / "version_0" / "metrics.csv").read_bytes().decode()
    header = text.split("\r\n")[0].split(",")
    assert header == sorted(header) and "lr-SGD" in header and "train_loss_step" in header
    assert "\r\n," in text  # LearningRateMonitor rows leave the epoch cell empty


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_short_run_on_cuda(tmp_path):
    res = train(TrainConfig(epochs=3, device="cuda"), tmp_path)
    assert res.record.hparams["device"] == "cuda"
    assert math.isfinite(res.best_val_loss)
    (metrics,) = metrics_of(tmp_path).values()
    assert {"train_loss", "val_loss", "lr"} <= metrics
