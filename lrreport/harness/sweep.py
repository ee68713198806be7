"""Sweeps: many runs (LRs x seeds x anything else) on all CPU cores.

Runs go to worker processes with one torch thread each (two threads in one
process are erratic on small machines; one process per core is not). A worker
starts once (about 1.5 s: importing torch) and then trains many configs, so
the start-up is paid per core, not per run. On a GPU the runs stay in this
process, one after the other. A tqdm bar on stderr counts finished runs.

Each run is written to its own folder with a readable name, such as
``lr=1e-03_seed=0``.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .train import TrainConfig

__all__ = ["default_workers", "expand_sweep", "parse_seeds", "parse_sweep", "run_configs", "run_sweep"]

#: Config fields a sweep may vary, and how their values are parsed.
SWEEPABLE: dict[str, Callable[[str], Any]] = {
    "lr": float, "batch_size": int, "epochs": int, "momentum": float, "weight_decay": float,
    "warmup": int, "seed": int, "optimizer": str, "schedule": str, "n_train": int,
}


def parse_sweep(specs: Iterable[str]) -> dict[str, list[Any]]:
    """``["lr=1e-5:10:13"]`` -> {"lr": 13 values on a log grid from 1e-5 to 10}.

    ``key=a:b:n`` is a log grid (n values, both ends included); ``key=v1,v2`` a list.
    """
    out: dict[str, list[Any]] = {}
    for spec in specs:
        key, eq, rest = spec.partition("=")
        key = key.strip()
        if not eq or key not in SWEEPABLE:
            raise ValueError(f"cannot sweep {spec!r}: use KEY=START:STOP:N or KEY=V1,V2 with KEY one of "
                             f"{', '.join(SWEEPABLE)}")
        conv = SWEEPABLE[key]
        if ":" in rest and key != "schedule":
            a, b, n = rest.split(":")
            lo, hi, num = float(a), float(b), int(n)
            if lo <= 0 or hi <= 0 or num < 1:
                raise ValueError(f"log grid {spec!r} needs positive ends and N >= 1")
            vals = list(np.geomspace(lo, hi, num)) if num > 1 else [lo]
            out[key] = [conv(float(f"{v:.6g}")) if conv is not str else v for v in vals]
        else:
            sep = ";" if key == "schedule" else ","
            out[key] = [conv(v.strip()) for v in rest.split(sep) if v.strip()]
    return out


def parse_seeds(text: str | None) -> list[int]:
    """``"0,1,2"`` -> [0, 1, 2]; ``"0-4"`` -> [0, 1, 2, 3, 4]."""
    if not text:
        return [0]
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            a, b = part.split("-", 1)
            seeds += list(range(int(a), int(b) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def _fmt(v: Any, digits: int) -> str:
    if isinstance(v, float):
        return f"{v:.{digits}e}"
    return str(v).replace("/", "-").replace(":", "-").replace(",", "-")


def expand_sweep(base: TrainConfig, sweep: dict[str, list[Any]], seeds: Sequence[int] = (0,)) -> list[TrainConfig]:
    """Every combination of the swept values and seeds, each with a readable unique name."""
    keys = list(sweep)
    combos = list(itertools.product(*(sweep[k] for k in keys), seeds))
    for digits in (0, 1, 2, 5):
        names = ["_".join([f"{k}={_fmt(v, digits)}" for k, v in zip(keys, c[:-1])] + [f"seed={c[-1]}"])
                 for c in combos]
        if len(set(names)) == len(names):
            break
    prefix = f"{base.name}/" if base.name and base.name != "." else ""
    return [replace(base, **dict(zip(keys, c[:-1])), seed=c[-1], name=prefix + n) for c, n in zip(combos, names)]


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def _run_one(config: TrainConfig, logdir: str | None) -> dict[str, Any]:
    from .train import train

    try:
        res = train(config, logdir)
    except Exception as e:  # one bad config must not sink the sweep
        return {"name": config.name, "error": f"{type(e).__name__}: {e}"}
    out = res.summary()
    out["history"] = [[r.values["loss"], r.values.get("val_loss", math.nan)] for r in res.record.epochs]
    return out


def run_configs(configs: Sequence[TrainConfig], logdir: str | Path | None, *, workers: int | None = None,
                progress: bool = True, desc: str = "runs") -> list[dict[str, Any]]:
    """Train every config (in worker processes when ``workers > 1``); results in input order.

    Each result is :meth:`RunResult.summary` plus ``history`` ([train loss, val
    loss] per epoch), or ``{"name", "error"}`` for a run that raised.
    """
    from tqdm import tqdm

    logdir_s = str(logdir) if logdir is not None else None
    workers = min(workers or default_workers(), max(1, len(configs)))
    on_gpu = any((c.device or "").startswith("cuda") for c in configs)
    if not on_gpu and any(c.device is None for c in configs):
        import torch

        on_gpu = torch.cuda.is_available()
    bar = tqdm(total=len(configs), desc=desc, file=sys.stderr, disable=not progress, leave=True)
    results: list[dict[str, Any] | None] = [None] * len(configs)
    if workers <= 1 or on_gpu:
        for i, c in enumerate(configs):
            results[i] = _run_one(c, logdir_s)
            bar.update()
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: a forked child inherits the parent's torch thread pools.
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                 initializer=_init_worker) as pool:
            futures = {pool.submit(_run_one, c, logdir_s): i for i, c in enumerate(configs)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                bar.update()
    bar.close()
    return [r for r in results if r is not None]


def run_sweep(base: TrainConfig | None = None, logdir: str | Path | None = None, *,
              sweep: dict[str, list[Any]] | Sequence[str] = (), seeds: Sequence[int] = (0,),
              workers: int | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Expand ``base`` over ``sweep`` x ``seeds`` and train every run (see :func:`run_configs`)."""
    base = base or TrainConfig()
    if not isinstance(sweep, dict):
        sweep = parse_sweep(sweep)
    configs = expand_sweep(base, sweep, seeds)
    return run_configs(configs, logdir, workers=workers, progress=progress, desc="sweep")
