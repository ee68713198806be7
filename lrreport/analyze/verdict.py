"""One diagnosis per run: weigh the detectors' findings and name the primary problem.

Detectors speak independently, so one trouble is often heard several times: a
run that diverged also has a validation loss that "rose" (overfitting?) and a
flat NaN tail (plateau?); an LR 100x too high also blows up early (warmup?).
A person reading the curves names the cause and treats the rest as its
symptoms. This module does the same, in three steps:

1. **Candidates**: the findings of severity warning or error.
2. **Cause before symptom**: each candidate that another one explains
   (``EXPLAINS``: divergence explains an apparent overfit, an LR far too high
   explains the early blow-up a warmup would have softened, an overfitting
   validation curve explains its own plateau ...) is folded into the
   explaining finding as evidence (``symptoms``), not raised again, and cannot
   be the primary problem itself. Among the rest, the primary problem is the
   most severe, then the best supported (confidence), then the one
   ``PRIORITY`` names first.
3. **Honest when the evidence cannot decide**: when the candidates point in
   opposite LR directions (too high and too low) with confidences within
   ``TIE_MARGIN``, neither is stated as fact: the verdict becomes the info
   code ``lr_uncertain``, naming both and the experiment that settles it.

Findings that neither explain nor are explained by the primary (a per-group LR
imbalance beside an overfitting run) stay as findings of their own; the
verdict lists every candidate it did not pick, and why, under ``alternatives``.
"""

from __future__ import annotations

from .analysis import Alternative, Finding, Verdict, severity_rank
from .detectors._common import fmt

__all__ = ["EXPLAINS", "PRIORITY", "decide"]

#: The order in which a person names causes when the evidence is equally strong:
#: the one that makes the others follow comes first.
PRIORITY = (
    "divergence",
    "lr_too_high",
    "warmup_needed",
    "schedule_too_aggressive",
    "overfitting",
    "lr_too_low",
    "plateau",
    "lr_group_imbalance",
    "suspicious_validation",
)

#: cause -> the findings it produces as side effects. A run that diverged shows a
#: validation loss that "rose from its minimum" and a flat tail; an LR far too high
#: stalls the loss (plateau), makes validation loss climb, and blows up early (what a
#: warmup question looks like); an LR cut too early makes the loss stall; an
#: overfitting run's validation curve stops improving.
EXPLAINS: dict[str, frozenset[str]] = {
    "divergence": frozenset(
        {"lr_too_high", "warmup_needed", "overfitting", "plateau", "lr_too_low", "schedule_too_aggressive"}
    ),
    "lr_too_high": frozenset({"plateau", "overfitting", "warmup_needed", "lr_too_low"}),
    "warmup_needed": frozenset({"plateau"}),
    "schedule_too_aggressive": frozenset({"plateau", "lr_too_low"}),
    "overfitting": frozenset({"plateau"}),
    "lr_too_low": frozenset({"plateau"}),
}

#: LR directions: a run cannot be both; when the evidence for each is this close
#: (in confidence), the verdict says it cannot tell.
DIRECTION = {"divergence": "high", "lr_too_high": "high", "warmup_needed": "high", "lr_too_low": "low"}
TIE_MARGIN = 0.1
#: A finding explains another only when it is itself this well supported.
MIN_CAUSE = 0.5


def _rank(f: Finding) -> tuple:
    prio = PRIORITY.index(f.code) if f.code in PRIORITY else len(PRIORITY)
    return (-severity_rank(f.severity), -round(f.confidence, 3), prio, f.start_step or 0, f.metric or "")


def _fold(primary: Finding, symptom: Finding) -> None:
    """Attach an explained finding to its cause as evidence (one line, its numbers kept)."""
    seen = primary.evidence.setdefault("symptoms", [])
    seen.append(f"{symptom.code}: {symptom.message}")


def decide(run: str, findings: list[Finding], *, fold: bool = True) -> tuple[Verdict, list[Finding]]:
    """The run's verdict, and its findings with the explained ones folded away
    (``fold=False``: every finding kept as it is, only the verdict is made)."""
    if not fold:
        import copy

        verdict, _ = decide(run, copy.deepcopy(findings))
        return verdict, findings
    alarms = sorted((f for f in findings if severity_rank(f.severity) >= severity_rank("warning")), key=_rank)
    quiet = [f for f in findings if severity_rank(f.severity) < severity_rank("warning")]
    if not alarms:
        return _healthy(run, quiet), findings

    # Opposite LR directions, equally supported: say so instead of picking one.
    highs = [f for f in alarms if DIRECTION.get(f.code) == "high"]
    lows = [f for f in alarms if DIRECTION.get(f.code) == "low"]
    if highs and lows and not any(f.code == "divergence" for f in highs):
        h, lo = highs[0], lows[0]
        if abs(h.confidence - lo.confidence) < TIE_MARGIN:
            return _uncertain(run, findings, h, lo)

    # A finding that another one explains cannot be the cause, however confident: the
    # cause's own evidence produced it (a plateau at chance is the symptom of an LR too low).
    explained = {
        id(f)
        for f in alarms
        for g in alarms
        if g is not f and g.code != f.code and f.code in EXPLAINS.get(g.code, ()) and g.confidence >= MIN_CAUSE
    }
    pool = [f for f in alarms if id(f) not in explained] or alarms
    primary = pool[0]
    alarms = [primary] + [f for f in alarms if f is not primary]
    kept: list[Finding] = [primary]
    alternatives: list[Alternative] = []
    symptoms: list[str] = []
    for f in alarms[1:]:
        if any(k.code == f.code for k in kept):
            # The same trouble found twice (by its own detector and as the cause of a stall,
            # or on a second metric): one finding, the other's evidence attached.
            same = next(k for k in kept if k.code == f.code)
            same.evidence.setdefault("also_found", []).append(_short(f.message))
            continue
        if f.code in EXPLAINS.get(primary.code, ()):
            _fold(primary, f)
            symptoms.append(f.code)
            alternatives.append(
                Alternative(f.code, f.confidence, f"a consequence of {primary.code}: {_short(f.message)}")
            )
        elif DIRECTION.get(f.code) and DIRECTION.get(primary.code) and DIRECTION[f.code] != DIRECTION[primary.code]:
            # Contradicts the primary and lost on the evidence: not a finding of its own.
            alternatives.append(
                Alternative(
                    f.code,
                    f.confidence,
                    f"contradicts {primary.code}, with weaker evidence ({fmt(f.confidence)} against "
                    f"{fmt(primary.confidence)})",
                )
            )
        else:
            kept.append(f)
            alternatives.append(Alternative(f.code, f.confidence, "a separate problem, reported on its own"))
    verdict = Verdict(
        run=run,
        code=primary.code,
        severity=primary.severity,
        confidence=primary.confidence,
        message=primary.message,
        alternatives=alternatives,
        symptoms=symptoms,
    )
    out = kept + quiet
    return verdict, out


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _healthy(run: str, quiet: list[Finding]) -> Verdict:
    uncertain = next((f for f in quiet if f.code == "lr_uncertain"), None)
    if uncertain is not None:
        return Verdict(run, "lr_uncertain", "info", uncertain.confidence, uncertain.message, [], [])
    msg = "No learning-rate trouble found in what was logged."
    return Verdict(run, "healthy", None, 0.7, msg, [], [])


def _uncertain(run: str, findings: list[Finding], high: Finding, low: Finding) -> tuple[Verdict, list[Finding]]:
    lr_h = high.evidence.get("lr") or high.evidence.get("lr_at_blowup")
    lr_l = low.evidence.get("lr")
    lr = lr_h or lr_l
    at = f" (LR {fmt(lr)})" if lr else ""
    message = (
        f"The evidence points both ways{at}: {high.code} ({_short(high.message, 120)}) and "
        f"{low.code} ({_short(low.message, 120)}), equally well supported."
    )
    advice = (
        "Settle it with one experiment: `lrreport lr-find` on this set-up, or two short runs at "
        + (f"{fmt(lr / 10)} and {fmt(lr * 10)}" if lr else "a tenth and ten times this LR")
        + "; the one that learns faster shows the direction."
    )
    conf = round(1 - max(high.confidence, low.confidence) / 2, 3)
    f = Finding(
        code="lr_uncertain",
        severity="info",
        run=run,
        metric=high.metric or low.metric,
        start_step=min(s for s in (high.start_step, low.start_step) if s is not None) if (high.start_step is not None or low.start_step is not None) else None,
        end_step=max(s for s in (high.end_step, low.end_step) if s is not None) if (high.end_step is not None or low.end_step is not None) else None,
        message=message,
        advice=advice,
        evidence={"too_high_evidence": high.evidence, "too_low_evidence": low.evidence, "lr": lr},
        confidence=conf,
        suggested_lr=None,
    )
    rest = [x for x in findings if x is not high and x is not low and severity_rank(x.severity) < severity_rank("warning")]
    others = [x for x in findings if x is not high and x is not low and severity_rank(x.severity) >= severity_rank("warning")]
    alts = [
        Alternative(high.code, high.confidence, f"as well supported as {low.code}: the logs cannot tell which"),
        Alternative(low.code, low.confidence, f"as well supported as {high.code}: the logs cannot tell which"),
    ]
    for o in others:
        alts.append(Alternative(o.code, o.confidence, "set aside while the LR's direction is unknown"))
    verdict = Verdict(run, "lr_uncertain", "info", conf, message, alts, [])
    return verdict, [f, *rest]
