"""The HTML report without a browser: one self-contained file under the size limit, the right sections, every money
figure as computed by hand, the sign convention, and the Python faces (summary, to_frame, _repr_html_).

The browser's view of the same pages is tests/test_report_browser.py; the command line is tests/test_report_cli.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html import escape

import pandas as pd
import pytest
from helpers import PROBLEMS
from report_cases import CASES, items, solve

import allocator
from allocator.report import MAX_BYTES, SIGN_CONVENTION, WhatIfTable, read_result, result_kind, to_html, whatif_html
from allocator.report.holdings import grid
from allocator.results.frames import UNITS


def _outside_plotly(html: str) -> str:
    """The page without the embedded plotly.js (the library's own text names URLs it never fetches here)."""
    start = html.index('<script type="text/javascript">')
    return html[:start] + html[html.index("</script>", start):]


def _sections(html: str) -> list[str]:
    return re.findall(r"<section id=\"[^\"]*\"><h2>([^<]*)</h2>", html)


@pytest.mark.parametrize("case", CASES)
def test_every_report_is_one_self_contained_file_under_the_limit(case):
    html = to_html(*items(case))
    assert len(html.encode("utf-8")) < MAX_BYTES
    assert html.count("<script") == 1 + html.count("Plotly.newPlot(")  # plotly.js once, then one call per chart
    rest = _outside_plotly(html)
    assert not re.search(r"https?://|<link|<script[^>]+src=|<img|@import|url\(", rest)
    assert "default-src 'none'" in html  # the browser refuses any request the page might try
    assert escape(SIGN_CONVENTION) in html


def test_each_chart_carries_the_small_template_only():
    """plotly's default template (about 6 kB of trace defaults) must not be merged into each chart's data: the
    page's size budget is for data."""
    html = to_html(*items("desk.toml"))
    charts = html.count("Plotly.newPlot(")
    assert charts > 5
    rest = _outside_plotly(html)
    assert "histogram2dcontour" not in rest and "#E5ECF6" not in rest
    assert (len(rest.encode("utf-8")) - 20_000) / charts < 4_000  # bytes per chart, beyond the page's text


def test_the_same_result_gives_the_same_file():
    assert to_html(*items("desk.toml")) == to_html(*items("desk.toml"))


@pytest.mark.parametrize(("case", "expected", "absent"), [
    ("desk.toml", ["Outcome", "Accounts", "Holdings before and after", "Cost", "Plan", "Shadow prices", "Solver"],
     ["Risk", "Why no allocation exists"]),
    ("fund.toml", ["Accounts", "Shadow prices", "Risk"], []),
    ("infeasible.toml", ["Outcome", "Why no allocation exists", "Solver"], ["Accounts", "Plan", "Cost"]),
    ("derisk-transition", ["Outcome", "Holdings before and after", "Cost", "Schedule",
                           "Coverage during the transition", "Solver"], ["Plan", "Shadow prices"]),
])
def test_each_result_shows_its_sections(case, expected, absent):
    sections = _sections(to_html(*items(case)))
    assert [s for s in expected if s not in sections] == []
    assert [s for s in absent if s in sections] == []


def test_temporary_funding_is_shown_when_the_plan_needs_it():
    html = to_html(*items("swap.toml"))
    assert "<h3>Temporary funding</h3>" in html and "needs temporary funding" in html


def test_holdings_before_and_after_are_valued_by_hand():
    """Today's value of every cell from the problem file (quantity x price), the target's from the result."""
    problem = allocator.load_problem(PROBLEMS / "desk.toml")
    result = solve("desk.toml")
    price = {a.id: a.price for a in problem.assets}
    today: dict[tuple[str, str], float] = defaultdict(float)
    for holding in problem.holdings:
        today[(holding.asset, holding.location)] += holding.quantity * price[holding.asset]
    cells = grid(result.targets)
    assert cells.notes == []
    for i, asset in enumerate(cells.assets):
        for j, location in enumerate(cells.locations):
            assert cells.before[i][j] == pytest.approx(today.get((asset, location), 0.0), rel=1e-9, abs=1e-6)
            target = sum(t.value for t in result.targets if (t.asset, t.location) == (asset, location))
            assert cells.after[i][j] == pytest.approx(target, rel=1e-12, abs=1e-9)
    total_today = sum(map(sum, cells.before))
    assert total_today == pytest.approx(sum(h.quantity * price[h.asset] for h in problem.holdings), rel=1e-9)


def test_money_figures_in_the_page_are_the_results_own():
    result = solve("desk.toml")
    html = to_html(result)
    o = result.objective
    assert o is not None
    assert o.total == pytest.approx(o.carry + o.transfer, rel=1e-12, abs=1e-9)
    for amount in (o.carry, o.transfer, o.total):  # the cost table, one format: 2 decimals, thousands separators
        assert f"<td class=num>{amount:,.2f}</td>" in html
    for account in result.accounts:  # coverage = collateral / required, and the shadow price per 1m
        assert f"<td class=num>{100 * account.collateral / account.required:,.1f}%</td>" in html
        assert f"<td class=num>{account.shadow_price * 1_000_000:,.2f}</td>" in html


def test_the_transition_cost_chart_adds_up():
    (result,) = items("derisk-transition")
    c = result.costs
    assert c.total == pytest.approx(c.carry + c.transfer + c.fees + c.spread + c.impact, rel=1e-9, abs=1e-6)
    html = to_html(result)
    for amount in (c.carry, c.transfer, c.fees, c.spread, c.impact, c.total):
        assert f"<td class=num>{amount:,.2f}</td>" in html


def test_shadow_price_sign_a_higher_requirement_costs_more():
    """The convention the report states: positive = a higher requirement costs more, by about price x change."""
    problem = allocator.load_problem(PROBLEMS / "desk.toml")
    result = solve("desk.toml")
    binding = max(result.accounts, key=lambda a: a.shadow_price)
    assert binding.shadow_price > 0
    change = 1_000.0
    raised = allocator.Scenario.parse({"requirement": {binding.id: binding.requirement + change}}).apply(problem)
    again = allocator.optimize(raised)
    assert result.objective is not None and again.objective is not None
    increase = again.objective.total - result.objective.total
    assert increase > 0
    assert increase == pytest.approx(binding.shadow_price * change, rel=1e-3)


def test_a_large_result_stays_under_the_limit_and_says_what_it_left_out():
    """500 assets at 80 locations, 40 accounts, 3,000 transfers: grids summed into 'other', tables and charts cut."""
    from allocator.results.result import AccountCoverage, Binding, Diagnostics, MarginalValue, Objective, Step, Target

    assets, locations = [f"A{i}" for i in range(500)], [f"L{j}" for j in range(80)]
    targets = [Target(asset=a, location=loc, quantity=10.0 + i, value=(10.0 + i) * 3.0, initial_quantity=5.0 + j)
               for i, a in enumerate(assets) for j, loc in enumerate(locations) if (i + j) % 8 == 0]
    accounts = [AccountCoverage(id=f"acct-{k}", requirement=1e6, required=1.1e6, collateral=1.2e6,
                                initial_collateral=1e6, excess=1e5, shadow_price=1e-4 * k) for k in range(40)]
    plan = [Step(step=n + 1, asset=assets[n % 500], **{"from": locations[n % 80]}, to=locations[(n + 1) % 80],
                 quantity=1.0, value=3.0, cost=0.01) for n in range(3000)]
    result = allocator.Result(
        status="optimal", currency="USD", objective=Objective(total=10.0, carry=8.0, transfer=2.0), targets=targets,
        accounts=accounts, plan=plan, marginal_values=[MarginalValue(asset=t.asset, location=t.location, value=0.1)
                                                       for t in targets],
        binding=[Binding(label=f"coverage[acct-{k}]", shadow_price=1e-4) for k in range(40)],
        diagnostics=Diagnostics(solver="HIGHS", status="optimal", phases=["cost"]))
    html = to_html(result)
    assert len(html.encode("utf-8")) < MAX_BYTES
    assert "other (471 assets)" in html and "other (51 locations)" in html
    assert re.search(r"and [\d,]+ more rows \(in the JSON result\)", html)
    assert re.search(r"The chart shows the first [\d,]+ of 3,000 steps", html)


def test_a_long_transition_is_summed_in_its_timeline():
    from allocator.transition._result import (
        PeriodCoverage,
        TransitionCosts,
        TransitionDiagnostics,
        TransitionStep,
        TransitionTarget,
    )

    steps = [TransitionStep(step=n + 1, period=n % 48 + 1, start_hours=n % 48, arrival_hours=n % 48 + 0.5,
                            kind="transfer", asset=f"A{n % 100}", **{"from": f"L{n % 10}"}, to=f"L{(n + 1) % 10}",
                            quantity=1.0, value=2.0, cost=0.1) for n in range(5000)]
    result = allocator.TransitionResult(
        currency="USD", periods=48, period_hours=1.0, steps=steps, completion_hours=48.5,
        costs=TransitionCosts(total=500.0, carry=0.0, transfer=500.0, fees=0.0, spread=0.0, impact=0.0),
        coverage=[PeriodCoverage(account=f"acct-{k}", period=t + 1, lowest=1e6, end=1.1e6, floor=9e5, required=1e6)
                  for k in range(10) for t in range(48)],
        targets=[TransitionTarget(asset=f"A{i}", location=f"L{j}", quantity=1.0, value=2.0, initial_quantity=1.0)
                 for i in range(100) for j in range(10)],
        diagnostics=TransitionDiagnostics(solver="CLARABEL", status="optimal", mode="convex", solve_seconds=1.0,
                                          total_seconds=1.0, money_scale=1.0))
    html = to_html(result)
    assert len(html.encode("utf-8")) < MAX_BYTES
    assert re.search(r"5,000 steps: the chart sums them by route and period", html)


def test_summary_states_status_cost_coverage_and_plan():
    desk = solve("desk.toml")
    o = desk.objective
    assert o is not None
    assert desk.summary().splitlines()[:4] == [
        "status: optimal",
        f"cost: {o.total:,.2f} USD over the horizon (carry {o.carry:,.2f}, transfers {o.transfer:,.2f})",
        f"accounts covered: {len(desk.accounts)} of {len(desk.accounts)}",
        f"plan: {len(desk.plan)} transfers, in a safe order"]
    swap = solve("swap.toml")
    funding = sum(f.amount for f in swap.funding)
    assert "status: optimal, but the plan needs temporary funding" in swap.summary()
    assert f"need temporary funding ({funding:,.2f} USD)" in swap.summary() or \
        f"needs temporary funding ({funding:,.2f} USD)" in swap.summary()
    infeasible = solve("infeasible.toml")
    short = sum(s.amount for s in infeasible.shortfalls if s.constraint == "coverage")
    assert infeasible.summary().splitlines()[1].startswith(f"shortfall: {short:,.2f} USD uncovered")


def test_transition_summary():
    (result,) = items("derisk-transition")
    text = result.summary()
    trades = sum(s.kind == "trade" for s in result.steps)
    assert text.splitlines()[0] == "status: optimal"
    assert f"cost: {result.costs.total:,.2f} USD" in text
    assert f"plan: {len(result.steps)} steps ({len(result.steps) - trades} transfers, {trades} trades)" in text
    accounts = len({row.account for row in result.coverage})
    assert f"accounts covered: {accounts} of {accounts} at the end" in text


def test_frames_have_one_name_and_unit_per_column():
    result = solve("fund.toml")
    (transition,) = items("derisk-transition")
    frames = {f"result.{n}": result.to_frame(n) for n in result.FRAMES}
    frames |= {f"transition.{n}": transition.to_frame(n) for n in transition.FRAMES}
    for name, frame in frames.items():
        assert isinstance(frame.index, pd.RangeIndex), name
        assert "id" not in frame.columns, name  # an account is `account` everywhere
        numeric = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
        assert [c for c in numeric if c not in frame.attrs["units"]] == [], name
        assert all(frame.attrs["units"][c] == UNITS[c] for c in frame.attrs["units"]), name
    assert "account" in frames["result.accounts"] and "account" in frames["transition.coverage"]
    assert list(frames["result.marginal_values"].columns) == ["asset", "location", "marginal_value"]
    assert list(frames["result.targets"].columns) == list(frames["transition.targets"].columns)
    expected = result.accounts_frame.reset_index().rename(columns={"id": "account"})
    pd.testing.assert_frame_equal(frames["result.accounts"], expected, check_like=False)
    pd.testing.assert_frame_equal(frames["transition.lowest"], transition.lowest_frame)
    with pytest.raises(ValueError, match="no frame 'nope'; the frames are targets, accounts"):
        result.to_frame("nope")


def test_notebook_form_is_compact_and_has_no_script():
    for case in ("desk.toml", "derisk-transition", "infeasible.toml"):
        (item,) = items(case)
        html = item._repr_html_()
        assert "<script" not in html and len(html) < 50_000
        assert "status" in html and "Outcome" in html


def test_what_if_and_frontier_tables():
    _, table, curve = items("desk-whatif")
    page = whatif_html(curve.frame, currency="USD")
    assert "Cost along the frontier" in page and "Shortfall per account in the infeasible scenarios" in page
    assert "Cost per scenario" in to_html(table) and "Shadow price of each requirement per scenario" in to_html(table)
    sections = _sections(to_html(*items("desk-whatif")))
    assert "What-if: Overview" in sections and "Frontier: Cost" in sections


def test_result_files_are_told_apart(tmp_path):
    (transition,) = items("derisk-transition")
    result = solve("desk.toml")
    (tmp_path / "t.json").write_text(transition.to_json(), encoding="utf-8")
    (tmp_path / "r.json").write_text(result.to_json(), encoding="utf-8")
    assert read_result(tmp_path / "t.json") == transition
    assert read_result(tmp_path / "r.json") == result
    assert result_kind({"periods": 3}) is allocator.TransitionResult and result_kind([]) is allocator.Result
    (tmp_path / "bad.json").write_text('{"status": "optimal", "currency": "USD"}', encoding="utf-8")
    with pytest.raises(allocator.InputError) as error:
        read_result(tmp_path / "bad.json")
    assert [issue.location for issue in error.value.issues] == [f"{tmp_path / 'bad.json'}: diagnostics"]


def test_heatmap_cell_labels_read_as_amounts():
    from allocator.report.charts import short

    assert [short(v) for v in (0.0, 0.5, 12.345, 951_234.0, 999_854.0, -999_999.0, 2.5e6, 14.3e6)] == [
        "0", "0.5", "12.3", "951k", "1M", "-1M", "2.5M", "14.3M"]


def test_an_unregistered_item_is_refused_by_name():
    with pytest.raises(TypeError, match=r"no report sections for dict; reported types: .*\bResult, "):
        to_html({"status": "optimal"})
    assert WhatIfTable(pd.DataFrame({"scenario": [], "status": [], "objective": []})).is_frontier is False
