"""The report in a real browser: headless Chromium opens the report of every fixture (hedge.toml with its saving),
the derisk transition, a what-if and frontier page, and the stress report and margin-mode comparison of
stress-desk.toml, from a file, offline.

A page fails on any console error or warning (a script error, plotly's warning about figure data, a request the
page's Content-Security-Policy refused), on any request beyond the file itself (data: and blob: URLs are built in
memory), and on any chart that drew nothing (each chart's SVG must hold a trace with a visible bar, line or
heatmap image). A screenshot of each page is saved in ``$ALLOCATOR_REPORT_ARTIFACTS`` (default: a pytest temporary
folder), with ``report-desk.png`` and ``report-stress.png``, the tops of the desk's report and of its stress
report, as in docs/img/ (``CROPS``).

One browser session serves every page, and every page is written to the same file in turn: Chromium then keeps
plotly.js compiled between pages (the cartesian bundle: about 1 s a page reopened, 1.6-2.1 s cold, docs/report.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_browser import Browser, ensure_chromium
from report_cases import CASES, items

from allocator.report import MAX_BYTES, to_html
from allocator.report.charts import chart_div

#: The tops of pages kept as docs/img/ screenshots: (file, height in pixels).
CROPS = {"desk.toml": ("report-desk.png", 1900), "stress-desk-stress": ("report-stress.png", 1160)}


@pytest.fixture(scope="module")
def browser() -> Browser:
    pytest.importorskip("selenium", reason="selenium is in the test extra: pip install -e '.[test]'")
    reason = ensure_chromium()
    if reason is not None:
        pytest.skip(reason)
    session = Browser()
    yield session
    session.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report") / "report.html"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("ALLOCATOR_REPORT_ARTIFACTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("report-screenshots")


@pytest.mark.parametrize("case", CASES)
def test_report_renders_in_chromium(case: str, browser: Browser, page: Path, artifacts: Path):
    html = to_html(*items(case))
    assert len(html.encode("utf-8")) < MAX_BYTES
    page.write_text(html, encoding="utf-8")
    seen = browser.open(page)
    browser.screenshot(artifacts / f"{case}.png")
    if case in CROPS:
        browser.screenshot(artifacts / CROPS[case][0], height=CROPS[case][1])
    assert seen.console == []
    assert seen.requests == []
    assert seen.charts["expected"] > 0
    assert seen.charts["found"] == seen.charts["expected"]
    assert seen.charts["empty"] == []


def test_the_checks_catch_a_broken_page(browser: Browser, page: Path):
    """The same checks on a page with a chart of no data, a script error and an image from the network."""
    import plotly.graph_objects as go

    html = to_html(*items("swap.toml"))
    broken = (chart_div(go.Figure(), "chart-empty", 300) + '<script>console.error("boom")</script>'
              '<img src="https://example.com/logo.png">')
    page.write_text(html.replace("</main>", broken + "</main>"), encoding="utf-8")
    seen = browser.open(page)
    assert seen.charts["empty"] == ["chart-empty"]
    assert any("boom" in entry["message"] for entry in seen.console)
    assert any("Content Security Policy" in entry["message"] for entry in seen.console)
    assert seen.requests == ["https://example.com/logo.png"]
