"""The report in a real headless browser: opened from disk with every request blocked
and counted (zero expected), no console errors, light and dark; a chart hovered, zoomed,
reset, smoothed and put on a log axis; the notebook rendering's contents links followed.

Needs Debian's ``/usr/bin/chromium`` and the playwright Python package (never
``playwright install``); skipped without them. Screenshots go to ``test-artifacts/``
under the repository root (git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import lrreport
from lrreport.report.html import Report
from test_report_html import build_logdir

CHROMIUM = Path(os.environ.get("LRREPORT_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
RUN = "tb/step_decay"  # 3000 steps, two LR cuts, per-group LRs: every chart feature
CHART = f'article[data-run="{RUN}"] .chart[data-chart="main"]'

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        except Exception as exc:  # a chromium that cannot start here is a skip, not a failure
            pytest.skip(f"chromium did not start: {exc}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    return lrreport.analyze(lrreport.load(build_logdir(tmp_path_factory.mktemp("logs"))))


@pytest.fixture(scope="module")
def report_file(analysis, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    Report(analysis).save(out)
    return out


def open_page(browser, path: Path, scheme: str = "light", **kw):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme, **kw)
    requests: list[str] = []
    errors: list[str] = []
    me = path.as_uri()

    def route(r):
        url = r.request.url
        if url == me or url.startswith("about:"):
            r.continue_()
        else:
            requests.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(me, wait_until="load")
    return page, requests, errors


def wait_until(page, expr: str, timeout: float = 5.0) -> None:
    """Poll ``expr`` (page.wait_for_function would need 'unsafe-eval', which the CSP forbids)."""
    import time

    end = time.monotonic() + timeout
    while not page.evaluate(expr):
        assert time.monotonic() < end, f"timed out waiting for {expr}"
        page.wait_for_timeout(50)


def chart(page, expr: str):
    """Evaluate ``expr`` on the run's live uPlot instance ``u``."""
    return page.evaluate(f"(() => {{ const u = document.querySelector({CHART!r})._lr.u; return {expr}; }})()")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_report_offline_and_interactive_in_chromium(browser, report_file, scheme):
    page, requests, errors = open_page(browser, report_file, scheme)
    try:
        # the hostile run name is text, not markup: no alert fired, no injected element
        assert page.query_selector("img[src=x]") is None
        assert page.evaluate("document.querySelectorAll('script:not([type])').length") == 1
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (bg == "rgb(255, 255, 255)") == (scheme == "light")

        # Charts appear as they scroll into view, in place of their static pictures.
        page.locator(CHART).scroll_into_view_if_needed()
        wait_until(page, f"document.querySelector({CHART!r})._lr !== undefined")
        over = page.locator(f"{CHART} .u-over")
        box = over.bounding_box()
        assert box["width"] > 500 and box["height"] > 150

        # Hover: the legend reads the values under the cursor.
        legend = page.locator(f"{CHART} .u-legend .u-series:nth-child(3) .u-value")  # train_loss, smoothed
        assert legend.inner_text() == "—"
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
        value = legend.inner_text()
        assert value != "—" and 0.1 < float(value) < 3.0, value

        # Drag to zoom, double-click to reset.
        x0, x1 = chart(page, "[u.scales.x.min, u.scales.x.max]")
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 40)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 40, steps=5)
        page.mouse.up()
        z0, z1 = chart(page, "[u.scales.x.min, u.scales.x.max]")
        assert x0 < z0 < z1 < x1 and (z1 - z0) < 0.5 * (x1 - x0)
        page.mouse.dblclick(box["x"] + box["width"] * 0.4, box["y"] + 40)
        assert chart(page, "[u.scales.x.min, u.scales.x.max]") == [x0, x1]

        # The smoothing slider changes the smoothed line (TensorBoard's EMA), not the raw one.
        smooth_col = chart(page, "u._lr.smooth[0].col")
        before = chart(page, f"u.data[{smooth_col}].slice(100, 110)")
        raw_before = chart(page, f"u.data[{smooth_col} - 1].slice(100, 110)")
        page.evaluate("(() => { const s = document.getElementById('smoothing'); s.value = '0.95'; s.dispatchEvent(new Event('input')); })()")
        assert page.inner_text("#smoothing-value") == "0.95"
        after = chart(page, f"u.data[{smooth_col}].slice(100, 110)")
        assert after != before and chart(page, f"u.data[{smooth_col} - 1].slice(100, 110)") == raw_before
        page.evaluate("(() => { const s = document.getElementById('smoothing'); s.value = '0'; s.dispatchEvent(new Event('input')); })()")
        assert chart(page, f"u.data[{smooth_col}].slice(100, 110)") == raw_before  # weight 0: the raw curve

        # Log scale toggles the loss axis.
        linear = chart(page, "u.scales.y.distr")
        page.locator(f"{CHART} .chart-tools button", has_text="log scale").click()
        assert chart(page, "u.scales.y.distr") != linear and {linear, chart(page, "u.scales.y.distr")} == {1, 3}

        # Every chart comes up as it scrolls into view (those in closed sections when opened).
        closed = page.evaluate("[...document.querySelectorAll('.chart[data-chart]')].filter(e => e.closest('details:not([open])')).length")
        assert closed > 0  # the "more metrics" charts wait until their section is opened
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        for el in page.query_selector_all(".chart[data-chart]"):
            el.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        n = page.evaluate("document.querySelectorAll('.chart[data-chart]').length")
        assert page.evaluate("[...document.querySelectorAll('.chart[data-chart]')].filter(e => e._lr).length") == n
        assert page.evaluate("document.querySelectorAll('.uplot').length") == n

        # The triage table filters and sorts.
        page.fill("#run-filter", "step_decay")
        visible = page.evaluate("[...document.querySelectorAll('#run-table tbody tr')].filter(r => !r.hidden).length")
        assert visible == 1
        page.fill("#run-filter", "")
        page.click("#run-table th:nth-child(7)")  # points, descending
        points = page.evaluate("[...document.querySelectorAll('#run-table tbody tr')].map(r => +r.cells[6].dataset.v)")
        assert points == sorted(points, reverse=True)

        assert requests == [], f"network requests: {requests}"
        assert errors == [], f"console errors: {errors}"
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"report-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()


def test_report_readable_without_javascript(browser, report_file):
    page, requests, errors = open_page(browser, report_file, java_script_enabled=False)
    try:
        assert page.is_hidden(".filter") and page.is_hidden(".toolbar")  # controls only when they can work
        assert page.is_visible("#summary") and page.is_visible("#run-table")
        assert len(page.query_selector_all("article.run")) >= 5
        # Every chart's static picture is there and drawn.
        figures = page.query_selector_all(".chart[data-chart] svg.lrfig")
        assert len(figures) == len(page.query_selector_all(".chart[data-chart]"))
        for fig in page.query_selector_all("article.run .chart[data-chart=main] svg, article.sweep svg"):
            box = fig.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100, fig.get_attribute("aria-label")
        assert requests == []
    finally:
        page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_notebook_rendering_sizes_itself_and_its_links_work(browser, analysis, tmp_path, scheme):
    """``Report._repr_html_`` as a notebook shows it: the frame takes its content's height and
    a contents link inside it scrolls the notebook to the run."""
    host = tmp_path / "notebook.html"
    filler = "<p>" + "A notebook cell. " * 40 + "</p>"
    host.write_text(f"<!DOCTYPE html><html><body>{filler * 8}<div class='output'>{Report(analysis)._repr_html_()}</div>{filler * 8}</body></html>", encoding="utf-8")
    page, requests, errors = open_page(browser, host, scheme)
    try:
        wait_until(page, "document.querySelector('iframe').getBoundingClientRect().height > 1200")
        frame = page.frames[1]
        inner = frame.evaluate("document.documentElement.scrollHeight")
        height = page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
        assert abs(height - inner) < 8  # no fixed 720 px frame, no scrollbar inside it
        page.locator("iframe").scroll_into_view_if_needed()
        link = frame.locator("nav#toc .toc-runs a").last  # the run furthest down
        target = "#" + link.get_attribute("href")[1:]
        assert frame.eval_on_selector(target, "e => e.getBoundingClientRect().top") > 2000
        link.click()
        page.wait_for_timeout(300)
        top = page.evaluate("document.querySelector('iframe').getBoundingClientRect().top") + frame.eval_on_selector(
            target, "e => e.getBoundingClientRect().top"
        )
        assert -5 < top < 120, top  # the run is at the top of the notebook's view
        assert page.evaluate("window.scrollY") > 500
        assert requests == [] and errors == [], (requests, errors)
    finally:
        page.close()
