"""Write tests/data/wandb/sdk-offline/ with the wandb SDK itself: a tiny offline run.

    pip install wandb
    python scripts/make_wandb_fixture.py

The run logs what people log (``train/loss``, ``val/loss``, ``lr``, ``epoch``, a
nested optimizer config) for 6 epochs, offline (nothing leaves the machine).
``sdk-offline.expected.json`` beside the folder holds the config and history that were logged,
which tests/test_ingest_wandb.py compares the reader's output with. The large
and machine-specific files the SDK also writes (logs/, requirements.txt,
wandb-metadata.json, output.log) are removed; the run folder still holds what
the reader needs: run-<id>.wandb (wandb 0.31 writes an offline run's files/ only
when it is synced, so config and history come from the record log alone).
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "wandb" / "sdk-offline"


def main() -> None:
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"
    os.environ.setdefault("WANDB_DISABLE_GIT", "true")
    import wandb

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    config = {"learning_rate": 0.003, "batch_size": 32, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}, "model": "mlp"}
    history: dict[str, list] = {"train/loss": [], "val/loss": [], "lr": [], "epoch": []}
    run = wandb.init(project="lrreport-fixture", dir=str(OUT), config=config, settings=wandb.Settings(x_disable_stats=True, console="off"))
    for epoch in range(6):
        lr = 0.003 * 0.5 * (1 + math.cos(math.pi * epoch / 6))
        row = {"train/loss": round(2.0 * 0.7**epoch, 6), "val/loss": round(2.1 * 0.75**epoch + 0.01 * epoch, 6), "lr": lr, "epoch": epoch}
        for k, v in row.items():
            history[k].append(v)
        wandb.log(row)
    run.finish()
    (folder,) = (OUT / "wandb").glob("offline-run-*")
    for junk in ("logs", "tmp"):
        shutil.rmtree(folder / junk, ignore_errors=True)
    for name in ("requirements.txt", "wandb-metadata.json", "output.log", "conda-environment.yaml"):
        (folder / "files" / name).unlink(missing_ok=True)
    for p in (OUT / "wandb").iterdir():
        if p.is_symlink() or p.name.startswith("debug"):
            p.unlink()
    (OUT.parent / "sdk-offline.expected.json").write_text(json.dumps({"wandb": wandb.__version__, "config": config, "history": history}, indent=1) + "\n")
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
