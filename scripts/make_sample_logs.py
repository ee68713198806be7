"""Write sample_logs/: small real logs of every format lrreport reads, each telling one story.

    python scripts/make_sample_logs.py [--out sample_logs]

Every run is trained for real by lrreport.harness on the CPU with a fixed seed,
one torch thread and a synthetic clock, so the values are the same on every
machine. TensorBoard event files are renamed to fixed names (the writer puts
the host name and process id in them); their first record still carries the
real time it was written.

| folder | format | story |
|---|---|---|
| healthy-demo/ | tfevents (torch SummaryWriter) | the issue's demo: SGD 0.1, StepLR halving every 5 epochs |
| lr-too-high/ | Keras CSVLogger | SGD at LR 1.5 on digits: the loss jumps about and stalls high |
| divergence/ | Lightning CSVLogger | SGD+momentum at LR 0.15 on diabetes: fine at first, then NaN |
| lr-too-low/ | Keras History JSON | SGD at LR 1e-3 on digits: slow, steady, unfinished |
| overfitting/ | Hugging Face trainer_state.json | 80 training digits, a wide net: val loss climbs from epoch ~10 |
| schedule-cut-early/ | MLflow file store | StepLR(step_size=1, gamma=0.1): the LR is gone after 3 epochs |
| lr-sweep/ | tfevents, Keras TensorBoard layout (train/ + validation/) | 5 LRs from 1e-4 to 10 on digits |
| group-lrs/ | tfevents | body at 3e-5 (frozen) and head at 3e-2: per-group LRs and update ratios |
| warmup-needed/ | tfevents | Adam at 0.05 with no warmup: the loss jumps 8x in the first steps, then recovers |
| lr-find/ | tfevents | an LR range test on digits, with its suggested LR in the hparams |
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrreport.harness.lrfind import run_lr_find  # noqa: E402
from lrreport.harness.sweep import expand_sweep  # noqa: E402
from lrreport.harness.train import FIXED_CLOCK_START, TrainConfig, train  # noqa: E402

DIGITS = dict(dataset="digits", hidden=(64,), epochs=20, batch_size=32, optimizer="sgd", schedule="constant",
              device="cpu", fixed_clock=True)


def runs() -> list[tuple[str, TrainConfig]]:
    return [
        ("healthy-demo", TrainConfig(device="cpu", fixed_clock=True, formats=("tb",))),
        ("lr-too-high", TrainConfig(**DIGITS, lr=1.5, formats=("csv",))),
        ("divergence", TrainConfig(dataset="diabetes", hidden=(64,), epochs=20, batch_size=32, optimizer="sgd",
                                   momentum=0.9, lr=0.15, schedule="constant", log_every=5, device="cpu",
                                   fixed_clock=True, formats=("lightning",))),
        ("lr-too-low", TrainConfig(**DIGITS, lr=1e-3, formats=("keras_history",))),
        ("overfitting", TrainConfig(dataset="digits", hidden=(512, 512), n_train=80, epochs=60, batch_size=16,
                                    optimizer="adam", lr=1e-3, schedule="constant", log_every=5, device="cpu",
                                    fixed_clock=True, formats=("hf",))),
        ("schedule-cut-early", TrainConfig(**{**DIGITS, "schedule": "step:step_size=1,gamma=0.1"}, lr=0.1,
                                           log_every=5, formats=("mlflow",))),
        ("group-lrs", TrainConfig(**{**DIGITS, "hidden": (64, 64)}, lr=0.03, momentum=0.9,
                                  group_lr={"body": 3e-5, "head": 3e-2}, log_every=2, formats=("tb",))),
        ("warmup-needed", TrainConfig(dataset="digits", hidden=(256, 256), epochs=8, batch_size=32, optimizer="adam",
                                      lr=0.05, schedule="constant", sched_interval="step", log_every=1, device="cpu",
                                      fixed_clock=True, formats=("tb",))),
    ]


def fix_event_names(root: Path) -> None:
    """events.out.tfevents.<time>.<host>.<pid>.<n>[.v2] -> a fixed name per folder."""
    for d in sorted({p.parent for p in root.rglob("events.out.tfevents.*")}):
        for i, p in enumerate(sorted(d.glob("events.out.tfevents.*"))):
            suffix = ".v2" if p.name.endswith(".v2") else ""
            p.rename(d / f"events.out.tfevents.{int(FIXED_CLOCK_START)}.lrreport.{i}{suffix}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "sample_logs"), type=Path)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, cfg in runs():
        res = train(cfg, out, name=name)
        print(f"{name:20s} best val loss {res.best_val_loss:.4g}  ({', '.join(cfg.formats)})")
    sweep = TrainConfig(**{**DIGITS, "epochs": 15}, log_every=0, formats=("keras_tb",), name="lr-sweep")
    for cfg in expand_sweep(sweep, {"lr": [1e-4, 1e-3, 1e-2, 1e-1, 10.0]}, [0]):
        res = train(cfg, out)
        print(f"{cfg.name:20s} best val loss {res.best_val_loss:.4g}  (keras_tb)")
    lf = run_lr_find(TrainConfig(**{**DIGITS, "hidden": (32,)}, formats=("tb",)), out, name="lr-find",
                     start_lr=1e-6, end_lr=10, num_steps=100)
    print(f"{'lr-find':20s} {lf.describe().splitlines()[0]}")
    fix_event_names(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"sample_logs: {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
