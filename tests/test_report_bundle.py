"""The plotly.js the report embeds: the cartesian partial bundle shipped with allocator, at the plotly package's
plotly.js version, once per page; no chart of any report case uses a trace type the bundle lacks; the full bundle
(with a note saying why) when the shipped one is missing or of another version; and the cost chart drawn with
floating bars (the bundle has no waterfall trace) stepping through the same figures.

What the bundle draws in a browser is tests/test_report_browser.py (every case, no console error, no empty chart).
"""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest
from plotly.offline import get_plotlyjs, get_plotlyjs_version
from report_cases import CASES, items

from allocator.report import to_html
from allocator.report.bundle import CARTESIAN_TRACES, VENDORED, choose, plotly_bundle, vendored_version
from allocator.report.charts import waterfall

SHIPPED = files("allocator.report").joinpath("vendor", VENDORED).read_text(encoding="utf-8")
NEW_PLOT = re.compile(r'Plotly\.newPlot\("[^"]+", ')


def traces(html: str) -> list[dict]:
    """The data of every ``Plotly.newPlot`` call on the page (the charts' JSON, before the embedded plotly.js)."""
    page = html[:html.index('<script type="text/javascript">')]
    decoder = json.JSONDecoder()
    return [trace for call in NEW_PLOT.finditer(page) for trace in decoder.raw_decode(page, call.end())[0]]


def test_the_shipped_bundle_is_the_plotly_packages_plotlyjs_version():
    """An upgrade of the plotly package (new figures for a new plotly.js) must come with the bundle of its version
    (allocator/report/vendor/README.md says how)."""
    assert vendored_version(SHIPPED) == get_plotlyjs_version()
    bundle = plotly_bundle()
    assert bundle.cartesian and bundle.version == get_plotlyjs_version() and bundle.script == SHIPPED
    assert files("allocator.report").joinpath("vendor", "LICENSE").read_text(encoding="utf-8").startswith(
        "MIT License")


def test_a_report_embeds_the_cartesian_bundle_once():
    html = to_html(*items("desk.toml"))
    assert html.count(SHIPPED) == 1
    assert html.count("plotly.js (cartesian - minified) v") == 1
    assert "* plotly.js v" not in html  # the full bundle's banner
    head = html[:html.index("</head>")]
    assert f"<!-- Charts drawn by plotly.js {get_plotlyjs_version()}, its cartesian partial bundle" in head
    assert len(html.encode("utf-8")) < 2_000_000  # the full bundle alone was 4.8 MB


@pytest.mark.parametrize("case", CASES)
def test_every_chart_uses_a_trace_type_of_the_bundle(case: str):
    found = traces(to_html(*items(case)))
    assert found, "the case draws no chart"
    kinds = {trace.get("type", "scatter") for trace in found}  # plotly.js's default type is scatter
    assert kinds <= CARTESIAN_TRACES, kinds - CARTESIAN_TRACES


@pytest.mark.parametrize("vendored", [None, SHIPPED.replace("(cartesian - minified) v", "(cartesian - minified) v0.")],
                         ids=["missing", "other-version"])
def test_without_a_matching_bundle_the_page_gets_the_full_one_and_says_why(vendored: str | None):
    bundle = choose(vendored, get_plotlyjs_version())
    assert not bundle.cartesian and bundle.script == get_plotlyjs() and bundle.version == get_plotlyjs_version()
    why = "is missing" if vendored is None else f"is plotly.js 0.{get_plotlyjs_version()}, not the plotly package's"
    assert "the full bundle of the plotly package" in bundle.note and why in bundle.note
    assert "--" not in bundle.note  # it goes in an HTML comment


def test_the_cost_chart_steps_through_each_part_to_the_total():
    """Carry 1,000.004 (a cost, up), transfers -300.5 (income, down), hedging 50: the bars float from the running
    sum before each part to the one after it, then the total stands from zero, every figure to the cent."""
    figure = waterfall([("carry", 1000.004), ("transfers", -300.5), ("hedging", 50.0)], 749.504, title="Cost",
                       currency="USD")
    (bar,) = figure.data
    assert bar.type == "bar" and list(bar.x) == ["carry", "transfers", "hedging", "total"]
    assert list(bar.base) == [0.0, 1000.0, 699.5, 0.0]
    assert list(bar.y) == [1000.0, -300.5, 50.0, 749.5]
    assert [b + y for b, y in zip(bar.base, bar.y, strict=True)] == [1000.0, 699.5, 749.5, 749.5]
    assert list(bar.text) == ["1,000.00", "-300.50", "50.00", "749.50"]
    assert list(bar.marker.color) == ["#d1242f", "#2da44e", "#d1242f", "#1f6feb"]


def test_the_cost_chart_of_a_result_ends_at_its_total():
    result = items("desk.toml")[0]
    (cost,) = [t for t in traces(to_html(result)) if t.get("x", [None])[-1] == "total"]
    o = result.objective
    assert cost["y"][:2] == [round(o.carry, 2), round(o.transfer, 2)]
    assert cost["y"][-1] == round(o.total, 2)
    assert cost["base"][-2] + cost["y"][-2] == pytest.approx(o.total, abs=0.02)  # the last step reaches the total
