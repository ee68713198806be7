"""What one harness run recorded, before any log format is chosen.

The training loop fills a :class:`RunRecord`; each writer in
:mod:`lrreport.harness.writers` turns it into one framework's on-disk format.
Keys are the harness' own names (``loss``, ``lr``, ``lr/<group>``,
``grad_norm``, ``update_ratio/<group>``, ``accuracy``, ``val_loss``,
``val_accuracy``); the writers rename them the way each framework does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["EpochRow", "RunRecord", "StepRow"]


@dataclass
class StepRow:
    """One optimizer step."""

    step: int  #: 0-based index of the optimizer step
    epoch: float  #: fractional epoch at the end of the step (HF's convention)
    wall_time: float  #: seconds since the Unix epoch
    values: dict[str, float]  #: loss, lr, lr/<group>, grad_norm, update_ratio/<group>


@dataclass
class EpochRow:
    """The end of one epoch (after validation)."""

    epoch: int  #: 0-based, as Keras and Lightning count
    step: int  #: index of the epoch's last optimizer step
    wall_time: float
    values: dict[str, float]  #: loss, accuracy, val_loss, val_accuracy, lr (the LR used in the epoch)


@dataclass
class RunRecord:
    """All the scalars and settings of one run."""

    hparams: dict[str, Any]
    groups: list[str]  #: parameter-group names, in optimizer order
    optimizer: str  #: torch class name ("SGD", "Adam", ...), for Lightning's ``lr-SGD`` tags
    task: str  #: "classification" or "regression"
    steps_per_epoch: int
    batch_size: int
    n_train: int
    n_val: int
    steps: list[StepRow] = field(default_factory=list)
    epochs: list[EpochRow] = field(default_factory=list)
    start_time: float = 0.0
    end_time: float = 0.0
    log_every: int = 1  #: how often step scalars were kept (0: epoch-level only)
    lr_after_last_step: float | None = None  #: group 0's LR after the final scheduler step

    @property
    def multi_group(self) -> bool:
        return len(self.groups) > 1

    def logged_steps(self) -> list[StepRow]:
        """Step rows a step-level logger keeps: every ``log_every``-th step."""
        if not self.log_every:
            return []
        return [r for r in self.steps if (r.step + 1) % self.log_every == 0]
