"""no_lr_logged: the run has no learning-rate series, so schedule checks were skipped.

The advice says how to log it for the framework the run came from.
"""

from __future__ import annotations

from ..analysis import Finding
from ..context import RunContext

HOW = {
    "keras_csv": "add a callback that records the LR (Keras 3's CSVLogger writes `learning_rate` when a scheduler or ReduceLROnPlateau is used; else log `model.optimizer.learning_rate` in a callback)",
    "keras_history": "add a callback that puts `model.optimizer.learning_rate` into `logs` each epoch (ReduceLROnPlateau does it for you)",
    "lightning_csv": "add `lightning.pytorch.callbacks.LearningRateMonitor(logging_interval='step')` to the Trainer",
    "tfevents": "log it with `SummaryWriter.add_scalar('lr', scheduler.get_last_lr()[0], step)` (Lightning: LearningRateMonitor; Keras: the TensorBoard callback writes `epoch_learning_rate` when the LR is a schedule)",
    "hf_trainer_state": "make sure `logging_steps` is set; the Trainer logs `learning_rate` with the loss",
    "mlflow": "log it with `mlflow.log_metric('lr', lr, step=step)` each step or epoch",
}


def detect(ctx: RunContext) -> list[Finding]:
    if ctx.lr is not None:
        return []
    how = next((v for k, v in HOW.items() if k in ctx.info.source), HOW["tfevents"])
    lr = ctx.nominal_lr
    known = f" (its hyperparameters say lr={lr:g})" if lr else ""
    return [
        Finding(
            code="no_lr_logged",
            severity="info",
            run=ctx.run,
            metric=None,
            message=f"No learning-rate series was logged{known}, so schedule, warmup and cut checks were skipped.",
            advice=f"To log it: {how}.",
            evidence={"format": ctx.info.source, "hparam_lr": lr},
            confidence=1.0,
        )
    ]
