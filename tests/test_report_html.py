"""The HTML report: structure, self-containment, escaping, determinism, plots.

Logs are written by the real writers (Keras-style CSV through ``csv.writer``,
TensorBoard through ``torch.utils.tensorboard.SummaryWriter``), loaded with
``lrreport.load`` and analysed with ``lrreport.analyze``; where a feature needs
a finding the analyzer may not produce, the Analysis is built directly around
the real RunSet (a unit test of the renderer).
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import lrreport
from lrreport.analyze.analysis import Analysis, Finding, LRChange, LRFindResult, Sweep, SweepRun
from lrreport.report import charts, svg
from lrreport.report.html import Report
from lrreport.report.markdown import to_markdown
from lrreport.runs import SCALARS_SCHEMA, RunInfo, RunSet

REPO = Path(__file__).resolve().parent.parent
REALWORLD = REPO.parent / "shared" / "realworld"

HOSTILE_RUN = "<script>alert(1)</script> \"q\" ' onerror=\"x"
HOSTILE_TAG = "</textarea><img src=x onerror=alert(2)>"
HOSTILE_HPARAM = '" onerror="x</textarea>'
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "</textarea>", '" onerror="x']


# --- writing logs the way the frameworks do -------------------------------------------------
def write_keras_csv(path: Path, columns: dict[str, list]) -> Path:
    """keras.callbacks.CSVLogger: csv.writer (CRLF), 'epoch' first, then the sorted keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(columns)
    n = len(columns[keys[0]])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", *keys])
        for e in range(n):
            w.writerow([e, *[columns[k][e] for k in keys]])
    return path


def sweep_curves(lr: float, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=float)
    if lr >= 1.0:  # blows up, then NaN
        loss = 2.3 * np.exp(t / 3.0)
        loss[8:] = np.nan
        return loss, loss * 1.1
    speed = min(lr * 30, 3.0)
    loss = 0.3 + 2.0 * np.exp(-speed * t / 4)
    val = loss + 0.05 + (0.02 * np.maximum(0, t - 12) if lr >= 0.1 else 0)
    return loss, val


class _TensorBoardWriter:
    """tensorboard's own EventFileWriter (the one torch's SummaryWriter wraps), for machines without torch."""

    def __init__(self, logdir: str):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._w = EventFileWriter(logdir)

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2

        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        self._w.add_event(event_pb2.Event(summary=summary, step=step, wall_time=1.7e9 + step))

    def close(self) -> None:
        self._w.close()


def summary_writer(logdir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch is only in the harness extra
        return _TensorBoardWriter(str(logdir))
    return SummaryWriter(str(logdir))


def write_tb_run(run_dir: Path, steps: int = 3000) -> None:
    w = summary_writer(run_dir)
    rng = np.random.default_rng(0)
    for s in range(steps):
        lr = 0.1 * (0.1 ** (s // 1000))
        w.add_scalar("train/loss", 0.2 + 2.0 * math.exp(-s / 400) + 0.05 * rng.standard_normal() ** 2, s)
        w.add_scalar("lr", lr, s)
        if s % 10 == 0:
            w.add_scalar("lr/backbone", lr / 10, s)
            w.add_scalar("lr/head", lr, s)
            w.add_scalar("update_ratio/backbone", 1e-4 * (1 + rng.random()), s)
            w.add_scalar("update_ratio/head", 1e-2 * (1 + rng.random()), s)
            w.add_scalar(HOSTILE_TAG, float(s), s)
        if s % 300 == 299:
            w.add_scalar("val/loss", 0.3 + 2.0 * math.exp(-s / 500), s)
    w.close()


def build_logdir(root: Path, tb: bool = True) -> Path:
    """A sweep of four Keras CSV runs (one diverges), a TensorBoard run with two parameter
    groups, a run whose folder, tag and hparam names are hostile, and one broken file."""
    for lr in (0.001, 0.01, 0.1, 1.0):
        loss, val = sweep_curves(lr)
        d = root / "sweep" / f"lr_{lr:g}"
        write_keras_csv(d / "training.log", {"loss": [f"{v:.6f}" for v in loss], "val_loss": [f"{v:.6f}" for v in val], "lr": [lr] * len(loss)})
        (d / "hparams.json").write_text(json.dumps({"lr": lr, "optimizer": "SGD"}))
    if tb:
        write_tb_run(root / "tb" / "step_decay")
    d = root / HOSTILE_RUN
    write_keras_csv(d / "training.log", {"loss": [2.0, 1.5, 1.2, 1.1, 1.05], "val_loss": [2.1, 1.6, 1.3, 1.2, 1.1], HOSTILE_TAG: [1, 2, 3, 4, 5]})
    (d / "hparams.json").write_text(json.dumps({HOSTILE_HPARAM: HOSTILE_RUN, "lr": 0.01}))
    bad = root / "broken"
    bad.mkdir(parents=True, exist_ok=True)
    (bad / "trainer_state.json").write_text('{"log_history": [ {"loss": 1.0, "step"')
    return root


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    return build_logdir(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="module")
def analysis(logdir) -> Analysis:
    return lrreport.analyze(lrreport.load(logdir))


@pytest.fixture(scope="module")
def rich_analysis(analysis) -> Analysis:
    """Every feature the report draws, on the real RunSet: findings of each kind, a sweep, an LR range test, LR changes."""
    rs = analysis.runset
    tb = "tb/step_decay"
    findings = [
        Finding("divergence", "error", "sweep/lr_1", "train_loss", "train_loss became NaN at step 8.", "Use an LR of 0.1 (a tenth), warmup and clipping.", 8, 19, {"lr_at_blowup": 1.0, "first_nonfinite_step": 8}, 0.95, suggested_lr=0.1),
        Finding("lr_too_high", "warning", tb, "train_loss", "Noisy from step 100 to 900.", "Lower the LR to 0.03.", 100, 900, {"noise_over_trend": 3.2}, 0.6, suggested_lr=0.03),
        Finding("warmup_needed", "warning", tb, "train_loss", "Spikes in the first 5%.", "Warm up for 150 steps.", 0, 150, {"spikes": 4}, 0.5, warmup_steps=150),
        Finding("overfitting", "warning", "sweep/lr_0.1", "val_loss", "val_loss rises from epoch 12.", "Stop at epoch 12.", 12, 19, {"val_min": 0.35}, 0.8, best_step=12, best_epoch=12),
        Finding("plateau", "info", tb, "train_loss", "Flat from 2000.", "Decay the LR.", 2000, 2999, {}, 0.5),
        Finding("no_lr_logged", "info", HOSTILE_RUN, None, f"No LR in {HOSTILE_RUN}.", f"Log it ({HOSTILE_TAG}).", None, None, {HOSTILE_HPARAM: HOSTILE_RUN}, 1.0),
    ]
    sweep = Sweep(
        "LR sweep in sweep/",
        "val_loss",
        [SweepRun(f"sweep/lr_{lr:g}", lr, v, p) for lr, v, p in ((0.001, 2.09, "too_low"), (0.01, 0.85, "good"), (0.1, 0.35, "best"), (1.0, float("nan"), "failed"))],
        0.1,
        (0.01, 0.1),
        0.7,
    )
    lf = {tb: LRFindResult(tb, 0.01, "valley", 0.6, {"steepest": 0.005, "minimum/10": 0.02}, 1e-4, 0.1)}
    changes = {tb: [LRChange(1000, 0.1, 0.01), LRChange(2000, 0.01, 0.001)]}
    return Analysis(rs, findings, sweeps=[sweep], lr_finds=lf, lr_changes=changes)


# --- parsing ------------------------------------------------------------------------------
class Page(HTMLParser):
    """Everything the structure tests look at, gathered in one pass."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self.svgs: list[dict] = []
        self.imgs: list[dict] = []
        self.runs: list[str] = []
        self.svg_titles = 0
        self._stack: list[str] = []
        self._in_svg_depth = 0
        self.stack_errors = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a and not self._in_svg_depth:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "xlink:href" in a:
            self.hrefs.append(a["xlink:href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "script":
            self.scripts.append(a)
        if tag == "link":
            self.links.append(a)
        if tag == "img":
            self.imgs.append(a)
        if tag == "svg":
            self.svgs.append(a)
            self._in_svg_depth += 1
        elif self._in_svg_depth:
            self._in_svg_depth += 1
            if tag == "title" and self._in_svg_depth == 2:
                self.svg_titles += 1
        if tag == "article" and "run" in (a.get("class") or "").split():
            self.runs.append(a.get("data-run"))

    def handle_endtag(self, tag):
        if self._in_svg_depth:
            self._in_svg_depth -= 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._in_svg_depth and tag != "svg":
            self._in_svg_depth -= 1


def check_structure(text: str, analysis: Analysis) -> Page:
    page = Page(text)
    # one section per run, in trouble first (verdict severity, then confidence)
    assert page.runs == analysis.triage_order()
    assert sorted(page.runs) == sorted(analysis.runs)
    # every in-page link resolves, ids are unique
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids or href[1:] in re.findall(r'\sid="([^"]+)"', text), f"dangling anchor {href}"
    # self-contained: no resource URL, no external script or stylesheet
    for url in page.srcs + page.hrefs:
        assert not re.match(r"^\s*(https?:)?//", url, re.I), url
    assert not [s for s in page.scripts if "src" in s]
    assert not [link for link in page.links if "stylesheet" in (link.get("rel") or "")]
    assert "@import" not in text and "url(http" not in text
    check_scripts(text)
    # every figure has alt text
    for svg_el in page.svgs:
        assert svg_el.get("role") == "img" and svg_el.get("aria-label"), svg_el
    assert page.svg_titles == len(page.svgs)
    for img in page.imgs:
        assert img.get("alt")
    return page


def check_scripts(text: str) -> None:
    """One executable script, the report's own, allowed by its hash (as is the one style);
    the rest are JSON data blocks in which no '<' can end the element early."""
    import base64
    import hashlib

    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    executable = re.findall(r"<script>(.*?)</script>", text, re.S)
    assert len(executable) == 1
    for body, kind in ((executable[0], "script-src"), (re.search(r"<style>(.*?)</style>", text, re.S).group(1), "style-src")):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        assert f"{kind} 'sha256-{digest}'" in csp, kind
    blocks = re.findall(r'<script type="application/json" class="lr-data">(.*?)</script>', text, re.S)
    assert len(re.findall(r"<script", text)) == 1 + len(blocks)
    for block in blocks:
        assert "<" not in block and ">" not in block
        json.loads(block)


# --- tests ---------------------------------------------------------------------------------
def test_report_structure(analysis):
    text = Report(analysis).to_html()
    page = check_structure(text, analysis)
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="toc"' in text and 'href="#summary"' in text
    assert len(page.svgs) >= len(analysis.runs)  # every run with metrics has its figure
    assert "Content-Security-Policy" in text
    assert "prefers-color-scheme: dark" in text
    # unreadable file listed, with its reason
    assert "broken/trainer_state.json" in text and "Files that could not be read" in text
    # the sweep the analyzer found is in the summary
    for sw in analysis.sweeps:
        assert "Learning-rate sweeps" in text


def test_report_rich_features(rich_analysis):
    text = Report(rich_analysis).to_html()
    page = check_structure(text, rich_analysis)
    labels = " ".join(s["aria-label"] for s in page.svgs)
    assert "LR range test of tb/step_decay" in labels and "suggested LR 0.01" in labels
    assert "Sweep LR sweep in sweep/" in labels and "log scale" in labels
    assert "lr/backbone" in labels and "update_ratio/head" in labels  # per-group LR and update ratios drawn
    assert "2 LR change(s)" in labels
    assert "lr_too_high (warning" in labels and "warmup_needed" in labels
    assert "NaN/Inf" in labels  # the diverged run's NaN marked
    for f in rich_analysis.findings:
        assert f.code in text
    assert "warmup steps" in text and "150" in text  # suggested values shown
    assert "Epoch trace" in text
    assert text.count('class="finding ') == len(rich_analysis.findings)


def test_hostile_names_are_escaped(logdir, rich_analysis):
    runset = rich_analysis.runset
    assert HOSTILE_RUN in runset.runs  # the folder name really is hostile
    assert HOSTILE_TAG in runset.scalars["tag"].to_list()
    for a in (lrreport.analyze(runset), rich_analysis):
        text = Report(a, title=HOSTILE_RUN).to_html()
        for payload in PAYLOADS:
            assert payload not in text, payload
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;/textarea&gt;" in text
        # the only executable script is the report's own, allowed by its hash
        check_scripts(text)
        md = to_markdown(a)
        assert "<script>" not in md and "</textarea>" not in md


def test_deterministic_across_loads(logdir):
    first = Report(lrreport.analyze(lrreport.load(logdir))).to_html()
    second = Report(lrreport.analyze(lrreport.load(logdir))).to_html()
    assert first == second


def test_svg_ids_do_not_clash(rich_analysis):
    text = Report(rich_analysis).to_html()
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    assert 'id="figure_1"' not in text  # matplotlib's per-figure ids are dropped
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text


def test_rendering_needs_no_matplotlib():
    """The report draws its own SVG: matplotlib is not a dependency, and rendering a
    report never imports it (nor touches a notebook's plotting state)."""
    code = (
        "import sys, lrreport\n"
        "a = lrreport.analyze(lrreport.load(sys.argv[1]))\n"
        "lrreport.Report(a, workers=1).to_html()\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(REPO / "sample_logs")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_repr_html_is_a_self_sizing_iframe(rich_analysis):
    r = Report(rich_analysis)
    out = r._repr_html_()
    assert out.startswith("<iframe id=") and 'sandbox="allow-scripts"' in out
    frame, listener = out.split("</iframe>")
    assert "<script" not in frame and "<style" not in frame  # all inside the escaped srcdoc
    # Outside the frame: one small script that sizes it and scrolls to a link's target.
    assert listener.startswith("<script>") and "postMessage" not in listener
    assert "'height'" in listener and "'scroll'" in listener and "e.source!==f.contentWindow" in listener
    assert r._repr_html_() == out  # the frame id comes from the content: same report, same output


def test_analysis_and_runset_keep_their_rich_reprs(rich_analysis):
    a = rich_analysis
    html = a._repr_html_()
    assert html.startswith("<p><b>Analysis(") and html.count("<tr>") == len(a.findings) + 1  # and the header
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    rs_html = a.runset._repr_html_()
    assert rs_html.startswith("<p><b>RunSet</b>") and rs_html.count("<tr>") == len(a.runs) + 1


def test_save_is_atomic_and_returns_path(rich_analysis, tmp_path):
    dest = tmp_path / "sub" / "r.html"
    assert Report(rich_analysis).save(dest) == str(dest)
    assert dest.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in dest.parent.iterdir()] == ["r.html"]


def test_run_without_metrics_says_so(tmp_path):
    scalars = pl.DataFrame(schema=SCALARS_SCHEMA)
    rs = RunSet(str(tmp_path), scalars, {"empty": RunInfo("empty", "tfevents", str(tmp_path))})
    text = Report(Analysis(rs, [])).to_html()
    assert "This run has no metrics" in text
    check_structure(text, Analysis(rs, []))


def runset_from_arrays(runs: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], logdir: str = "synthetic") -> RunSet:
    frames, infos = [], {}
    for run, metrics in runs.items():
        for metric, (step, value) in metrics.items():
            frames.append(
                pl.DataFrame(
                    {"run": run, "source": "tfevents", "tag": metric, "metric": metric, "step": step.astype(np.int64), "epoch": None, "wall_time": None, "value": value.astype(np.float64)},
                    schema=SCALARS_SCHEMA,
                )
            )
        infos[run] = RunInfo(run, "tfevents", f"/{run}", metrics=sorted(metrics), points=sum(len(s) for s, _ in metrics.values()))
    return RunSet(logdir, pl.concat(frames), infos)


def run_data(text: str, run: str) -> dict:
    """The JSON data block of one run's section."""
    article = re.search(r'<article class="run[^"]*" id="[^"]+" data-run="' + re.escape(run) + r'".*?</article>', text, re.S).group(0)
    return json.loads(re.search(r'<script type="application/json" class="lr-data">(.*?)</script>', article, re.S).group(1))


def test_long_series_downsampled_for_drawing_only():
    n = 200_000
    step = np.arange(n)
    loss = 1.0 + np.sin(step / 5000.0)
    loss[123_457] = 50.0  # one spike must survive
    rs = runset_from_arrays({"long": {"train_loss": (step, loss)}})
    a = Analysis(rs, [])
    text = Report(a).to_html()
    (line,) = run_data(text, "long")["main"]["s"]
    assert len(line["x"]) <= charts.MAX_POINTS + 4
    assert max(line["y"]) == 50.0 and 123_457 in line["x"] and min(line["y"]) == pytest.approx(loss.min(), abs=1e-4)
    figure = re.search(r'<svg class="lrfig".*?</svg>', text, re.S).group(0)
    assert len(figure) < 30_000
    assert len(rs.series("long", "train_loss")) == n  # the data itself is untouched
    # The static picture keeps each pixel column's extremes: the spike is its top.
    px = np.linspace(0, 300, n)
    idx = svg.minmax_columns(px, loss, 300)
    assert len(idx) <= 4 * 301 and loss[idx].max() == 50.0


def test_log_axes_nonfinite_and_clipped_marks():
    step = np.arange(500)
    loss = 10.0 * np.exp(-step / 50.0) + 1e-3  # spans 4 decades
    loss[400:410] = np.inf
    loss[450] = np.nan
    lr = np.where(step < 250, 1e-1, 1e-4)
    rs = runset_from_arrays({"r": {"train_loss": (step, loss), "lr": (step, lr)}})
    main, _ = charts.run_charts(Analysis(rs, []), "r", "k")
    assert main.ylog and main.y2log
    assert [x for x, _ in main.nonfinite] == [400, 409, 450]  # a run of Inf costs its two ends
    figure = svg.chart_svg(main)
    assert "Inf at step 400" in figure and "NaN at step 450" in figure and "10⁻" in figure


def test_a_spike_that_dwarfs_the_curve_is_clipped_and_marked():
    step = np.arange(300)
    loss = 0.5 + np.exp(-step / 60.0)
    loss[0] = 1e24  # a real log's first loss (lightning_csv/genrisk-gan-v0)
    rs = runset_from_arrays({"r": {"train_loss": (step, loss)}})
    main, _ = charts.run_charts(Analysis(rs, []), "r", "k")
    assert main.yrange is not None and main.yrange[1] < 2 and main.clipped == [(0.0, 1e24)]
    assert not main.ylog  # the rest spans 0.5..1.5: linear reads best
    text = Report(Analysis(rs, [])).to_html()
    assert "1 point above the axis, up to 1e24" in text
    data = run_data(text, "r")["main"]
    assert data["clip"] == [[0, 1e24]] and data["yr"][1] < 2
    # A constant LR is a note, not a panel.
    rs2 = runset_from_arrays({"c": {"train_loss": (step, np.r_[loss[1:], 0.5]), "lr": (step, np.full(300, 1e-3))}})
    main2, _ = charts.run_charts(Analysis(rs2, []), "c", "k")
    assert main2.note == "LR 0.001 throughout" and all(line.axis == "y" for line in main2.lines)


def test_template_override(rich_analysis, tmp_path, monkeypatch):
    (tmp_path / "_report.js").write_text("// custom script\n")
    monkeypatch.setenv("LRREPORT_TEMPLATES", str(tmp_path))
    text = Report(rich_analysis).to_html()
    assert "// custom script" in text
    check_scripts(text)  # the policy allows the overriding script, by its hash
    assert "Learning-rate sweeps" in text  # the other templates still come from the package


def test_200_run_sweep_stays_small():
    rng = np.random.default_rng(1)
    step = np.arange(10_000)
    runs = {}
    for i in range(200):
        lr = 10 ** (-5 + 5 * i / 199)
        loss = 0.2 + 2.0 * np.exp(-step / (500 + 20 * i)) + 0.05 * rng.random(len(step))
        runs[f"sweep/run_{i:03d}"] = {
            "train_loss": (step, loss),
            "val_loss": (step[::500], loss[::500] + 0.1),
            "lr": (step, np.full(len(step), lr) * np.where(step < 5000, 1.0, 0.1)),
        }
    rs = runset_from_arrays(runs)
    findings = [Finding("lr_too_high", "warning", f"sweep/run_{i:03d}", "train_loss", "noisy", "lower it", 100, 4000, {"x": 1.0}, 0.5) for i in range(150, 200)]
    sweep = Sweep("sweep", "val_loss", [SweepRun(f"sweep/run_{i:03d}", 10 ** (-5 + 5 * i / 199), 0.3 + abs(i - 100) / 100, "good") for i in range(200)], 1e-2, (1e-3, 1e-1))
    text = Report(Analysis(rs, findings, sweeps=[sweep], lr_changes={r: [LRChange(5000, 1.0, 0.1)] for r in runs})).to_html()
    size = len(text.encode("utf-8"))
    print(f"200 runs x 10k steps: {size / 1e6:.2f} MB")
    assert size < 15_000_000
    assert text.count('<article class="run ') == 200


# --- real logs ------------------------------------------------------------------------------
def _realworld_entries() -> list[Path]:
    if not REALWORLD.is_dir():
        return []
    out = []
    for fmt in sorted(p for p in REALWORLD.iterdir() if p.is_dir()):
        out += sorted(p for p in fmt.iterdir() if not p.name.startswith("."))
    return out


@pytest.mark.parametrize("path", _realworld_entries() or [None], ids=lambda p: p.name if p else "none")
def test_every_realworld_log_renders(path):
    if path is None:
        pytest.skip(f"{REALWORLD} not found")
    rs = lrreport.load(path)
    if not rs.runs:
        pytest.skip(f"{path.name}: nothing readable ({[e.error for e in rs.errors]})")
    a = lrreport.analyze(rs)
    text = Report(a).to_html()
    check_structure(text, a)


def test_whole_realworld_folder_renders():
    if not REALWORLD.is_dir():
        pytest.skip(f"{REALWORLD} not found")
    a = lrreport.analyze(lrreport.load(REALWORLD))
    text = Report(a).to_html()
    check_structure(text, a)
    assert text == Report(lrreport.analyze(lrreport.load(REALWORLD))).to_html()


def test_sample_logs_render():
    sample = REPO / "sample_logs"
    rs = lrreport.load(sample) if sample.is_dir() else None
    if rs is None or not rs.runs:
        pytest.skip("no sample_logs yet")
    a = lrreport.analyze(rs)
    text = Report(a).to_html()
    check_structure(text, a)
    # The demo's two StepLR drops, each with what it did to the losses, in numbers.
    demo = re.search(r'<article class="run[^"]*" id="[^"]+" data-run="healthy-demo".*?</article>', text, re.S).group(0)
    stories = re.findall(r"<li class=\"helped-[a-z]+\"><span class=\"n\" aria-hidden=\"true\">\d</span> <strong>(epoch \d+)</strong>: (.*?)</li>", demo)
    assert [w for w, _ in stories] == ["epoch 5", "epoch 10"]
    for (_, story), (before, after) in zip(stories, [("0.1", "0.05"), ("0.05", "0.025")]):
        assert story.startswith(f"LR {before} → {after}. train loss falling ")
        assert re.search(r"train loss falling [\d.e-]+/epoch before, [\d.e-]+/epoch after", story), story
        assert "val loss" in story and ("helped" in story or "No clear effect" in story)
    assert [c[:3] for c in run_data(text, "healthy-demo")["main"]["chg"]] == [[125, 0.1, 0.05], [250, 0.05, 0.025]]
