#!/usr/bin/env python
"""Screenshots of the sample report for the README: the first screen, a run in trouble,
the StepLR demo's LR-change story, and the sweep. Rendered from ``sample_logs/`` and
taken in headless Chromium, then reduced to a small palette.

    python scripts/make_screenshots.py               # writes docs/report-*.png
    python scripts/make_screenshots.py --dark        # the dark scheme instead

Needs Debian's chromium (``/usr/bin/chromium``, or $LRREPORT_CHROMIUM) and the playwright
Python package; never runs ``playwright install``. Every request is blocked: the report
is offline by design.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHROMIUM = os.environ.get("LRREPORT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
#: The run shown as "a run in trouble": the first of these the sample logs have.
TROUBLED = ("overfitting", "warmup-needed", "lr-too-high")
DEMO = "healthy-demo"


def shrink(path: Path, colors: int = 96) -> None:
    """A palette PNG: a screenshot of a report has few colours, and the README loads fast."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", type=Path, default=REPO / "sample_logs")
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    ap.add_argument("--dark", action="store_true")
    args = ap.parse_args()

    import lrreport
    from playwright.sync_api import sync_playwright

    # Loaded by a path relative to the repository, as the README's command does: the report
    # shows its logdir, and a screenshot should not show this machine's folders.
    os.chdir(REPO)
    logs = args.logs.resolve()
    analysis = lrreport.analyze(lrreport.load(logs.relative_to(REPO) if logs.is_relative_to(REPO) else logs, progress=False))
    troubled = next((r for r in TROUBLED if r in analysis.runs), analysis.triage_order()[0])
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        lrreport.Report(analysis, title="lrreport: sample_logs").save(report)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 820}, color_scheme="dark" if args.dark else "light")
            page.route("**/*", lambda r: r.continue_() if r.request.url == report.as_uri() else r.abort())
            page.goto(report.as_uri(), wait_until="load")
            # The sticky smoothing bar would sit over the sections shot below (CSSOM: the CSP allows it).
            page.evaluate("document.querySelector('.toolbar').style.position = 'static'")
            shots = []

            def shoot(name: str, selector: str | None, hover: str | None = None) -> None:
                if selector:
                    el = page.locator(selector).first
                    el.scroll_into_view_if_needed()
                    page.wait_for_timeout(400)  # the chart comes up as it scrolls into view
                    if hover:
                        box = page.locator(hover).first.bounding_box()
                        page.mouse.move(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.5)
                    el.screenshot(path=str(args.out / name))
                else:
                    page.screenshot(path=str(args.out / name))
                shrink(args.out / name)
                shots.append(args.out / name)

            shoot("report-top.png", None)
            run = f'article[data-run="{troubled}"]'
            shoot("report-run.png", f"{run} details.run-body", hover=f"{run} .chart[data-chart=main] .u-over")
            shoot("report-lr-story.png", f'article[data-run="{DEMO}"] details.run-body', hover=f'article[data-run="{DEMO}"] .chart[data-chart=main] .u-over')
            shoot("report-sweep.png", "#sweep-0")
            browser.close()
    for s in shots:
        print(f"{s.relative_to(REPO) if s.is_relative_to(REPO) else s}: {s.stat().st_size / 1e3:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
