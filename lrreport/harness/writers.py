"""Write one :class:`~lrreport.harness.record.RunRecord` the way each framework does.

None of those frameworks is needed: each writer reproduces its tool's
on-disk layout, checked against real logs from public repositories:

* ``tb``: TensorBoard event files through ``torch.utils.tensorboard.SummaryWriter``
  (per step ``train/loss_step``, ``lr``, ``lr/<group>``, ``grad_norm``,
  ``update_ratio/<group>``; per epoch ``train/loss_epoch``, ``train/acc_epoch``,
  ``val/loss``, ``val/acc``, ``epoch``; all against the global step, as
  Lightning's TensorBoardLogger does) plus the hparams plugin summaries in the
  same file, as Lightning writes them.
* ``keras_tb``: the Keras ``TensorBoard`` callback layout: ``train/`` and
  ``validation/`` folders of ``*.v2`` event files with TF2 tensor scalars
  ``epoch_loss``, ``epoch_accuracy`` (and ``epoch_learning_rate`` in train/),
  stepped by epoch.
* ``csv``: Keras ``CSVLogger``: ``epoch`` then the sorted metric keys, float32
  values as Python writes them, CRLF line ends (``csv.writer``'s default).
* ``keras_history``: ``json.dump(model.fit(...).history)``.
* ``lightning``: ``CSVLogger``'s ``lightning_logs/version_0/metrics.csv`` (sparse
  rows: ``LearningRateMonitor``'s ``lr-SGD`` rows, ``train_loss_step`` rows every
  ``log_every_n_steps``, ``val_*`` and ``train_*_epoch`` rows at epoch end) and
  ``hparams.yaml``.
* ``hf``: Hugging Face ``Trainer``'s ``trainer_state.json`` (``json.dumps(...,
  indent=2, sort_keys=True)``; loss averaged over ``logging_steps`` and rounded
  to 4 places, eval entries each epoch, a final summary entry).
* ``mlflow``: the MLflow FileStore (``mlruns/<exp>/<run_id>/{meta.yaml, metrics/,
  params/, tags/}``, metric lines ``<ms> <value> <step>``).

Besides its logs every run gets ``hparams.yaml`` in its folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .record import RunRecord

__all__ = ["FORMATS", "parse_formats", "write_formats"]

#: Every format a run can be written in (``--log-format``).
FORMATS = ("tb", "csv", "keras_history", "lightning", "hf", "mlflow", "keras_tb")
DEFAULT_FORMATS = ("tb", "csv")


def parse_formats(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"tb,csv"`` -> ("tb", "csv"); ``"all"`` -> every format."""
    if text is None:
        return DEFAULT_FORMATS
    parts = [p.strip().lower() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    if parts == ["all"]:
        return FORMATS
    bad = [p for p in parts if p not in FORMATS]
    if bad:
        raise ValueError(f"unknown log format {bad[0]!r}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(parts))


def write_formats(record: RunRecord, run_dir: str | Path, formats: Iterable[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``record`` into ``run_dir`` in each of ``formats``; returns the files written."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    formats = parse_formats(list(formats))
    _remove_previous(run_dir, formats)
    written = [_write_hparams_yaml(record, run_dir / "hparams.yaml")]
    for fmt in formats:
        written += _WRITERS[fmt](record, run_dir)
    return written


# --- helpers -----------------------------------------------------------------

# What each writer leaves in a run folder: writing a run again replaces these
# (SummaryWriter would otherwise add a second event file beside the first).
_OWN_FILES = {
    "tb": ("events.out.tfevents.*",),
    "keras_tb": ("train/events.out.tfevents.*", "validation/events.out.tfevents.*"),
    "csv": ("training.csv",),
    "keras_history": ("history.json",),
    "lightning": ("lightning_logs/version_0/metrics.csv", "lightning_logs/version_0/hparams.yaml"),
    "hf": ("trainer_state.json",),
}


def _remove_previous(run_dir: Path, formats: Iterable[str]) -> None:
    for fmt in formats:
        for pattern in _OWN_FILES.get(fmt, ()):
            for p in run_dir.glob(pattern):
                p.unlink()
        if fmt == "mlflow" and (run_dir / "mlruns").is_dir():
            shutil.rmtree(run_dir / "mlruns")


def _f32(v: float) -> float:
    """A float32 value as a Python float: what ``tensor.item()`` / Keras logs hold."""
    return float(np.float32(v))


def _plain(v: Any) -> Any:
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return str(v)


def _write_hparams_yaml(record: RunRecord, path: Path) -> Path:
    path.write_text(yaml.safe_dump({k: _plain(v) for k, v in record.hparams.items()}, sort_keys=True))
    return path


def _acc_key(record: RunRecord) -> bool:
    return record.task == "classification"


# --- TensorBoard (torch SummaryWriter) ---------------------------------------

def _write_tb(record: RunRecord, run_dir: Path) -> list[Path]:
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams

    before = set(run_dir.glob("events.out.tfevents.*"))
    w = SummaryWriter(log_dir=str(run_dir), flush_secs=3600)
    # Lightning's TensorBoardLogger.log_hyperparams: the three hparams-plugin
    # summaries go into the run's own event file.
    hp = {k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in record.hparams.items()}
    for summary in hparams(hp, {}):
        w.file_writer.add_summary(summary, walltime=record.start_time)
    for row in record.logged_steps():
        v = row.values
        w.add_scalar("train/loss_step", v["loss"], row.step, walltime=row.wall_time)
        w.add_scalar("lr", v["lr"], row.step, walltime=row.wall_time)
        if record.multi_group:
            for g in record.groups:
                w.add_scalar(f"lr/{g}", v[f"lr/{g}"], row.step, walltime=row.wall_time)
        if "grad_norm" in v:
            w.add_scalar("grad_norm", v["grad_norm"], row.step, walltime=row.wall_time)
        for g in record.groups:
            if f"update_ratio/{g}" in v:
                w.add_scalar(f"update_ratio/{g}", v[f"update_ratio/{g}"], row.step, walltime=row.wall_time)
    for row in record.epochs:
        v = row.values
        t = row.wall_time
        w.add_scalar("epoch", row.epoch, row.step, walltime=t)
        w.add_scalar("train/loss_epoch", v["loss"], row.step, walltime=t)
        if "accuracy" in v:
            w.add_scalar("train/acc_epoch", v["accuracy"], row.step, walltime=t)
        if "val_loss" in v:
            w.add_scalar("val/loss", v["val_loss"], row.step, walltime=t)
        if "val_accuracy" in v:
            w.add_scalar("val/acc", v["val_accuracy"], row.step, walltime=t)
        if not record.log_every:  # epoch-level logs carry the LR per epoch
            w.add_scalar("lr", v["lr"], row.step, walltime=t)
            if record.multi_group:
                for g in record.groups:
                    w.add_scalar(f"lr/{g}", v[f"lr/{g}"], row.step, walltime=t)
    w.close()
    return sorted(set(run_dir.glob("events.out.tfevents.*")) - before)


def _write_keras_tb(record: RunRecord, run_dir: Path) -> list[Path]:
    """The Keras TensorBoard callback: train/ and validation/ writers, TF2 tensor scalars."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    out = []
    for sub, prefix in (("train", ""), ("validation", "val_")):
        d = run_dir / sub
        d.mkdir(parents=True, exist_ok=True)
        before = set(d.glob("events.out.tfevents.*"))
        w = EventFileWriter(str(d), filename_suffix=".v2")
        for row in record.epochs:
            keys = [("epoch_loss", f"{prefix}loss")]
            if _acc_key(record):
                keys.append(("epoch_accuracy", f"{prefix}accuracy"))
            if sub == "train":
                keys.append(("epoch_learning_rate", "lr"))
            for tag, key in keys:
                if key in row.values:
                    w.add_event(Event(wall_time=row.wall_time, step=row.epoch,
                                      summary=scalar_pb(tag, _f32(row.values[key]))))
        w.close()
        out += sorted(set(d.glob("events.out.tfevents.*")) - before)
    return out


# --- Keras CSVLogger and History --------------------------------------------

def _keras_logs(record: RunRecord) -> list[dict[str, float]]:
    rows = []
    for row in record.epochs:
        v = row.values
        logs = {"loss": v["loss"]}
        if "accuracy" in v:
            logs["accuracy"] = v["accuracy"]
        if "val_loss" in v:
            logs["val_loss"] = v["val_loss"]
        if "val_accuracy" in v:
            logs["val_accuracy"] = v["val_accuracy"]
        logs["learning_rate"] = v["lr"]
        rows.append({k: _f32(x) for k, x in logs.items()})
    return rows


def _write_keras_csv(record: RunRecord, run_dir: Path) -> list[Path]:
    path = run_dir / "training.csv"
    rows = _keras_logs(record)
    keys = sorted(rows[0]) if rows else []
    with open(path, "w", newline="") as f:  # CSVLogger opens with newline="": csv's \r\n stays
        writer = csv.DictWriter(f, fieldnames=["epoch", *keys])
        writer.writeheader()
        for row, logs in zip(record.epochs, rows):
            writer.writerow({"epoch": row.epoch, **logs})
    return [path]


def _write_keras_history(record: RunRecord, run_dir: Path) -> list[Path]:
    path = run_dir / "history.json"
    history: dict[str, list[float]] = {}
    # Keras 3 fills History in the order of its logs: compiled metrics, val_*,
    # then keys added by callbacks (learning_rate).
    order = ["accuracy", "loss", "val_accuracy", "val_loss", "learning_rate"]
    for logs in _keras_logs(record):
        for k in order:
            if k in logs:
                history.setdefault(k, []).append(logs[k])
    with open(path, "w") as f:
        json.dump(history, f)
    return [path]


# --- Lightning CSVLogger ------------------------------------------------------

def _write_lightning(record: RunRecord, run_dir: Path) -> list[Path]:
    d = run_dir / "lightning_logs" / "version_0"
    d.mkdir(parents=True, exist_ok=True)
    lr_tag = f"lr-{record.optimizer}"
    groups = record.groups
    step_by_index = {r.step: r for r in record.steps}

    def lr_row(values: dict[str, float], step: int) -> dict[str, Any]:
        if record.multi_group:
            row = {f"{lr_tag}/{g}": _f32(values[f"lr/{g}"]) for g in groups}
        else:
            row = {lr_tag: _f32(values["lr"])}
        return {**row, "step": step}

    rows: list[dict[str, Any]] = []
    for ep in record.epochs:
        first = ep.epoch * record.steps_per_epoch
        if not record.log_every:  # LearningRateMonitor(logging_interval="epoch"), at epoch start
            start = step_by_index.get(first)
            rows.append(lr_row(start.values if start else ep.values, first))
        for s in range(first, ep.step + 1):
            r = step_by_index.get(s)
            if r is None or not record.log_every or (s + 1) % record.log_every:
                continue
            rows.append(lr_row(r.values, s))
            train = {"train_loss_step": _f32(r.values["loss"])}
            for g in groups:
                if f"update_ratio/{g}" in r.values:
                    train[f"update_ratio/{g}"] = _f32(r.values[f"update_ratio/{g}"])
            rows.append({**train, "epoch": ep.epoch, "step": s})
        v = ep.values
        val = {}
        if "val_loss" in v:
            val["val_loss"] = _f32(v["val_loss"])
        if "val_accuracy" in v:
            val["val_acc"] = _f32(v["val_accuracy"])
        if val:
            rows.append({**val, "epoch": ep.epoch, "step": ep.step})
        train_ep = {"train_loss_epoch": _f32(v["loss"])}
        if "accuracy" in v:
            train_ep["train_acc_epoch"] = _f32(v["accuracy"])
        rows.append({**train_ep, "epoch": ep.epoch, "step": ep.step})
    keys = sorted(set().union(*rows)) if rows else ["epoch", "step"]
    path = d / "metrics.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    hp = d / "hparams.yaml"
    hp.write_text(yaml.safe_dump({k: _plain(v) for k, v in record.hparams.items()}))
    return [path, hp]


# --- Hugging Face Trainer -----------------------------------------------------

def _write_hf(record: RunRecord, run_dir: Path) -> list[Path]:
    spe = record.steps_per_epoch
    n_steps = len(record.steps)
    logging_steps = record.log_every or spe
    lrs = [r.values["lr"] for r in record.steps]
    log_history: list[dict[str, Any]] = []
    epoch_end = {ep.step: ep for ep in record.epochs}
    window: list[float] = []
    for r in record.steps:
        window.append(r.values["loss"])
        global_step = r.step + 1
        if global_step % logging_steps == 0:
            # Trainer logs the mean loss since the last log (rounded to 4 places)
            # and the LR after this step's scheduler step.
            nxt = lrs[r.step + 1] if r.step + 1 < n_steps else (record.lr_after_last_step or lrs[-1])
            mean = float(np.mean(window))
            entry = {"epoch": global_step / spe,
                     "learning_rate": nxt, "loss": round(mean, 4) if math.isfinite(mean) else mean,
                     "step": global_step}
            if "grad_norm" in r.values:
                entry["grad_norm"] = r.values["grad_norm"]
            log_history.append(entry)
            window = []
        ep = epoch_end.get(r.step)
        if ep is not None and "val_loss" in ep.values:
            dt = max(1e-4, ep.values.get("val_seconds", 0.01))
            entry = {"epoch": float(ep.epoch + 1), "eval_loss": ep.values["val_loss"]}
            if "val_accuracy" in ep.values:
                entry["eval_accuracy"] = ep.values["val_accuracy"]
            entry.update({"eval_runtime": round(dt, 4), "eval_samples_per_second": round(record.n_val / dt, 3),
                          "eval_steps_per_second": round(math.ceil(record.n_val / record.batch_size) / dt, 3),
                          "step": global_step})
            log_history.append(entry)
    runtime = max(1e-4, record.end_time - record.start_time)
    losses = [r.values["loss"] for r in record.steps]
    log_history.append({
        "epoch": float(len(record.epochs)), "step": n_steps, "total_flos": 0.0,
        "train_loss": float(np.mean(losses)) if losses else float("nan"),
        "train_runtime": round(runtime, 4),
        "train_samples_per_second": round(record.n_train * len(record.epochs) / runtime, 3),
        "train_steps_per_second": round(n_steps / runtime, 3),
    })
    evals = [(e["eval_loss"], e["step"]) for e in log_history if "eval_loss" in e and math.isfinite(e["eval_loss"])]
    best = min(evals) if evals else None
    state = {
        "best_global_step": best[1] if best else None,
        "best_metric": best[0] if best else None,
        "best_model_checkpoint": None,
        "epoch": float(len(record.epochs)),
        "eval_steps": spe,
        "global_step": n_steps,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": log_history,
        "logging_steps": logging_steps,
        "max_steps": spe * int(record.hparams.get("epochs", len(record.epochs))),
        "num_input_tokens_seen": 0,
        "num_train_epochs": int(record.hparams.get("epochs", len(record.epochs))),
        "save_steps": 500,
        "stateful_callbacks": {"TrainerControl": {"args": {
            "should_epoch_stop": False, "should_evaluate": False, "should_log": False,
            "should_save": True, "should_training_stop": True}, "attributes": {}}},
        "total_flos": 0.0,
        "train_batch_size": record.batch_size,
        "trial_name": None,
        "trial_params": None,
    }
    path = run_dir / "trainer_state.json"
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return [path]


# --- MLflow FileStore ---------------------------------------------------------

def _write_mlflow(record: RunRecord, run_dir: Path) -> list[Path]:
    root = (run_dir / "mlruns").resolve()
    exp_id = "1"
    name = str(record.hparams.get("run_name") or run_dir.name)
    run_id = hashlib.md5(f"{name}:{record.hparams.get('seed')}".encode()).hexdigest()
    start_ms = int(record.start_time * 1000)
    end_ms = int(record.end_time * 1000)
    out: list[Path] = []
    (root / ".trash").mkdir(parents=True, exist_ok=True)
    default = root / "0"
    default.mkdir(exist_ok=True)
    (default / "meta.yaml").write_text(yaml.safe_dump({
        "artifact_location": (default).as_uri(), "creation_time": start_ms, "experiment_id": "0",
        "last_update_time": start_ms, "lifecycle_stage": "active", "name": "Default"}))
    exp = root / exp_id
    run = exp / run_id
    for sub in ("metrics", "params", "tags", "artifacts"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    (exp / "meta.yaml").write_text(yaml.safe_dump({
        "artifact_location": exp.as_uri(), "creation_time": start_ms, "experiment_id": exp_id,
        "last_update_time": start_ms, "lifecycle_stage": "active",
        "name": str(record.hparams.get("experiment", "lrreport-harness"))}))
    (run / "meta.yaml").write_text(yaml.safe_dump({
        "artifact_uri": (run / "artifacts").as_uri(), "end_time": end_ms, "entry_point_name": "",
        "experiment_id": exp_id, "lifecycle_stage": "active", "run_id": run_id, "run_name": name,
        "run_uuid": run_id, "source_name": "", "source_type": 4, "source_version": "", "start_time": start_ms,
        "status": 3, "tags": [], "user_id": "lrreport"}))
    out.append(run / "meta.yaml")

    series: dict[str, list[str]] = {}

    def log(key: str, value: float, t: float, step: int) -> None:
        # FileStore: "%s %s %s\n" % (timestamp_ms, value, step)
        series.setdefault(key, []).append(f"{int(t * 1000)} {float(value)} {step}\n")

    for r in record.logged_steps():
        v = r.values
        log("train_loss", v["loss"], r.wall_time, r.step)
        # "learning_rate", not "lr": a metric file "lr" and a folder "lr/" for
        # "lr/<group>" cannot both exist in the store.
        log("learning_rate", v["lr"], r.wall_time, r.step)
        if record.multi_group:
            for g in record.groups:
                log(f"lr/{g}", v[f"lr/{g}"], r.wall_time, r.step)
        if "grad_norm" in v:
            log("grad_norm", v["grad_norm"], r.wall_time, r.step)
        for g in record.groups:
            if f"update_ratio/{g}" in v:
                log(f"update_ratio/{g}", v[f"update_ratio/{g}"], r.wall_time, r.step)
    for ep in record.epochs:
        v = ep.values
        log("epoch", ep.epoch, ep.wall_time, ep.step)
        log("train_loss_epoch", v["loss"], ep.wall_time, ep.step)
        if "accuracy" in v:
            log("train_acc", v["accuracy"], ep.wall_time, ep.step)
        if "val_loss" in v:
            log("val_loss", v["val_loss"], ep.wall_time, ep.step)
        if "val_accuracy" in v:
            log("val_acc", v["val_accuracy"], ep.wall_time, ep.step)
        if not record.log_every:
            log("learning_rate", v["lr"], ep.wall_time, ep.step)
            if record.multi_group:
                for g in record.groups:
                    log(f"lr/{g}", v[f"lr/{g}"], ep.wall_time, ep.step)
    for key, lines in series.items():
        p = run / "metrics" / key  # a "/" in a key is a sub-folder, as MLflow stores it
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(lines))
        out.append(p)
    for k, v in record.hparams.items():
        p = run / "params" / k
        p.write_text(str(_plain(v)))  # FileStore writes params without a trailing newline
    for k, v in (("mlflow.runName", name), ("mlflow.user", "lrreport"),
                 ("mlflow.source.name", "lrreport.harness"), ("mlflow.source.type", "LOCAL")):
        (run / "tags" / k).write_text(v)
    return out


_WRITERS = {
    "tb": _write_tb,
    "keras_tb": _write_keras_tb,
    "csv": _write_keras_csv,
    "keras_history": _write_keras_history,
    "lightning": _write_lightning,
    "hf": _write_hf,
    "mlflow": _write_mlflow,
}
