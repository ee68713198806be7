"""Write tests/data/sacred/: one run of Sacred's FileStorageObserver, made with sacred itself.

    pip install sacred "setuptools<81"   # sacred 0.8 imports pkg_resources
    python scripts/make_sacred_fixture.py

A toy experiment logs ``training.loss``, ``validation.loss`` and ``lr`` with
``_run.log_scalar(name, value, step)`` for 12 epochs; the observer writes
``1/metrics.json``, ``1/config.json``, ``1/run.json`` and ``1/cout.txt`` (and a copy of
this script under ``_sources/``, removed: it is not part of the log). The
values are fixed (no randomness), so ``expected.json`` beside them holds what was
logged, for the tests to compare with what lrreport reads.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "sacred"


def main() -> int:
    from sacred import Experiment
    from sacred.observers import FileStorageObserver

    shutil.rmtree(OUT, ignore_errors=True)
    ex = Experiment("toy", save_git_info=False)
    ex.observers.append(FileStorageObserver(str(OUT)))
    logged: dict[str, list[float]] = {"training.loss": [], "validation.loss": [], "lr": []}

    @ex.config
    def cfg():
        lr = 0.01  # noqa: F841 - a Sacred config scope: its locals are the config
        epochs = 12  # noqa: F841

    @ex.main
    def run(_run, lr, epochs):
        for e in range(epochs):
            for name, v in (("training.loss", math.exp(-e / 4) + 0.1), ("validation.loss", math.exp(-e / 5) + 0.2), ("lr", lr)):
                _run.log_scalar(name, v, e)
                logged[name].append(v)
            print(f"epoch {e} loss {math.exp(-e / 4) + 0.1:.4f}")

    ex.run(options={"--loglevel": "ERROR"})
    shutil.rmtree(OUT / "_sources", ignore_errors=True)  # the observer's copy of this script: not a log
    (OUT / "expected.json").write_text(json.dumps(logged, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
