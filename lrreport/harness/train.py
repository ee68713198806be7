"""Train one small model and log what the learning rate did, in any log format.

The default is the issue's demo: 1000 x 10 generated samples (800 train / 200
validation), an MLP 10-10-2, SGD at LR 0.1 with StepLR(step_size=5,
gamma=0.5) for 15 epochs, so the LR goes 0.1 -> 0.05 -> 0.025.

Every step records the training loss, the LR of each parameter group, the
global gradient norm and (with per-group LRs) each group's update-to-weight
ratio ``||W_after - W_before|| / ||W_before||``; every epoch records the mean
training loss/accuracy and the validation loss/accuracy. The record is then
written by :mod:`lrreport.harness.writers`.

On the CPU a run is deterministic: the same config and seed give the same
values (and byte-identical CSV files). torch is imported inside the functions
so ``import lrreport.harness`` works without it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .record import EpochRow, RunRecord, StepRow

__all__ = ["RunResult", "TrainConfig", "format_epoch_row", "EPOCH_TABLE_HEADER", "run_name", "train",
           "pick_device"]

#: Start of the synthetic clock used with ``fixed_clock=True`` (2023-11-14, any fixed value works).
FIXED_CLOCK_START = 1_700_000_000.0
#: Seconds the synthetic clock advances per optimizer step.
FIXED_CLOCK_STEP = 0.01


@dataclass
class TrainConfig:
    """Everything that defines one run (the defaults are the issue's demo)."""

    dataset: str = "demo"
    model: str = "mlp"
    hidden: tuple[int, ...] = (10,)
    epochs: int = 15
    batch_size: int = 32
    lr: float = 0.1
    optimizer: str = "sgd"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "step:step_size=5,gamma=0.5"
    sched_interval: str = "epoch"  #: "epoch" or "step"
    warmup: int = 0  #: linear warmup length, in sched_interval units
    group_lr: dict[str, float] = field(default_factory=dict)  #: {"body": 1e-4, "head": 1e-2}
    seed: int = 0
    n_train: int | None = None  #: keep only this many training samples
    val_fraction: float = 0.2
    log_every: int = 1  #: keep step scalars every N steps; 0 = epoch-level logs only
    grad_clip: float | None = None
    device: str | None = None  #: None: CUDA when present, else CPU
    formats: tuple[str, ...] = ("tb", "csv")
    name: str | None = None  #: run folder name; None: made from the config
    fixed_clock: bool = False  #: synthetic wall times (deterministic files, e.g. sample_logs)
    stop_on_nan: bool = True  #: stop after the epoch in which the loss became NaN/Inf
    extra_hparams: dict[str, Any] = field(default_factory=dict)  #: copied into the logged hparams

    def hparams(self) -> dict[str, Any]:
        """The flat hyperparameters logged with the run."""
        hp: dict[str, Any] = {
            "dataset": self.dataset, "model": self.model, "hidden": ",".join(map(str, self.hidden)),
            "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "optimizer": self.optimizer,
            "momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.weight_decay,
            "schedule": self.schedule or "constant", "sched_interval": self.sched_interval,
            "warmup": self.warmup, "seed": self.seed, "n_train": self.n_train if self.n_train else "all",
            "grad_clip": self.grad_clip if self.grad_clip else "none",
        }
        for g, v in sorted(self.group_lr.items()):
            hp[f"lr_{g}"] = v
        hp.update(self.extra_hparams)
        return hp


@dataclass
class RunResult:
    """What one run produced."""

    name: str
    run_dir: Path
    record: RunRecord
    best_val_loss: float  #: NaN when no finite validation loss
    best_epoch: int | None
    final_val_loss: float
    diverged: bool  #: the training loss became NaN/Inf
    seconds: float
    files: list[Path]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "run_dir": str(self.run_dir), "best_val_loss": self.best_val_loss,
                "best_epoch": self.best_epoch, "final_val_loss": self.final_val_loss,
                "diverged": self.diverged, "seconds": round(self.seconds, 3)}


def run_name(config: TrainConfig, keys: Sequence[str] = ("lr", "seed")) -> str:
    """A readable folder name such as ``lr=1e-03_seed=0``."""
    if config.name:
        return config.name
    parts = []
    for k in keys:
        v = getattr(config, k)
        parts.append(f"{k}={v:.0e}" if isinstance(v, float) else f"{k}={v}")
    return "_".join(parts)


def pick_device(requested: str | None = None) -> str:
    """CUDA when present, else the CPU; ``requested`` overrides."""
    import torch

    if requested:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for but torch sees no CUDA device")
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


EPOCH_TABLE_HEADER = f"{'epoch':>5}  {'train loss':>10}  {'val loss':>10}  {'val acc':>7}  {'lr':>9}"


def format_epoch_row(row: EpochRow) -> str:
    """One line of the per-epoch table (epochs counted from 1, as Keras prints them)."""
    v = row.values
    acc = f"{v['val_accuracy']:7.3f}" if "val_accuracy" in v else f"{'-':>7}"
    val = f"{v['val_loss']:10.4f}" if "val_loss" in v else f"{'-':>10}"
    return f"{row.epoch + 1:5d}  {v['loss']:10.4f}  {val}  {acc}  {v['lr']:9.3g}"


class _Prepared:
    """Data on the device, model, loss, optimizer and scheduler of one run."""

    def __init__(self, config: TrainConfig):
        import torch
        from torch import nn

        from .data import load_dataset
        from .models import build_model, parameter_groups
        from .schedules import build_optimizer, build_scheduler, parse_schedule

        self.device = pick_device(config.device)
        torch.manual_seed(config.seed)
        images = config.model == "cnn"
        ds = load_dataset(config.dataset, val_fraction=config.val_fraction, n_train=config.n_train,
                          seed=config.seed, images=images)
        self.ds = ds
        dev = self.device
        self.x_train = torch.as_tensor(ds.x_train, device=dev)
        self.y_train = torch.as_tensor(ds.y_train, device=dev)
        self.x_val = torch.as_tensor(ds.x_val, device=dev)
        self.y_val = torch.as_tensor(ds.y_val, device=dev)
        self.model = build_model(config.model, ds.n_features, ds.n_outputs, config.hidden, ds.image_shape).to(dev)
        self.loss_fn = nn.CrossEntropyLoss() if ds.task == "classification" else nn.MSELoss()
        if config.group_lr:
            by_name = parameter_groups(self.model)
            unknown = set(config.group_lr) - set(by_name)
            if unknown:
                raise ValueError(f"unknown parameter group {sorted(unknown)[0]!r}; the groups are "
                                 f"{', '.join(by_name)}")
            groups = [{"params": ps, "lr": float(config.group_lr.get(g, config.lr)), "name": g}
                      for g, ps in by_name.items()]
        else:
            groups = [{"params": list(self.model.parameters()), "lr": float(config.lr), "name": "all"}]
        self.group_names = [g["name"] for g in groups]
        self.optimizer = build_optimizer(config.optimizer, groups, momentum=config.momentum,
                                         nesterov=config.nesterov, weight_decay=config.weight_decay)
        n = len(ds.x_train)
        self.steps_per_epoch = max(1, math.ceil(n / config.batch_size))
        spec = parse_schedule(config.schedule)
        self.plateau = spec.name == "plateau"
        periods = config.epochs if config.sched_interval == "epoch" else config.epochs * self.steps_per_epoch
        self.scheduler = build_scheduler(self.optimizer, spec, periods=periods,
                                         steps_per_epoch=self.steps_per_epoch, epochs=config.epochs,
                                         interval=config.sched_interval, warmup=config.warmup)
        self.generator = torch.Generator().manual_seed(config.seed)

    def batches(self, batch_size: int):
        import torch

        perm = torch.randperm(len(self.x_train), generator=self.generator).to(self.device)
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            yield self.x_train[idx], self.y_train[idx]

    def evaluate(self, x, y) -> dict[str, float]:
        import torch

        self.model.eval()
        with torch.no_grad():
            losses, correct, n = 0.0, 0, 0
            for i in range(0, len(x), 1024):
                out = self.model(x[i:i + 1024])
                yb = y[i:i + 1024]
                losses += float(self.loss_fn(out, yb)) * len(yb)
                if self.ds.task == "classification":
                    correct += int((out.argmax(1) == yb).sum())
                n += len(yb)
        self.model.train()
        res = {"loss": losses / max(n, 1)}
        if self.ds.task == "classification":
            res["accuracy"] = correct / max(n, 1)
        return res


def _group_lrs(optimizer, names: list[str]) -> dict[str, float]:
    vals = {"lr": float(optimizer.param_groups[0]["lr"])}
    if len(names) > 1:
        for g, pg in zip(names, optimizer.param_groups):
            vals[f"lr/{g}"] = float(pg["lr"])
    return vals


def train(config: TrainConfig | None = None, logdir: str | Path | None = None, *,
          on_epoch: Callable[[EpochRow], None] | None = None, **overrides: Any) -> RunResult:
    """Train one run and write its logs under ``logdir/<run name>`` (or ``logdir`` itself
    when ``config.name == "."``). ``overrides`` replace config fields.

    ``on_epoch`` is called with each :class:`EpochRow` as it is logged (the CLI
    prints the epoch table with it). Without ``logdir`` nothing is written.
    """
    import torch

    from .writers import write_formats

    config = replace(config or TrainConfig(), **overrides)
    t0 = time.perf_counter()
    p = _Prepared(config)
    track_ratio = bool(config.group_lr)
    clock = _Clock(config.fixed_clock)
    record = RunRecord(hparams={**config.hparams(), "device": p.device.split(":")[0], "run_name": run_name(config),
                                "lr_find": False},
                       groups=p.group_names, optimizer=type(p.optimizer).__name__, task=p.ds.task,
                       steps_per_epoch=p.steps_per_epoch, batch_size=config.batch_size,
                       n_train=len(p.x_train), n_val=len(p.x_val), start_time=clock.now(0),
                       log_every=config.log_every)
    params = list(p.model.parameters())
    group_params = [pg["params"] for pg in p.optimizer.param_groups]
    step = 0
    diverged = False
    for epoch in range(config.epochs):
        losses: list[float] = []
        correct = 0
        seen = 0
        for xb, yb in p.batches(config.batch_size):
            lrs = _group_lrs(p.optimizer, p.group_names)
            out = p.model(xb)
            loss = p.loss_fn(out, yb)
            p.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip or float("inf"))
            before = [[q.detach().clone() for q in ps] for ps in group_params] if track_ratio else None
            p.optimizer.step()
            values = {"loss": loss.item(), **lrs, "grad_norm": gnorm.item()}
            if before is not None:
                with torch.no_grad():
                    for g, ps, old in zip(p.group_names, group_params, before):
                        num = sum(float(torch.sum((q - o) ** 2)) for q, o in zip(ps, old))
                        den = sum(float(torch.sum(o ** 2)) for o in old)
                        values[f"update_ratio/{g}"] = math.sqrt(num) / math.sqrt(den) if den > 0 else float("nan")
            if p.ds.task == "classification":
                correct += int((out.argmax(1) == yb).sum())
            seen += len(yb)
            losses.append(values["loss"])
            record.steps.append(StepRow(step, (step + 1) / p.steps_per_epoch, clock.now(step + 1), values))
            if p.scheduler is not None and config.sched_interval == "step" and not p.plateau:
                p.scheduler.step()
            step += 1
        t_val = time.perf_counter()
        val = p.evaluate(p.x_val, p.y_val)
        t_val = time.perf_counter() - t_val
        last = record.steps[-1].values
        ev: dict[str, float] = {"loss": float(sum(losses) / len(losses)),
                                **{k: v for k, v in last.items() if k == "lr" or k.startswith("lr/")}}
        if p.ds.task == "classification":
            ev["accuracy"] = correct / max(seen, 1)
        ev["val_loss"] = val["loss"]
        if "accuracy" in val:
            ev["val_accuracy"] = val["accuracy"]
        ev["val_seconds"] = FIXED_CLOCK_STEP if config.fixed_clock else t_val
        row = EpochRow(epoch, step - 1, clock.now(step), ev)
        record.epochs.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if p.scheduler is not None and config.sched_interval == "epoch":
            if p.plateau:
                p.scheduler.step(val["loss"] if math.isfinite(val["loss"]) else float("inf"))
            else:
                p.scheduler.step()
        elif p.plateau:
            p.scheduler.step(val["loss"] if math.isfinite(val["loss"]) else float("inf"))
        if not math.isfinite(ev["loss"]):
            diverged = True
            if config.stop_on_nan:
                break
    record.lr_after_last_step = float(p.optimizer.param_groups[0]["lr"])
    record.end_time = clock.now(step) if config.fixed_clock else time.time()
    name = run_name(config)
    run_dir = Path(logdir) / name if logdir is not None and name != "." else Path(logdir or ".")
    files = write_formats(record, run_dir, config.formats) if logdir is not None else []
    vals = [(r.values["val_loss"], r.epoch) for r in record.epochs if math.isfinite(r.values["val_loss"])]
    best = min(vals) if vals else (float("nan"), None)
    return RunResult(name=name, run_dir=run_dir, record=record, best_val_loss=best[0], best_epoch=best[1],
                     final_val_loss=record.epochs[-1].values["val_loss"] if record.epochs else float("nan"),
                     diverged=diverged, seconds=time.perf_counter() - t0, files=files)


class _Clock:
    """Real wall time, or a synthetic one that advances with the step count."""

    def __init__(self, fixed: bool):
        self.fixed = fixed

    def now(self, step: int) -> float:
        return FIXED_CLOCK_START + step * FIXED_CLOCK_STEP if self.fixed else time.time()
