"""Detector thresholds: named, explained, and overridable.

Every number a detector compares against lives here with a line on where it
comes from. Override them in ``pyproject.toml``::

    [tool.lrreport]
    suppress = ["suspicious_validation"]
    spike_ratio = 4.0

or with ``lrreport analyze --config FILE`` (a TOML file with the same keys at
top level or under ``[tool.lrreport]``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["Config", "load_config"]


@dataclass(frozen=True)
class Config:
    # --- smoothing -------------------------------------------------------------
    #: EMA weight of TensorBoard's smoothing slider default (0.6) is for display;
    #: for analysis we size the window from the series length instead.
    smooth_frac: float = 0.05
    #: Rolling-median window for spike detection (points), as in robust
    #: outlier rules (Hampel filter): long enough to ignore a single spike.
    spike_window: int = 21

    # --- divergence -------------------------------------------------------------
    #: "grows far above its starting value and does not come back" (FINDINGS.md):
    #: the loss ends this many times above its early level (median of the first points).
    divergence_ratio: float = 3.0
    #: An explosion: a single point this many times the early level, without
    #: recovery to within ``recover_ratio`` of the early level by the end.
    explosion_ratio: float = 10.0
    recover_ratio: float = 1.5

    # --- too high: spikes, a dead network --------------------------------------------
    #: A spike is a point this many times the rolling median of the points before
    #: it (Hampel-style, on the loss itself, which is positive). Single spikes of
    #: 5-6x occur in healthy runs at the top of their good LR range (harness
    #: corpus), so lr_too_high also asks for several (detectors/lr_too_high.py).
    spike_ratio: float = 3.0
    #: Peak of the loss in the first 20% of training relative to its first
    #: points: cross-entropy nets at a far too high LR jump 2.3 -> 25 -> 163
    #: then sit dead at chance (measured, see the analyzer issue).
    early_peak_ratio: float = 2.5
    #: The loss "stalls high": the best loss reached stays above this fraction
    #: of the starting loss (no real learning at all).
    stall_fraction: float = 0.85

    # --- too low ----------------------------------------------------------------
    #: Relative improvement of the smoothed loss over the run below which the
    #: run "barely moved" (TheDeepChecker's stagnation idea, made relative).
    low_total_improvement: float = 0.15

    # --- plateau (Keras ReduceLROnPlateau semantics) ------------------------------
    plateau_patience_frac: float = 0.25
    plateau_min_delta: float = 1e-3  #: relative, like ReduceLROnPlateau's min_delta in 'rel' mode

    # --- overfitting --------------------------------------------------------------
    #: Validation loss ends this fraction above its minimum (UMLAUT uses any rise;
    #: 15% is a rise a person calls clear; healthy harness runs wobble up to 14%).
    overfit_rise: float = 0.15
    #: And train loss kept falling after the val minimum by at least this fraction.
    overfit_train_drop: float = 0.05
    #: Minimum validation points to judge.
    overfit_min_points: int = 5

    # --- schedule too aggressive ---------------------------------------------------
    #: An LR cut that leaves the LR below this fraction of its peak while the
    #: loss was still falling fast.
    cut_fraction: float = 0.5

    # --- warmup ---------------------------------------------------------------------
    warmup_window_frac: float = 0.05

    # --- per-group LRs -------------------------------------------------------------
    #: Update-to-weight ratios: ~1e-3 per step is the classic healthy value
    #: (Karpathy's "update/weight ratio" heuristic); a group 100x below the others
    #: is effectively frozen, 100x above is blowing up.
    group_ratio_factor: float = 100.0

    # --- sweeps ---------------------------------------------------------------------
    #: A run is "good" when its best val loss is within this factor of the sweep's best.
    sweep_good_factor: float = 1.25

    # --- suspicious validation --------------------------------------------------------
    val_better_factor: float = 0.5

    suppress: tuple[str, ...] = field(default_factory=tuple)

    def with_overrides(self, values: dict[str, Any]) -> Config:
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for k, v in values.items():
            key = k.replace("-", "_")
            if key not in known:
                raise ValueError(f"unknown lrreport setting {k!r} (known: {', '.join(sorted(known))})")
            if key == "suppress":
                v = tuple(v if isinstance(v, (list, tuple)) else [v])
            elif isinstance(getattr(self, key), int) and not isinstance(getattr(self, key), bool):
                v = int(v)
            else:
                v = float(v)
            clean[key] = v
        return replace(self, **clean)


def load_config(path: str | Path | None = None, search_from: str | Path | None = None) -> Config:
    """Defaults, overridden by ``[tool.lrreport]`` in the nearest pyproject.toml
    (searched upwards from ``search_from``), then by the file at ``path``."""
    cfg = Config()
    if search_from is not None:
        d = Path(search_from).resolve()
        for parent in [d, *d.parents]:
            pp = parent / "pyproject.toml"
            if pp.is_file():
                try:
                    data = tomllib.loads(pp.read_text(encoding="utf-8"))
                except (OSError, tomllib.TOMLDecodeError):
                    break
                section = data.get("tool", {}).get("lrreport")
                if isinstance(section, dict):
                    cfg = cfg.with_overrides(section)
                break
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{p}: cannot read config ({exc.strerror or exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{p}: invalid TOML ({exc})") from None
        section = data.get("tool", {}).get("lrreport", data) if "tool" in data else data
        cfg = cfg.with_overrides(section)
    return cfg
