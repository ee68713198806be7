"""Property tests of the reliability contract, for every reader and every renderer.

For any input hypothesis draws (hostile cases of every class from ``scripts/hostile_inputs.py``,
mutated bytes of each format, logs cut at any byte, runs with extreme values and hostile
names): ``load`` raises nothing and reports no internal error, the undamaged runs are read
whole, damage is said, every error is one line, and every renderer's output is produced
and encodes. ``scripts/fuzz.py`` runs the same classes for hours; these keep them honest in CI.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import random
import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrreport
from lrreport.analyze.analysis import Analysis, Finding
from lrreport.report import Report
from lrreport.report.jsonout import to_json
from lrreport.report.junit import to_junit
from lrreport.report.markdown import to_markdown
from lrreport.report.terminal import print_summary
from lrreport.runs import SCALARS_SCHEMA, FileNote, ReadError, RunInfo, RunSet

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("hostile_inputs", REPO / "scripts" / "hostile_inputs.py")
hostile = importlib.util.module_from_spec(_spec)
sys.modules["hostile_inputs"] = hostile  # dataclasses look their module up while the class is made
_spec.loader.exec_module(hostile)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def renders(a: Analysis, html: bool = False) -> None:
    doc = to_json(a)
    json.loads(doc)
    md = to_markdown(a)
    xml = to_junit(a, fail_on="warning")
    ElementTree.fromstring(xml.split("\n", 1)[1])
    buf = io.StringIO()
    print_summary(a, file=buf, html_path="r.html")
    for run in a.runs:
        a.trace(run)
    for text in (doc, md, xml, buf.getvalue()):
        text.encode("utf-8")
    if html:
        Report(a, workers=1).to_html()  # written with escapes by report.output in any case


def check_contract(rs, case) -> None:
    for e in rs.errors:
        assert e.error and "\n" not in e.error, e
        assert "internal error" not in e.error, e
    for run, points in case.expect_points.items():
        assert run in rs.runs and rs.runs[run].points == points, (run, points, rs.runs.get(run), rs.errors)
    said = [e.path + " " + e.error for e in rs.errors] + [n.path + " " + n.detail for n in rs.notes]
    said += [w for info in rs.runs.values() for w in info.warnings]
    for what in case.expect_said:
        assert any(what in s for s in said), (what, said)


# --- every class of hostile input ---------------------------------------------------------------
@pytest.mark.parametrize("cls", sorted(hostile.CLASSES))
@settings(max_examples=12, **SETTINGS)
@given(seed=st.integers(min_value=0, max_value=2**40))
def test_every_class_of_hostile_input(tmp_path_factory, cls, seed):
    root = tmp_path_factory.mktemp("case") / "logs"
    try:
        case = hostile.make_case(seed, root, cls)
        rs = lrreport.load(root, workers=1, **case.options)
        check_contract(rs, case)
        renders(lrreport.analyze(rs), html=seed % 6 == 0)
    finally:
        for extra in (str(root) + "-outside", str(root) + "-dir"):
            shutil.rmtree(extra, ignore_errors=True)


# --- every reader: mutated bytes of a real file of its format ------------------------------------
def _seed_files() -> dict[str, tuple[str, bytes]]:
    """One real file per format (from sample_logs/, made by the real writers), by reader."""
    s = REPO / "sample_logs"
    picks = {
        "tfevents": "healthy-demo/events.out.tfevents.1700000000.lrreport.0",
        "keras_csv": "lr-too-high/training.csv",
        "lightning_csv": "divergence/lightning_logs/version_0/metrics.csv",
        "keras_history": "lr-too-low/history.json",
        "hf_trainer_state": "overfitting/trainer_state.json",
        "hparams_yaml": "divergence/lightning_logs/version_0/hparams.yaml",
    }
    out = {}
    for kind, rel in picks.items():
        p = s / rel
        if p.is_file():
            out[kind] = (p.name, p.read_bytes())
    wandb = next((REPO / "tests" / "data" / "wandb").rglob("*.wandb"), None)
    if wandb is not None:
        out["wandb"] = ("run-x.wandb", wandb.read_bytes())
    text = REPO / "tests" / "data" / "text" / "keras3_fit_verbose1.txt"
    if text.is_file():
        out["text"] = ("train.log", text.read_bytes())
    sacred = REPO / "tests" / "data" / "sacred" / "1" / "metrics.json"
    if sacred.is_file():
        out["sacred"] = ("metrics.json", sacred.read_bytes())
    rows = "".join(f"{1700000000.5 + i},{i * 10},{0.9 ** i!r}\n" for i in range(40))
    out["tb_csv"] = ("run-version_0-tag-train_loss.csv", ("Wall time,Step,Value\n" + rows).encode())
    lines = "".join(
        json.dumps({"mode": m, "epoch": e, "iter": 50, "lr": 0.02, "loss": 1.0 / e}) + "\n"
        for e in range(1, 15)
        for m in ("train", "val")
    )
    out["json_lines"] = ("20230101_120000.log.json", lines.encode())
    mlflow = next((s / "schedule-cut-early" / "mlruns").glob("*/*/metrics"), None)
    if mlflow is not None:
        metric = sorted(p for p in mlflow.rglob("*") if p.is_file())[0]
        out["mlflow"] = (metric.relative_to(mlflow.parent.parent.parent).as_posix(), metric.read_bytes())
        out["mlflow_meta"] = ("meta.yaml", (mlflow.parent / "meta.yaml").read_bytes())
    return out


SEEDS = _seed_files()


@pytest.mark.parametrize("kind", sorted(SEEDS))
@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(min_value=0, max_value=2**40), rounds=st.integers(min_value=1, max_value=4))
def test_every_reader_survives_mutated_files(tmp_path_factory, kind, seed, rounds):
    name, data = SEEDS[kind]
    rng = random.Random(seed)
    for _ in range(rounds):
        data = hostile.damage_bytes(data, rng)
    root = tmp_path_factory.mktemp(kind)
    run = root / "run"
    run.mkdir()
    if kind == "hparams_yaml":
        (run / "metrics.csv").write_bytes(SEEDS["lightning_csv"][1])
    if kind.startswith("mlflow"):  # a whole MLflow run, one file of it damaged
        src = next((REPO / "sample_logs" / "schedule-cut-early" / "mlruns").glob("*/*/metrics")).parent.parent.parent
        shutil.rmtree(run)
        shutil.copytree(src, run)
        target = next(run.glob("*/*/meta.yaml")) if kind == "mlflow_meta" else run / name
    else:
        target = run / name
    target.write_bytes(data)
    case = hostile.Case(kind, "mutated")
    hostile.good_run(root, case)
    rs = lrreport.load(root, workers=1)
    check_contract(rs, case)
    if kind == "hparams_yaml":
        assert rs.runs["run"].points > 0  # a damaged hparams.yaml costs the hyperparameters at most
    renders(lrreport.analyze(rs), html=False)


# --- live files: a log cut at any byte never yields a value it did not hold ------------------------
LIVE = {
    "csv": ("training.log", lambda n: "epoch,loss,lr\n" + "".join(f"{e},{0.07231330071735642 * (e + 1)!r},0.01\n" for e in range(n))),
    "mlflow": ("loss", lambda n: "".join(f"{1700000000000 + e} {0.07231330071735642 * (e + 1)!r} {e}\n" for e in range(n))),
    "text": ("train.log", lambda n: "".join(f"Epoch {e}/{n} - loss: {0.07231330071735642 * (e + 1)!r}\n" for e in range(1, n + 1))),
}


@pytest.mark.parametrize("fmt", sorted(LIVE))
@settings(max_examples=40, **SETTINGS)
@given(n=st.integers(min_value=1, max_value=40), data=st.data())
def test_live_file_cut_anywhere(tmp_path_factory, fmt, n, data):
    name, make = LIVE[fmt]
    full = make(n).encode()
    cut = data.draw(st.integers(min_value=1, max_value=len(full)))
    root = tmp_path_factory.mktemp(fmt)
    if fmt == "mlflow":
        run = root / "mlruns" / "0" / "abc"
        (run / "metrics").mkdir(parents=True)
        (run / "meta.yaml").write_text("status: 1\n")
        path = run / "metrics" / name
    else:
        path = root / "r" / name
        path.parent.mkdir()
    path.write_bytes(full[:cut])
    rs = lrreport.load(root, workers=1)
    allowed = {0.07231330071735642 * (e + 1) for e in range(n + 1)}
    complete = full[:cut].count(b"\n")
    for run in rs.runs:
        s = rs.series(run, "train_loss")
        if s is not None:
            assert set(s.value.tolist()) <= allowed  # never a cut-off value
            if fmt == "mlflow":
                assert s.step.tolist() == list(range(len(s)))  # never a spurious step 0
    if not full[:cut].endswith(b"\n"):
        assert any(n.kind == "truncated" for n in rs.notes) or not rs.runs  # the held-back line is said
    elif fmt == "csv" and complete > 1:
        assert rs.runs["r"].points == 2 * (complete - 1)


# --- every renderer: analyses holding what no log should -----------------------------------------
# Run names as load() makes them: any text, but never a lone surrogate (those are escaped there).
_names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30).filter(lambda s: s.strip()) | st.sampled_from(
    ["<b>x</b>", "a|b", "`c`", "\x1b[31m", "x\\xff", "../..", "名前"]
)
_values = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e308, -1e308, 5e-324, -0.0, 2.0**63])
_hparam = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | _values | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=8,
)


@settings(max_examples=40, **SETTINGS)
@given(
    runs=st.dictionaries(_names, st.lists(_values, min_size=1, max_size=40), min_size=1, max_size=3),
    steps=st.sampled_from(["linear", "huge", "negative", "repeat"]),
    epochs=st.sampled_from(["none", "huge", "nan", "linear"]),
    hparams=st.dictionaries(st.text(max_size=8), _hparam, max_size=4),
    errors=st.lists(st.tuples(_names, st.text(max_size=40)), max_size=3),
    notes=st.lists(st.tuples(_names, st.sampled_from(["damaged", "truncated", "link"]), st.text(max_size=40)), max_size=3),
    html=st.booleans(),
)
def test_every_renderer_draws_what_no_log_should_hold(runs, steps, epochs, hparams, errors, notes, html):
    rows = []
    infos = {}
    for name, vals in runs.items():
        n = len(vals)
        step = {"linear": range(n), "huge": [2**62 - n + i for i in range(n)], "negative": [-(2**62) + i for i in range(n)], "repeat": [0] * n}[steps]
        ep = {"none": [None] * n, "huge": [2.0**63 + i * 1e6 for i in range(n)], "nan": [math.nan] * n, "linear": [i / 3 for i in range(n)]}[epochs]
        for metric, scale in (("train_loss", 1.0), ("val_loss", 1.1), ("lr", 1e-3)):
            for s, e, v in zip(step, ep, vals):
                rows.append({"run": name, "source": "csv", "tag": metric, "metric": metric, "step": s, "epoch": e, "wall_time": None, "value": v * scale if math.isfinite(v) else v})
        infos[name] = RunInfo(run=name, source="csv", path="/x/" + name, hparams=dict(hparams), metrics=["lr", "train_loss", "val_loss"], points=3 * n, warnings=["w\x00\udcff"])
    df = pl.DataFrame(rows, schema=SCALARS_SCHEMA, strict=False)
    rs = RunSet("/logs", df, infos, [ReadError(p, e) for p, e in errors], [FileNote(p, k, d) for p, k, d in notes])
    a = lrreport.analyze(rs)
    extra = Finding("divergence", "error", next(iter(runs)), "train_loss", "m\udcff", "a", start_step=2**62, end_step=-(2**62), evidence={"x": math.inf, "y": 10**400, "z": [1, {"k": math.nan}]}, best_epoch=2.0**70)
    a = Analysis(rs, a.findings + [extra], sweeps=a.sweeps, lr_finds=a.lr_finds, lr_changes=a.lr_changes)
    renders(a, html=html)
    doc = json.loads(to_json(a))
    assert doc["summary"]["files"]["unreadable"] == len({p for p, _ in errors})


def test_values_helpers_never_raise():
    from lrreport.ingest.numbers import json_int, to_step, to_value

    for x in [None, True, 0, -1, 2**62, 2**62 + 1, 2**63, -(2**63), 10**400, 1e19, math.nan, math.inf, "1e400", "x", " 3 ", "9" * 5000, np.int64(5), np.float32(1e38), [1], b"1"]:
        to_step(x)
        to_value(x)
    assert to_step(2**62) == 2**62 and to_step(2**62 + 1) is None and to_step(math.nan) is None and to_step("3.9") == 3
    assert to_value(10**400) == math.inf and math.isnan(to_value("nan")) and to_value("x") is None
    assert json_int("1" * 5000) == math.inf and json_int("-12") == -12
