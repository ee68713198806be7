"""One module per finding code of FINDINGS.md; each exposes ``detect(ctx) -> list[Finding]``.

Detectors read a :class:`~lrreport.analyze.context.RunContext` and never
format for a particular output. ``DETECTORS`` is the order they run in.
"""

from __future__ import annotations

from . import (
    divergence,
    lr_group_imbalance,
    lr_too_high,
    lr_too_low,
    no_lr_logged,
    overfitting,
    plateau,
    schedule_too_aggressive,
    suspicious_validation,
    warmup_needed,
)

DETECTORS = {
    "divergence": divergence.detect,
    "lr_too_high": lr_too_high.detect,
    "warmup_needed": warmup_needed.detect,
    "lr_too_low": lr_too_low.detect,
    "schedule_too_aggressive": schedule_too_aggressive.detect,
    "plateau": plateau.detect,
    "overfitting": overfitting.detect,
    "lr_group_imbalance": lr_group_imbalance.detect,
    "suspicious_validation": suspicious_validation.detect,
    "no_lr_logged": no_lr_logged.detect,
}

__all__ = ["DETECTORS"]
