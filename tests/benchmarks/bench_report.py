"""HTML report figures (docs/performance.md, report): the largest fixture's report, the derisk transition (199
steps, the largest page of the fixtures), written in Python and rendered by headless Chromium."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _cases import Figures, case, console

ROOT = Path(__file__).resolve().parents[2]
DERISK = ROOT / "fixtures" / "problems" / "derisk.toml"


@case()
def largest_fixture() -> Figures:
    """derisk.toml transition report: to_html s (first call incl. importing the report and plotly, then median of 5),
    page MB; Chromium from navigation start: first text painted, first screen's charts drawn, last chart drawn (s),
    the page opened cold in a fresh browser, then median of 3 reopenings"""
    import allocator
    from allocator.transition import plan_transition

    result = plan_transition(allocator.load_problem(DERISK))  # solving is not timed
    start = time.perf_counter()
    html = result.to_html()
    first = time.perf_counter() - start
    again = []
    for _ in range(5):
        start = time.perf_counter()
        result.to_html()
        again.append(time.perf_counter() - start)
    figures: Figures = {"first_s": round(first, 3), "median_s": round(statistics.median(again), 3),
                        "mb": round(len(html.encode("utf-8")) / 1e6, 3), "steps": len(result.steps)}
    figures.update(_browser(html))
    return figures


@case(params={"1000x60": (1000, 60)})
def cli_generated(assets: int, accounts: int) -> Figures:
    """allocator report on the result of a generated hub-and-spoke book (``generate_problem(n, 2, k, seed=1,
    topology="hub")``, solved in this process, its JSON written to a temporary folder): wall s of the command in a
    fresh process (reading the result, importing the report, the page), best of 3, and the page's MB"""
    import subprocess

    import allocator
    from allocator.io.generate import generate_problem

    text = allocator.optimize(generate_problem(assets, 2, accounts, seed=1, topology="hub")).to_json()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.result.json"
        path.write_text(text)
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(console("report", str(path), "-o", str(Path(folder) / "book.html")), check=True,
                           capture_output=True)
            seconds.append(time.perf_counter() - start)
        page = (Path(folder) / "book.html").stat().st_size / 2**20
    return {"best_s": round(min(seconds), 3), "median_s": round(statistics.median(seconds), 3),
            "result_mb": round(len(text) / 2**20, 1), "page_mb": round(page, 2)}


def _browser(html: str) -> Figures:
    """Headless Chromium, from navigation start: the first text painted (first-contentful-paint), the charts of
    the first screen drawn, and the last chart drawn (the page's ``data-first-screen-ms`` and ``data-drawn-ms``,
    page.LOADER); the page opened cold in a fresh browser, then the median of 3 reopenings."""
    sys.path.insert(0, str(ROOT / "tests"))
    from report_browser import Browser, ensure_chromium

    reason = ensure_chromium()
    if reason is not None:
        return {"browser": f"not measured: {reason}"}
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(html, encoding="utf-8")
        browser = Browser()
        try:
            cold = browser.open(page)
            warm = [browser.open(page).charts for _ in range(3)]
        finally:
            browser.close()
    figures: Figures = {}
    for key, name in (("first_paint_ms", "paint"), ("first_screen_ms", "first_screen"), ("drawn_ms", "drawn")):
        figures[f"browser_cold_{name}_s"] = round((cold.charts[key] or 0) / 1000, 3)
        figures[f"browser_warm_{name}_s"] = round(statistics.median((c[key] or 0) / 1000 for c in warm), 3)
    return {**figures, "charts": cold.charts["found"], "empty_charts": len(cold.charts["empty"]),
            "console_errors": len(cold.console)}
