"""The training harness: fresh, real runs whose logs lrreport can be tested on.

``train`` one model (the default is the issue's demo), ``lr_find`` (an LR
range test), ``run_sweep`` over LRs and seeds on all CPU cores, and write
the logs in every format lrreport reads. torch is imported only inside the
functions that train, so ``import lrreport.harness`` works without it
(:func:`require_torch` gives the one-line install hint).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FORMATS",
    "MissingTorch",
    "TORCH_HINT",
    "TrainConfig",
    "RunResult",
    "lr_find",
    "require_torch",
    "run_sweep",
    "suggest_lr",
    "train",
]

#: What a command that needs torch prints when it is missing.
TORCH_HINT = "lrreport {command} needs PyTorch: pip install 'lrreport[harness]'"

from .writers import FORMATS  # noqa: E402  (numpy/yaml only)
from .lrfind import suggest_lr  # noqa: E402  (pure numpy)
from .train import RunResult, TrainConfig  # noqa: E402  (torch imported lazily inside)


def require_torch(command: str = "train") -> None:
    """Raise :class:`MissingTorch` with the install hint when torch cannot be imported."""
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise MissingTorch(TORCH_HINT.format(command=command)) from e


class MissingTorch(RuntimeError):
    """torch is not installed; ``str(err)`` is the one-line hint."""


def train(*args: Any, **kwargs: Any):
    """See :func:`lrreport.harness.train.train`."""
    require_torch("train")
    from .train import train as _train

    return _train(*args, **kwargs)


def lr_find(*args: Any, **kwargs: Any):
    """See :func:`lrreport.harness.lrfind.run_lr_find`."""
    require_torch("lr-find")
    from .lrfind import run_lr_find

    return run_lr_find(*args, **kwargs)


def run_sweep(*args: Any, **kwargs: Any):
    """See :func:`lrreport.harness.sweep.run_sweep`."""
    require_torch("train")
    from .sweep import run_sweep as _run_sweep

    return _run_sweep(*args, **kwargs)
