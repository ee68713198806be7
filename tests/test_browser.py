"""The report in a real headless browser: opened from disk with every request blocked
and counted (zero expected), no console errors, every figure drawn, light and dark.

Needs Debian's ``/usr/bin/chromium`` and the playwright Python package (never
``playwright install``); skipped without them. Screenshots go to
``test-artifacts/`` under the repository root (git-ignored).
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
def report_file(tmp_path_factory) -> Path:
    logdir = build_logdir(tmp_path_factory.mktemp("logs"))
    out = tmp_path_factory.mktemp("report") / "report.html"
    Report(lrreport.analyze(lrreport.load(logdir))).save(out)
    return out


def open_report(browser, path: Path, scheme: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    requests: list[str] = []
    errors: list[str] = []
    me = path.as_uri()

    def route(r):
        url = r.request.url
        if url == me:
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_report_offline_in_chromium(browser, report_file, scheme):
    page, requests, errors = open_report(browser, report_file, scheme)
    try:
        assert requests == [], f"network requests: {requests}"
        assert errors == [], f"console errors: {errors}"
        figures = page.query_selector_all("svg, img")
        assert figures, "no figures"
        for fig in figures:
            box = fig.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, fig.get_attribute("aria-label")
        # the hostile run name is text, not markup: no alert fired, no injected element
        assert page.query_selector("img[src=x]") is None
        assert page.evaluate("document.querySelectorAll('script').length") == 1
        # the filter works when JavaScript is on
        page.fill("#run-filter", "step_decay")
        visible = page.evaluate("[...document.querySelectorAll('#run-table tbody tr')].filter(r => !r.hidden).length")
        assert visible == 1
        page.fill("#run-filter", "")
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (bg == "rgb(255, 255, 255)") == (scheme == "light")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"report-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000
    finally:
        page.close()


def test_report_readable_without_javascript(browser, report_file):
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    try:
        page.goto(report_file.as_uri())
        assert page.is_hidden(".filter")  # the filter only appears when it can work
        assert page.is_visible("#summary") and page.is_visible("#run-table")
        assert len(page.query_selector_all("article.run")) >= 5
    finally:
        ctx.close()
