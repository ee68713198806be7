"""Measure the analyzer: precision/recall per finding, false alarms on healthy runs, advice quality.

    python scripts/eval_analyzer.py [--corpus corpus/] [--realworld DIR] [--json out.json]

Runs lrreport on the labelled harness corpus (``scripts/make_corpus.py``) in two
modes - the whole logdir at once (sweeps visible) and each run alone - and on
the real-world logs whose story is clear, and prints per category:

* recall and precision of ``too_high`` (``divergence`` or ``lr_too_high``),
  ``too_low`` (``lr_too_low``), ``overfitting``, ``schedule_too_aggressive``,
  ``warmup_needed``, ``lr_group_imbalance``;
* the false-alarm rate: healthy runs (``lr_label`` healthy, no conditions) with
  any warning or error;
* advice: for too-high/too-low runs with a ``suggested_lr``, how often it lands
  inside the family's LR range that worked (with a 3x margin).

The same numbers are printed for baselines built from the published rules, on
the same runs:

* AUTOTRAINER (Zhang et al., ICSE'21; rules as in its public monitor):
  NaN loss -> too high; "unstable": local max/min pairs of training accuracy
  differing by >= zeta=0.03 at >= eta=0.2 x epochs -> too high; "slow
  convergence": no epoch-to-epoch accuracy gain >= delta=0.01 (train and val), or
  max accuracy < Theta=0.7 -> too low. Accuracy-based: silent on loss-only runs.
* TheDeepChecker (Braiek & Khomh): divergence (NaN, or final loss above the
  initial one) -> too high; fluctuation (relative std of the loss over the last
  quarter > 0.1) -> too high; stagnation (loss over the last quarter improved by
  < 1% of its value) -> too low.
* UMLAUT (Schoop et al., CHI'21): overfitting (validation loss at the end above
  its minimum while training loss fell); LR outside [1e-5, 0.1] (SGD) or
  [1e-5, 1e-2] (adaptive optimizers) -> too high / too low.
* Keras ReduceLROnPlateau rule: no val_loss improvement by min_delta=1e-4 for
  patience=10 evaluations -> plateau, counted as a too-low call.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lrreport  # noqa: E402
from lrreport.analyze.context import build_context  # noqa: E402
from lrreport.analyze.config import Config  # noqa: E402

CATEGORIES = ("too_high", "too_low", "overfitting", "schedule_too_aggressive", "warmup_needed", "lr_group_imbalance")
CODES = {
    "too_high": {"divergence", "lr_too_high"},
    "too_low": {"lr_too_low"},
    "overfitting": {"overfitting"},
    "schedule_too_aggressive": {"schedule_too_aggressive"},
    "warmup_needed": {"warmup_needed"},
    "lr_group_imbalance": {"lr_group_imbalance"},
}

def truth(label: dict) -> dict[str, bool | None]:
    """Per category: True/False, or None when unscored."""
    t: dict[str, bool | None] = {}
    lab = label.get("lr_label", "ambiguous")
    for c in ("too_high", "too_low"):
        t[c] = None if lab == "ambiguous" else lab == c
    conds = set(label.get("conditions", []))
    for c in CATEGORIES[2:]:
        t[c] = c in conds
    if lab == "too_high":
        # A run whose LR was too high is not also "overfitting" when its validation loss rises:
        # the instability is the cause, the rise its symptom (the verdict folds it as such).
        t["overfitting"] = None
    return t


def is_healthy(label: dict) -> bool:
    return label.get("lr_label") == "healthy" and not label.get("conditions")


# --- baselines --------------------------------------------------------------------


def _acc(ctx, which):
    s = ctx.train_acc if which == "train" else ctx.val_acc
    return None if s is None or len(s) < 3 else s.value[np.isfinite(s.value)]


def baseline_autotrainer(ctx) -> set[str]:
    out = set()
    loss = ctx.loss
    if loss is not None and (~loss.finite).any() or (ctx.val is not None and (~ctx.val.finite).any()):
        out.add("too_high")
    acc, vacc = _acc(ctx, "train"), _acc(ctx, "val")
    if acc is not None and len(acc) >= 3:
        maxima = [acc[i] for i in range(1, len(acc) - 1) if acc[i] >= acc[i - 1] and acc[i] >= acc[i + 1]]
        minima = [acc[i] for i in range(1, len(acc) - 1) if acc[i] <= acc[i - 1] and acc[i] <= acc[i + 1]]
        count = sum(1 for a, b in zip(maxima, minima) if a - b >= 0.03)
        if count >= 0.2 * len(acc):
            out.add("too_high")
        dmax = lambda a: max(np.diff(a).max(initial=0), 0)  # noqa: E731
        v = vacc if vacc is not None else acc
        if (dmax(acc) < 0.01 and dmax(v) < 0.01) or max(acc.max(), v.max()) < 0.7:
            out.add("too_low")
    return out


def baseline_deepchecker(ctx) -> set[str]:
    out = set()
    loss = ctx.loss
    if loss is None or len(loss) < 4:
        return out
    if (~loss.finite).any():
        return {"too_high"}
    v = loss.fvalue
    if v[-1] > v[0]:
        out.add("too_high")
    q = v[-max(2, len(v) // 4) :]
    if abs(np.mean(q)) > 0 and np.std(q) / abs(np.mean(q)) > 0.1:
        out.add("too_high")
    if q[0] - q[-1] < 0.01 * abs(q[0]):
        out.add("too_low")
    return out


def baseline_umlaut(ctx) -> set[str]:
    out = set()
    if ctx.val is not None and ctx.train is not None and len(ctx.val.fvalue) >= 3 and len(ctx.train.fvalue) >= 3:
        v, t = ctx.val.fvalue, ctx.train.fvalue
        if v[-1] > v.min() and t[-1] < t[int(np.argmin(v) * len(t) / len(v))]:
            out.add("overfitting")
    lr = ctx.nominal_lr
    opt = str({k.lower(): v for k, v in ctx.info.hparams.items()}.get("optimizer", "")).lower()
    hi = 0.1 if "sgd" in opt or not opt else 1e-2
    if lr is not None:
        if lr > hi:
            out.add("too_high")
        elif lr < 1e-5:
            out.add("too_low")
    return out


def baseline_plateau(ctx) -> set[str]:
    curve = ctx.val if ctx.val is not None else ctx.train
    if curve is None or len(curve.fvalue) < 3:
        return set()
    best, wait = math.inf, 0
    for x in curve.fvalue:
        if x < best - 1e-4:
            best, wait = x, 0
        else:
            wait += 1
            if wait >= 10:
                return {"too_low"}
    return set()


BASELINES = {
    "AUTOTRAINER": baseline_autotrainer,
    "TheDeepChecker": baseline_deepchecker,
    "UMLAUT": baseline_umlaut,
    "ReduceLROnPlateau": baseline_plateau,
}


# --- scoring -------------------------------------------------------------------------


def predictions_from_findings(findings) -> tuple[set[str], bool, dict[str, float]]:
    # A category counts when a finding of its codes is an alarm (warning or error); info
    # findings (a frozen group that cost nothing, an undecidable direction) say, not claim.
    cats = {c for c, codes in CODES.items() if any(f.code in codes and f.severity in ("warning", "error") for f in findings)}
    alarm = any(f.severity in ("warning", "error") for f in findings)
    sugg = {}
    for f in findings:
        if f.suggested_lr and f.code in CODES["too_high"] | CODES["too_low"]:
            sugg.setdefault("too_high" if f.code in CODES["too_high"] else "too_low", f.suggested_lr)
    return cats, alarm, sugg


def score(preds: dict[str, set[str]], alarms: dict[str, bool], labels: dict[str, dict]) -> dict:
    res = {}
    for c in CATEGORIES:
        tp = fp = fn = 0
        for run, lab in labels.items():
            t = truth(lab)[c]
            if t is None or run not in preds:
                continue
            p = c in preds[run]
            tp += p and t
            fp += p and not t
            fn += t and not p
        rec = tp / (tp + fn) if tp + fn else None
        prec = tp / (tp + fp) if tp + fp else None
        f1 = 2 * rec * prec / (rec + prec) if rec is not None and prec is not None and rec + prec > 0 else 0.0 if tp + fn else None
        res[c] = {"positives": tp + fn, "recall": rec, "precision": prec, "f1": f1}
    healthy = [r for r, lab in labels.items() if is_healthy(lab) and r in alarms]
    res["false_alarm_rate"] = sum(alarms[r] for r in healthy) / len(healthy) if healthy else None
    res["healthy_runs"] = len(healthy)
    return res


def advice_rate(suggestions: dict[str, dict[str, float]], labels: dict, families: dict) -> tuple[float | None, int]:
    ok = n = 0
    for run, lab in labels.items():
        c = lab.get("lr_label")
        if c not in ("too_high", "too_low") or run not in suggestions or c not in suggestions[run]:
            continue
        rng = (families.get(lab.get("family"), {}) or {}).get("good_lr_range")
        if not rng:
            continue
        s = suggestions[run][c]
        n += 1
        ok += rng[0] / 3 <= s <= rng[1] * 3
    return (ok / n if n else None), n


def relabel(labels: dict[str, dict], runs: list[str]) -> dict[str, dict]:
    """Labels are keyed by the folder a run was written to; the run lrreport finds may sit
    below it (lightning_logs/version_0, mlruns/<exp>/<id>). Key them by run name."""
    out = {}
    for run in runs:
        key = run
        while key and key not in labels:
            key = key.rsplit("/", 1)[0] if "/" in key else ""
        if key:
            out[run] = labels[key]
    return out


def evaluate_corpus(corpus: Path, labels_doc: dict) -> dict:
    families = labels_doc.get("families", {})
    t0 = time.perf_counter()
    rs = lrreport.load(corpus)
    load_s = time.perf_counter() - t0
    labels = relabel(labels_doc["runs"], list(rs.runs))
    missing = [r for r in labels_doc["runs"] if not any(k == r or k.startswith(r + "/") for k in rs.runs)]
    if missing:
        print(f"warning: {len(missing)} labelled runs not found as runs, e.g. {missing[:3]}", file=sys.stderr)
    out = {"runs": len(rs.runs), "errors": len(rs.errors), "load_seconds": round(load_s, 2)}

    t0 = time.perf_counter()
    whole = lrreport.analyze(rs)
    out["analyze_seconds_whole"] = round(time.perf_counter() - t0, 2)
    by_run = defaultdict(list)
    for f in whole.findings:
        by_run[f.run].append(f)
    preds, alarms, suggs = {}, {}, {}
    for run in rs.runs:
        preds[run], alarms[run], suggs[run] = predictions_from_findings(by_run[run])
    out["whole"] = score(preds, alarms, labels)
    out["whole"]["advice_in_range"], out["whole"]["advice_n"] = advice_rate(suggs, labels, families)

    t0 = time.perf_counter()
    preds, alarms, suggs = {}, {}, {}
    for run in rs.runs:
        a = lrreport.analyze(rs.subset([run]))
        preds[run], alarms[run], suggs[run] = predictions_from_findings(a.findings)
    out["analyze_seconds_alone"] = round(time.perf_counter() - t0, 2)
    out["alone"] = score(preds, alarms, labels)
    out["alone"]["advice_in_range"], out["alone"]["advice_n"] = advice_rate(suggs, labels, families)

    cfg = Config()
    contexts = {run: build_context(rs, run, cfg) for run in rs.runs}
    out["baselines"] = {}
    for name, fn in BASELINES.items():
        bp = {run: fn(ctx) for run, ctx in contexts.items()}
        out["baselines"][name] = score(bp, {r: bool(p) for r, p in bp.items()}, labels)
    out["misses"] = {
        c: sorted(r for r, lab in labels.items() if truth(lab)[c] and r in by_run and c not in predictions_from_findings(by_run[r])[0])[:12]
        for c in CATEGORIES
    }
    out["false_alarms"] = sorted(
        (r, sorted({f.code for f in by_run[r] if f.severity != "info"}))
        for r, lab in labels.items()
        if is_healthy(lab) and predictions_from_findings(by_run[r])[1]
    )[:15]
    return out


# --- the real-world set --------------------------------------------------------------

#: Label -> the verdict codes that count as naming it. A run that diverged was also an
#: LR too high and the other way round: the labels tell a blow-up from a stall at a high
#: LR by the curve, the analyzer by the same curve, and either names the right cause.
RW_FAMILY = {
    "divergence": {"divergence", "lr_too_high"},
    "lr_too_high": {"divergence", "lr_too_high"},
    "lr_too_low": {"lr_too_low"},
    "plateau": {"plateau"},
    "overfitting": {"overfitting"},
}
RW_PROBLEMS = tuple(RW_FAMILY)


def _label_of(run_rel: str, labels: dict[str, dict]) -> str | None:
    """The labelled log a run came from: the longest label key that is the run's path or a folder above it
    (a run may sit below its labelled folder, or be one fit of a labelled file: ``x.csv#fit2``)."""
    key = run_rel
    while key:
        if key in labels:
            return key
        base = key.split("#", 1)[0]
        if base != key and base in labels:
            return base
        key = key.rsplit("/", 1)[0] if "/" in key else ""
    return None


def _verdicts(analysis) -> dict[str, tuple[str, str | None, list[str]]]:
    """run -> (verdict code, its severity, codes of its warning/error findings)."""
    out = {}
    for run in analysis.runs:
        v = analysis.verdict(run)
        alarms = sorted({f.code for f in analysis.run_findings(run) if f.severity in ("warning", "error")})
        out[run] = (v.code, v.severity, alarms)
    return out


def _score_realworld(per_log: dict[str, list[tuple[str, str | None, list[str]]]], labels: dict[str, dict]) -> dict:
    """Recall per label, precision per code, false alarms on healthy logs, misses."""
    res: dict = {"recall": {}, "precision": {}, "misses": [], "false_alarms": [], "unread": []}
    hits_all = n_all = 0
    for lab in RW_PROBLEMS:
        logs = [k for k, v in labels.items() if v["label"] == lab]
        hit = 0
        for k in logs:
            verdicts = per_log.get(k, [])
            if any(code in RW_FAMILY[lab] for code, _, _ in verdicts):
                hit += 1
            else:
                res["misses"].append((k, lab, [c for c, _, _ in verdicts] or ["(nothing read)"]))
        res["recall"][lab] = (hit, len(logs))
        hits_all += hit
        n_all += len(logs)
    res["recall_all"] = (hits_all, n_all)
    healthy = [k for k, v in labels.items() if v["label"] == "healthy"]
    fa = 0
    for k in healthy:
        bad = [(c, a) for c, sev, a in per_log.get(k, []) if sev in ("warning", "error")]
        if bad:
            fa += 1
            res["false_alarms"].append((k, sorted({c for c, _ in bad})))
    res["healthy"] = (fa, len(healthy))
    # Precision of each code, as a verdict and as any warning/error finding, on logs with a clear label.
    for how in ("verdict", "finding"):
        tp: dict[str, int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        for k, v in labels.items():
            if v["label"] == "ambiguous":
                continue
            for code, sev, alarms in per_log.get(k, []):
                codes = {code} if how == "verdict" and sev in ("warning", "error") else set(alarms) if how == "finding" else set()
                for c in codes:
                    total[c] += 1
                    tp[c] += c in RW_FAMILY.get(v["label"], set())
        res["precision"][how] = {c: (tp[c], total[c]) for c in sorted(total)}
    res["unread"] = sorted(k for k in labels if not per_log.get(k))
    return res


def evaluate_realworld(root: Path) -> dict:
    """Each labelled log alone; each folder holding several labelled runs as one logdir; the whole set."""
    labels = json.loads((root / "labels.json").read_text())
    labels = {k: v for k, v in labels.items() if (root / k).exists()}
    out: dict = {"logs": len(labels)}

    per_log: dict[str, list] = {}
    errors: dict[str, list[str]] = {}
    for rel in sorted(labels):
        rs = lrreport.load(root / rel)
        per_log[rel] = list(_verdicts(lrreport.analyze(rs)).values())
        errors[rel] = [e.error for e in rs.errors]
    out["alone"] = _score_realworld(per_log, labels)
    out["alone"]["errors"] = {k: e for k, e in errors.items() if e and not per_log[k]}
    out["alone"]["verdicts"] = {k: [c for c, _, _ in v] for k, v in per_log.items()}

    # Folders that hold several labelled runs (the set's sweeps), each read as one logdir.
    parents: dict[str, list[str]] = defaultdict(list)
    for rel in labels:
        if "/" in rel:
            parents[rel.rsplit("/", 1)[0]].append(rel)
    folders = sorted(p for p, ks in parents.items() if len(ks) >= 2 and p.count("/") >= 1)
    out["sweep_folders"] = {}
    for folder in folders:
        a = lrreport.analyze(lrreport.load(root / folder))
        per: dict[str, list] = defaultdict(list)
        for run, v in _verdicts(a).items():
            key = _label_of(f"{folder}/{run}" if run != Path(folder).name else folder, labels)
            if key:
                per[key].append(v)
        sub = {k: labels[k] for k in parents[folder]}
        out["sweep_folders"][folder] = {
            "sweeps": [{"name": s.name, "runs": len(s.runs), "best_lr": s.best_lr} for s in a.sweeps],
            "score": _score_realworld(per, sub),
        }

    a = lrreport.analyze(lrreport.load(root))
    per = defaultdict(list)
    for run, v in _verdicts(a).items():
        key = _label_of(run, labels)
        if key:
            per[key].append(v)
    out["whole"] = _score_realworld(per, labels)
    out["whole"]["sweeps"] = [{"name": s.name, "runs": [r.run for r in s.runs]} for s in a.sweeps]
    return out


def _ratio(hit_n: tuple[int, int]) -> str:
    h, n = hit_n
    return f"{h}/{n} = {h / n:.2f}" if n else "-"


def print_realworld(rw: dict) -> None:
    for mode in ("alone", "whole"):
        r = rw[mode]
        title = "each log alone" if mode == "alone" else "the whole set as one logdir"
        print(f"\nreal-world logs ({rw['logs']} labelled), {title}:")
        print("  recall over labelled problems:", _ratio(r["recall_all"]))
        for lab, hn in r["recall"].items():
            print(f"    {lab:12s} {_ratio(hn)}")
        fa, n = r["healthy"]
        print(f"  false alarms on healthy logs: {fa}/{n} = {fa / n:.1%}" if n else "  no healthy logs")
        for how in ("verdict", "finding"):
            cells = ", ".join(f"{c} {_ratio(hn)}" for c, hn in r["precision"][how].items())
            print(f"  precision per code ({how}s): {cells or '-'}")
        for k, lab, got in r["misses"]:
            print(f"    missed {lab}: {k} -> {', '.join(got)}")
        for k, codes in r["false_alarms"]:
            print(f"    false alarm: {k} -> {', '.join(codes)}")
        if r["unread"]:
            print(f"  read as nothing: {len(r['unread'])}: " + ", ".join(r["unread"]))
        if mode == "whole":
            print(f"  sweeps found: {len(r['sweeps'])}")
            for s in r["sweeps"]:
                print(f"    {s['name']}: {len(s['runs'])} runs")
    for folder, f in rw["sweep_folders"].items():
        s = f["score"]
        sw = "; ".join(f"{x['name']} ({x['runs']} runs, best LR {x['best_lr']:.3g})" for x in f["sweeps"]) or "no sweep"
        print(f"\n  folder {folder} as one logdir: {sw}")
        print(f"    recall {_ratio(s['recall_all'])}, false alarms {s['healthy'][0]}/{s['healthy'][1]}")
        for k, lab, got in s["misses"]:
            print(f"    missed {lab}: {k} -> {', '.join(got)}")


def fmt(x) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def print_verdict(ours: dict, baselines: dict[str, dict], alone: dict | None = None) -> None:
    """lrreport against each baseline: F1 per category it speaks to, and false alarms."""
    print("\nF1 per category (recall and precision together), and false alarms on healthy runs:")
    print(f"{'':22s}" + "".join(f"{c[:15]:>17s}" for c in CATEGORIES) + f"{'false alarms':>14s}")
    for name, r in {"lrreport (whole)": ours, **({"lrreport (alone)": alone} if alone else {}), **baselines}.items():
        cells = "".join(f"{fmt(r[c]['f1']) if r[c]['positives'] else '':>17s}" for c in CATEGORIES)
        print(f"{name:22s}{cells}{fmt(r.get('false_alarm_rate')):>14s}")
    for name, b in baselines.items():
        spoken = [c for c in CATEGORIES if b[c]["positives"] and (b[c]["precision"] is not None or (b[c]["recall"] or 0) > 0)]
        wins = [c for c in spoken if (ours[c]["f1"] or 0) > (b[c]["f1"] or 0)]
        fa = (ours.get("false_alarm_rate") or 0) <= (b.get("false_alarm_rate") or 0)
        print(f"  vs {name}: higher F1 on {len(wins)}/{len(spoken)} of the categories it flags"
              f"{' (' + ', '.join(c for c in spoken if c not in wins) + ' not)' if len(wins) < len(spoken) else ''}; "
              f"false alarms {'no more' if fa else 'MORE'} than it")


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n{title}")
    head = f"{'':22s}" + "".join(f"{c[:15]:>17s}" for c in CATEGORIES) + f"{'false alarms':>14s}"
    print(head)
    for name, r in rows.items():
        cells = "".join(
            f"{'R' + fmt(r[c]['recall']) + ' P' + fmt(r[c]['precision']):>17s}" if r.get(c) else f"{'':>17s}" for c in CATEGORIES
        )
        print(f"{name:22s}{cells}{fmt(r.get('false_alarm_rate')):>14s}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument(
        "--realworld",
        type=Path,
        default=Path(os.environ["LRREPORT_REALWORLD"]) if os.environ.get("LRREPORT_REALWORLD") else None,
        help="a folder of labelled real-world logs (labels.json beside them); default: $LRREPORT_REALWORLD",
    )
    ap.add_argument("--skip-corpus", action="store_true", help="score only the real-world logs")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON")
    args = ap.parse_args(argv)
    result = {}
    lab_path = args.corpus / "labels.json"
    if args.skip_corpus:
        pass
    elif lab_path.is_file():
        doc = json.loads(lab_path.read_text())
        r = evaluate_corpus(args.corpus, doc)
        result["corpus"] = r
        print(f"corpus: {r['runs']} runs ({r['errors']} unreadable), load {r['load_seconds']} s, "
              f"analyze {r['analyze_seconds_whole']} s (whole) / {r['analyze_seconds_alone']} s (alone)")
        counts = defaultdict(int)
        for lab in relabel(doc["runs"], list(lrreport.load(args.corpus).runs)).values():
            for c, t in truth(lab).items():
                counts[c] += bool(t)
        counts["healthy"] = sum(is_healthy(lab) for lab in relabel(doc["runs"], list(lrreport.load(args.corpus).runs)).values())
        print("positives:", dict(counts))
        rows = {"lrreport (whole)": r["whole"], "lrreport (alone)": r["alone"], **r["baselines"]}
        print_table("recall R / precision P per category (corpus)", rows)
        print_verdict(r["whole"], r["baselines"], r["alone"])
        for mode in ("whole", "alone"):
            print(f"advice in the working LR range (3x margin), {mode}: {fmt(r[mode]['advice_in_range'])} of {r[mode]['advice_n']}")
        for c, m in r["misses"].items():
            if m:
                print(f"missed {c} (whole): {', '.join(m[:6])}")
        if r["false_alarms"]:
            print("false alarms (whole):", "; ".join(f"{a} {b}" for a, b in r["false_alarms"][:8]))
    else:
        print(f"no corpus at {args.corpus} (build it with scripts/make_corpus.py)")
    if args.realworld is not None and (args.realworld / "labels.json").is_file():
        rw = evaluate_realworld(args.realworld)
        result["realworld"] = rw
        print_realworld(rw)
    else:
        print(f"no labelled real-world logs at {args.realworld}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
