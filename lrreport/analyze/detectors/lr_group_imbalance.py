"""lr_group_imbalance: one parameter group's updates are far out of line with the others.

With differential learning rates, what matters is each group's
update-to-weight ratio ||lr * update|| / ||weights|| (about 1e-3 per step is
the classic healthy value, after Karpathy's rule of thumb). A group whose
median ratio is ``group_ratio_factor`` below the others' is out of line; so is
one ``NEAR_FACTOR`` below them and under ``FROZEN`` per step (its weights
barely move: effectively frozen), or ``NEAR_FACTOR`` above them and over
``BLOWING_UP`` per step. Without update ratios,
the groups' LRs themselves are compared, with a 10x wider tolerance (different
LRs per group are usually intended, e.g. 10x for a new head). The suggested
LR for the odd group moves its ratio to the others' (ratios scale about
linearly with the LR for SGD and Adam alike). A group frozen short of
``group_ratio_factor`` in a run that trained well anyway (its training loss
fell ``TRAINED_WELL`` of the way) is reported as info: often intended, as a
frozen backbone or head is.
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis import Finding
from ..context import RunContext
from ._common import fmt, round_lr

#: Without update ratios, LRs must differ by this many times group_ratio_factor.
LR_ONLY_WIDER = 10.0
#: Update-to-weight ratio per step under which a group is frozen, and over which it is blowing up.
FROZEN, BLOWING_UP = 1e-4, 1e-1
#: With an absolute sign of trouble (FROZEN / BLOWING_UP), this factor against the others suffices.
NEAR_FACTOR = 10.0
#: A run whose training loss fell this share of the way from its start trained well: a group
#: frozen short of group_ratio_factor is then reported as info (it may be intended).
TRAINED_WELL = 0.95


def _trained_well(ctx: RunContext) -> bool:
    tr = ctx.train
    if tr is None or len(tr.fvalue) < 5 or not np.isfinite(tr.start) or tr.start <= 0:
        return False
    return bool(tr.end <= (1 - TRAINED_WELL) * tr.start)


def _median(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(np.median(a)) if len(a) else math.nan


def detect(ctx: RunContext) -> list[Finding]:
    cfg = ctx.config
    ratios = {g: _median(s.value) for g, s in ctx.update_ratios.items()}
    ratios = {g: r for g, r in ratios.items() if math.isfinite(r)}
    lrs = {g: _median(s.value) for g, s in ctx.group_lrs.items()}
    use_ratio = len(ratios) >= 2
    values = ratios if use_ratio else {g: v for g, v in lrs.items() if math.isfinite(v)}
    if len(values) < 2:
        return []
    limit = cfg.group_ratio_factor * (1 if use_ratio else LR_ONLY_WIDER)
    findings: list[Finding] = []
    for g, r in sorted(values.items()):
        others = [x for h, x in values.items() if h != g and x > 0]
        if not others:
            continue
        ref = float(np.exp(np.mean(np.log(others))))
        if r <= 0:
            factor = math.inf
            kind = "frozen"
        else:
            factor = ref / r if r < ref else r / ref
            kind = "frozen" if r < ref else "blowing up"
        absolute = use_ratio and factor >= NEAR_FACTOR and (r < FROZEN if kind == "frozen" else r > BLOWING_UP)
        if factor < limit and not absolute:
            continue
        # A group frozen by a factor short of group_ratio_factor is often intended (a frozen
        # backbone or head); it is a problem when it costs the run. A run whose training loss
        # fell TRAINED_WELL of the way from its start trained fine all the same: say so, quietly.
        harmless = kind == "frozen" and factor < limit and _trained_well(ctx)
        glr = lrs.get(g)
        sugg = None
        if glr and math.isfinite(glr) and glr > 0 and r > 0:
            sugg = round_lr(glr * ref / r) if use_ratio else round_lr(ref)
        what = "update-to-weight ratio" if use_ratio else "LR"
        series = ctx.update_ratios.get(g) if use_ratio else ctx.group_lrs.get(g)
        findings.append(
            Finding(
                code="lr_group_imbalance",
                severity="info" if harmless else "warning",
                run=ctx.run,
                metric=f"update_ratio/{g}" if use_ratio else f"lr/{g}",
                start_step=int(series.step[0]) if series is not None and len(series) else None,
                end_step=int(series.step[-1]) if series is not None and len(series) else None,
                message=(
                    f"Parameter group '{g}' is {kind}: its median {what} {fmt(r)} is "
                    f"{'over ' if math.isinf(factor) else ''}{fmt(factor if math.isfinite(factor) else limit)}x "
                    f"{'below' if kind == 'frozen' else 'above'} the other groups' ({fmt(ref)})"
                    + (" - the run trained well all the same, so this may be intended." if harmless else ".")
                ),
                advice=(
                    f"Set group '{g}' to an LR of about {fmt(sugg)}" if sugg else f"Rebalance group '{g}''s LR"
                )
                + (
                    f" (now {fmt(glr)}), which brings its {what} in line with the others."
                    if glr
                    else f", which brings its {what} in line with the others."
                ),
                evidence={
                    "group": g,
                    "group_value": r,
                    "others_geomean": ref,
                    "factor": factor if math.isfinite(factor) else None,
                    "compared": what,
                    "group_lr": glr,
                    "trained_well_anyway": harmless,
                },
                confidence=0.8 if use_ratio else 0.55,
                suggested_lr=sugg,
                group=g,
            )
        )
    return findings
