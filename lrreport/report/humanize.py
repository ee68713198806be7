"""Numbers and evidence as people read them: words with units, no ``1.39e+07%``.

Every renderer that shows evidence or numbers to a person (HTML, Markdown, the
terminal) uses these, so a value reads the same everywhere:

* :func:`number`: three significant digits, thousands separators, ``3e-4`` for the
  small numbers ML people write that way (LRs), words for huge ones ("14 million").
* :func:`ratio` (``×19``, ``×14 million``) and :func:`share` (``11.3%``; a share above
  10, a thousand percent, reads as a ratio instead).
* :func:`evidence_rows`: a finding's evidence dict as (words, value with its unit)
  rows, the keys a detector or the sweep analysis writes looked up in
  :data:`EVIDENCE`, unknown keys turned into words by their shape (``_step``,
  ``_over_``, ``_share`` ...). Thresholds and sweep context come after the
  measurements, in their own groups.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = ["EVIDENCE", "VERDICT_TITLES", "evidence_rows", "label", "lr", "number", "ratio", "share", "steps"]

_BIG = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _finite(v: Any) -> float | None:
    if v is None or isinstance(v, (bool, str)):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    except OverflowError:  # an integer beyond a float's range (a 5000-digit step)
        return float("inf") if v > 0 else float("-inf")
    return f


def number(v: Any, digits: int = 3) -> str:
    """A number for people: ``0.0642``, ``1,234``, ``3e-4``, ``14 million``, ``NaN``."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return ", ".join(number(x, digits) for x in v)
    f = _finite(v)
    if f is None:
        return str(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    sign = "−" if f < 0 else ""
    a = abs(f)
    if a >= 1e15:
        m, e = f"{a:.{digits - 1}e}".split("e")
        return f"{sign}{m.rstrip('0').rstrip('.')}e{int(e)}"
    for scale, word in _BIG:
        if a >= scale:
            return f"{sign}{_sig(a / scale, digits)} {word}"
    if isinstance(v, (int, np.integer)) or (a >= 1000 and a == int(a)):
        return f"{sign}{int(round(a)):,}"
    if a != 0 and a < 1e-3:
        m, e = f"{a:.{digits - 1}e}".split("e")
        return f"{sign}{m.rstrip('0').rstrip('.')}e{int(e)}"
    return sign + _sig(a, digits)


def _sig(a: float, digits: int) -> str:
    """``digits`` significant digits without an exponent (a < 1e6), thousands separated."""
    if a == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    s = f"{a:,.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def lr(v: Any) -> str:
    """A learning rate as people type it: ``0.1``, ``3e-4``, ``1e-5``."""
    f = _finite(v)
    if f is None or not math.isfinite(f) or f == 0:
        return number(v)
    if abs(f) < 1e-3 or abs(f) >= 1000:
        return number(f)
    return f"{f:.3g}"


def ratio(v: Any) -> str:
    """``×19``, ``×0.93``, ``×14 million``."""
    f = _finite(v)
    if f is None:
        return number(v)
    return "×" + number(f)


def share(v: Any) -> str:
    """A fraction as a percentage (``0.113`` → ``11.3%``); above 10 (a thousand percent)
    a ratio reads better (``×139,000``)."""
    f = _finite(v)
    if f is None or not math.isfinite(f):
        return number(v)
    if abs(f) > 10:
        return ratio(f)
    return f"{number(100 * f)}%"


def steps(v: Any) -> str:
    f = _finite(v)
    if f is None or not math.isfinite(f):
        return number(v)
    return f"step {int(round(f)):,}"


# --- evidence -------------------------------------------------------------------------------
#: Formatting by kind of value.
KINDS = {
    "step": steps,
    "lr": lr,
    "ratio": ratio,
    "share": share,
    "count": number,
    "value": number,
    "epochs": lambda v: f"{number(v)} epochs",
    "text": lambda v: number(v),
    "lr_range": lambda v: " – ".join(lr(x) for x in v) if isinstance(v, (list, tuple)) else lr(v),
}

#: Evidence keys of the detectors and the sweep analysis: (words, kind, group). Group ""
#: is what was measured; "threshold" the rule's settings; "sweep" the run's sweep.
EVIDENCE: dict[str, tuple[str, str, str]] = {
    # divergence
    "first_nonfinite_step": ("first NaN/Inf at", "step", ""),
    "nonfinite_points": ("NaN/Inf points", "count", ""),
    "nonfinite_share_after": ("NaN/Inf share after it", "share", ""),
    "last_finite_value": ("last finite value", "value", ""),
    "lr_at_blowup": ("LR at the blow-up", "lr", ""),
    "start_level": ("loss at the start", "value", ""),
    "end_level": ("loss at the end", "value", ""),
    "end_over_start": ("end ÷ start", "ratio", ""),
    "peak_smoothed": ("peak (smoothed)", "value", ""),
    "divergence_ratio": ("diverged above", "ratio", "threshold"),
    # lr_too_high
    "spikes": ("spikes", "count", ""),
    "max_spike_ratio": ("largest spike", "ratio", ""),
    "first_spike_step": ("first spike at", "step", ""),
    "last_spike_step": ("last spike at", "step", ""),
    "spike_ratio_threshold": ("a spike is above", "ratio", "threshold"),
    "first_epoch_mean_loss": ("first epoch's mean loss", "value", ""),
    "loss_at_first_epoch_end": ("loss after the first epoch", "value", ""),
    "first_epoch_blowup": ("first epoch ÷ its end", "ratio", ""),
    "first_epoch_end_step": ("first epoch ends at", "step", ""),
    "compared_with": ("compared with", "text", ""),
    "max_epoch_loss": ("highest epoch loss", "value", ""),
    "max_train_epoch_step": ("highest training epoch at", "step", ""),
    "max_train_epoch_loss": ("highest training epoch loss", "value", ""),
    "ce_absurd": ("no classifier starts above", "value", "threshold"),
    "at_chance_since_step": ("at chance since", "step", ""),
    "share_at_chance": ("share of the run at chance", "share", ""),
    "chance_accuracy": ("chance accuracy", "share", ""),
    "classes_implied": ("classes the loss implies", "value", ""),
    "loss_after": ("loss after", "value", ""),
    "collapsed_after_learning": ("collapsed after learning", "text", ""),
    "best_accuracy_before": ("best accuracy before", "share", ""),
    "rebound_from_step": ("rebound from", "step", ""),
    "rebound_to_step": ("rebound to", "step", ""),
    "epoch_loss_best_so_far": ("best epoch loss so far", "value", ""),
    "epoch_loss_rebound": ("epoch loss at the rebound", "value", ""),
    "rebound_over_best": ("rebound above the best", "share", ""),
    "median_epoch_change": ("typical change per epoch", "share", ""),
    "early_peak": ("early peak", "value", ""),
    "early_peak_step": ("early peak at", "step", ""),
    "peak_over_start": ("peak ÷ start", "ratio", ""),
    "best_after_peak": ("best after the peak", "value", ""),
    "best_after_over_start": ("best after the peak ÷ start", "ratio", ""),
    # lr_too_low
    "judged_on": ("judged on", "text", ""),
    "axis": ("read on", "text", ""),
    "epochs": ("epochs", "count", ""),
    "best_level": ("best loss", "value", ""),
    "relative_improvement": ("improvement over the run", "share", ""),
    "first_epoch_mean_over_end": ("first epoch ÷ end", "ratio", ""),
    "first_quarter_share_of_drop": ("share of the drop in the first quarter", "share", ""),
    "last_quarter_share_of_drop": ("share of the drop in the last quarter", "share", ""),
    "low_total_improvement": ("too slow below", "share", "threshold"),
    "tail_share_threshold": ("still falling above", "share", "threshold"),
    # plateau
    "level": ("loss on the plateau", "value", ""),
    "plateau_fraction_of_run": ("share of the run on the plateau", "share", ""),
    "lr_constant": ("LR constant meanwhile", "text", ""),
    "min_delta_rel": ("a new best improves by", "share", "threshold"),
    # overfitting
    "val_min": ("lowest val loss", "value", ""),
    "val_min_step": ("lowest val loss at", "step", ""),
    "val_end": ("val loss at the end", "value", ""),
    "val_rise_over_min": ("val loss rise above its minimum", "share", ""),
    "train_drop_after_min": ("train loss drop after it", "share", ""),
    "val_trend_after_min_kendall_tau": ("val loss trend after it (Kendall τ)", "value", ""),
    "overfit_rise": ("overfitting from a rise of", "share", "threshold"),
    # schedule_too_aggressive
    "cut_step": ("LR cut at", "step", ""),
    "collapsed_step": ("progress collapsed at", "step", ""),
    "collapse_at_fraction_of_run": ("collapse at share of the run", "share", ""),
    "improvement_after_collapse": ("improvement after the collapse", "share", ""),
    "pace_after_over_before": ("pace after ÷ before the cut", "ratio", ""),
    "share_of_drop_just_before_cut": ("share of the drop just before the cut", "share", ""),
    "peak_lr": ("peak LR", "lr", ""),
    "final_lr": ("final LR", "lr", ""),
    # warmup_needed
    "early_peak_over_start": ("early peak ÷ start", "ratio", ""),
    "early_spikes": ("early spikes", "count", ""),
    "settled_step": ("settled at", "step", ""),
    "lr_at_peak": ("LR at the peak", "lr", ""),
    "lr_ramp_logged": ("LR ramp logged", "text", ""),
    # lr_group_imbalance
    "group": ("parameter group", "text", ""),
    "group_lr": ("its LR", "lr", ""),
    "group_value": ("its value", "value", ""),
    "others_geomean": ("the other groups (geometric mean)", "value", ""),
    "factor": ("out of line by", "ratio", ""),
    "compared": ("compared", "text", ""),
    # suspicious_validation
    "median_val_over_train": ("val ÷ train (median)", "ratio", ""),
    "share_below": ("share of evaluations below train", "share", ""),
    # no_lr_logged
    "format": ("log format", "text", ""),
    "hparam_lr": ("LR in the hyperparameters", "lr", ""),
    # shared
    "lr": ("LR", "lr", ""),
    # the run's sweep
    "sweep_best_lr": ("best LR of the sweep", "lr", "sweep"),
    "sweep_good_lr_range": ("LRs that worked", "lr_range", "sweep"),
    "sweep_best_score": ("score at the best LR", "value", "sweep"),
    "sweep_same_seed": ("compared within its seed", "text", "sweep"),
    "run_score": ("this run's score", "value", "sweep"),
    "score_over_best": ("this run ÷ the best", "ratio", "sweep"),
    "sweep_metric": ("ranked on", "text", "sweep"),
    "sweep_runs": ("runs in the sweep", "count", "sweep"),
    "sweep_score": ("score", "text", "sweep"),
}
_ORDER = {k: i for i, k in enumerate(EVIDENCE)}
_WORDS = {"lr": "LR", "val": "val", "nonfinite": "NaN/Inf", "pct": "%", "num": "number of"}


def label(key: str) -> tuple[str, str, str]:
    """(words, kind, group) for an evidence key; unknown keys by their shape."""
    if key in EVIDENCE:
        return EVIDENCE[key]
    k = key.lower()
    words = " ".join(_WORDS.get(p, p) for p in re.split(r"[_\s]+", key) if p)
    words = words.replace(" over ", " ÷ ")
    if k.endswith("_threshold"):
        return words.replace(" threshold", ""), "value", "threshold"
    if k.startswith("sweep_"):
        return words[len("sweep "):], "value", "sweep"
    if k.endswith("_step") or k.endswith("_steps"):
        return words, "step", ""
    if k.endswith("_lr") or k.startswith("lr_"):
        return words, "lr", ""
    if "_over_" in k or k.endswith("_ratio") or k.endswith("_factor"):
        return words, "ratio", ""
    if any(k.endswith(s) for s in ("_share", "_fraction", "_frac")) or k.startswith("share_"):
        return words, "share", ""
    return words, "value", ""


def evidence_rows(evidence: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(words, formatted value, group) per evidence entry: measurements first (in the order
    of :data:`EVIDENCE`, then unknown keys by name), thresholds and sweep context after.
    ``symptoms`` (findings folded into this one) are not rows: renderers list them."""
    rows = []
    for key, value in evidence.items():
        if key == "symptoms":
            continue
        words, kind, group = label(str(key))
        try:
            text = KINDS[kind](value)
        except (TypeError, ValueError):
            text = number(value)
        rank = ({"": 0, "sweep": 1, "threshold": 2}[group], _ORDER.get(key, len(_ORDER)), str(key))
        rows.append((rank, words, text, group))
    rows.sort(key=lambda r: r[0])
    return [(w, t, g) for _, w, t, g in rows]


#: A verdict code as a short title (the codes stay in the JSON and the CLI's options).
VERDICT_TITLES = {
    "healthy": "Healthy",
    "lr_uncertain": "LR uncertain: the evidence points both ways",
    "divergence": "Diverged",
    "lr_too_high": "LR too high",
    "lr_too_low": "LR too low",
    "plateau": "Stuck on a plateau",
    "overfitting": "Overfitting",
    "schedule_too_aggressive": "LR cut too early",
    "warmup_needed": "Needs a warmup",
    "lr_group_imbalance": "Parameter groups out of balance",
    "suspicious_validation": "Suspicious validation",
    "no_lr_logged": "No LR logged",
    "analysis_error": "Analysis error",
}
