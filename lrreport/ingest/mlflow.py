"""MLflow's file store: ``mlruns/<experiment_id>/<run_id>/``.

* ``metrics/<key>``: one line per point, ``<timestamp ms> <value> <step>``;
  older stores wrote two fields (step 0). Keys containing ``/`` are nested
  folders (``metrics/train/loss``).
* ``params/<key>``: the value as text; ``tags/mlflow.runName``: the run's name.
* ``meta.yaml``: run id, status, times (read with ``yaml.safe_load``).
Artifacts are not read (a logged TensorBoard folder would count the run twice).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .base import LogReadError, RunData, frame_from_columns

__all__ = ["is_mlflow_run_dir", "read_mlflow_run"]

MAX_METRIC_BYTES = 1 << 30


def is_mlflow_run_dir(path: Path) -> bool:
    return (path / "meta.yaml").is_file() and (path / "metrics").is_dir()


def _param_value(text: str) -> Any:
    t = text.strip()
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def _read_text(path: Path, limit: int = 1 << 20) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def read_mlflow_run(run_dir: Path) -> RunData:
    metrics_dir = run_dir / "metrics"
    tags: list[str] = []
    steps: list[np.ndarray] = []
    values: list[np.ndarray] = []
    walls: list[np.ndarray] = []
    warnings: list[str] = []
    files: list[str] = []
    for root, dirs, fnames in os.walk(metrics_dir):
        dirs.sort()
        for fn in sorted(fnames):
            p = Path(root) / fn
            key = p.relative_to(metrics_dir).as_posix()
            files.append(str(p))
            try:
                if p.stat().st_size > MAX_METRIC_BYTES:
                    warnings.append(f"{key}: metric file too large, skipped")
                    continue
                raw = p.read_bytes().decode("utf-8", errors="replace")
            except OSError as exc:
                warnings.append(f"{key}: cannot read ({exc.strerror or exc})")
                continue
            ts, vs, ss = [], [], []
            bad = 0
            for line in raw.splitlines():
                parts = line.split()
                if not parts:
                    continue
                try:
                    if len(parts) >= 3:
                        t, v, s = float(parts[0]), float(parts[1]), int(float(parts[2]))
                    elif len(parts) == 2:
                        t, v, s = float(parts[0]), float(parts[1]), 0
                    else:
                        raise ValueError
                except (ValueError, OverflowError):
                    bad += 1
                    continue
                ts.append(t / 1000.0)
                vs.append(v)
                ss.append(s)
            if bad:
                warnings.append(f"{key}: {bad} malformed lines skipped")
            if vs:
                tags.append(key)
                walls.append(np.asarray(ts))
                values.append(np.asarray(vs))
                steps.append(np.asarray(ss, dtype=np.int64))
    if not values:
        raise LogReadError(run_dir, "MLflow run has no readable metric values")
    tag_col = [t for t, v in zip(tags, values) for _ in range(len(v))]
    frame = frame_from_columns(
        tag_col,
        np.concatenate(steps),
        np.concatenate(values),
        wall_time=np.concatenate(walls),
    )
    hparams: dict[str, Any] = {}
    params_dir = run_dir / "params"
    if params_dir.is_dir():
        for root, dirs, fnames in os.walk(params_dir):
            dirs.sort()
            for fn in sorted(fnames):
                p = Path(root) / fn
                text = _read_text(p)
                if text is not None:
                    hparams[p.relative_to(params_dir).as_posix()] = _param_value(text)
    name = _read_text(run_dir / "tags" / "mlflow.runName")
    if name:
        hparams["mlflow.runName"] = name.strip()
    meta_text = _read_text(run_dir / "meta.yaml")
    if meta_text:
        try:
            meta = yaml.safe_load(meta_text)
            if isinstance(meta, dict) and "status" in meta:
                hparams["mlflow.status"] = meta["status"]
        except yaml.YAMLError:
            warnings.append("meta.yaml: not valid YAML")
    return RunData(source="mlflow", frame=frame, files=files, hparams=hparams, warnings=warnings)
