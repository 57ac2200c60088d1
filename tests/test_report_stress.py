"""The report of the results issue 13 added: a stress test (allocator.stress), a margin-mode comparison
(compare_modes) and a hedged result (hedges, deltas, the saving). Every money figure in the page is the result's
own, and the ones with a definition are recomputed by hand from the problem file.

The browser's view of the same pages is tests/test_report_browser.py (the cases in report_cases.py).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from helpers import PROBLEMS
from report_cases import items

import allocator
from allocator.report import MAX_BYTES, ModesTable, modes_html, read_result, read_table, to_html


def _sections(html: str) -> list[str]:
    return re.findall(r"<section id=\"[^\"]*\"><h2>([^<]*)</h2>", html)


def _cell(amount: float) -> str:
    return f"<td class=num>{amount:,.2f}</td>"


# ---- stress ---------------------------------------------------------------------------------------------------


def test_a_stress_report_has_its_sections_and_the_faces_of_a_result():
    (report,) = items("stress-desk-stress")
    html = report.to_html()
    assert html == to_html(report) and len(html.encode("utf-8")) < MAX_BYTES
    assert "<title>allocator report: stress test</title>" in html
    assert _sections(html) == ["Outcome", "Treasury per scenario", "Accounts in each scenario",
                               "Cascade and price moves", "Monte Carlo draws", "Episodes and market data"]
    compact = report._repr_html_()
    assert "<script" not in compact and len(compact) < 60_000
    assert "Outcome" in compact and "Treasury per scenario" in compact and "Monte Carlo draws" in compact
    lines = report.summary_text().splitlines()
    assert lines[0] == "allocation: today's holdings"
    assert lines[1] == "scenarios: 6 (close), with liquidation cascades"
    assert isinstance(report.summary, pd.DataFrame)  # the per-scenario frame keeps its name (docs/stress.md)


def test_the_treasury_and_losses_in_the_page_are_the_reports_and_add_up():
    """The treasury today by hand (every holding at its price; the positions are marked today, so no P&L), each
    scenario's loss = today - after = market loss + liquidation penalties, each figure in the page."""
    (report,) = items("stress-desk-stress")
    problem = allocator.load_problem(PROBLEMS / "stress-desk.toml")
    price = {a.id: a.price for a in problem.assets}
    today = sum(h.quantity * price[h.asset] for h in problem.holdings)
    html = to_html(report)
    assert f"treasury today</dt><dd>{today:,.2f} USD" in html
    for row in report.summary_rows:
        assert row.treasury_before == pytest.approx(today, rel=1e-12)
        assert row.total_loss == pytest.approx(row.treasury_before - row.treasury_after, rel=1e-12, abs=1e-6)
        assert row.total_loss == pytest.approx(row.market_loss + row.liquidation_loss, rel=1e-12, abs=1e-6)
        for amount in (row.treasury_after, row.market_loss, row.liquidation_loss, row.cascade_loss,
                       row.total_loss):
            assert _cell(amount) in html, (row.scenario, amount)
    worst = max(report.summary_rows, key=lambda r: r.total_loss)
    assert f"worst scenario</dt><dd>{worst.scenario}: loss {worst.total_loss:,.2f} USD" in html


def test_the_shortfall_per_scenario_is_each_short_accounts_missing_collateral_summed():
    """An account's shortfall after a scenario = max(required after - collateral after, 0), recomputed here from
    its row; the scenario's is their sum, in the per-scenario table, and charted per account."""
    (report,) = items("stress-desk-stress")
    html = to_html(report)
    short = [row for row in report.account_rows if row.required_after > row.collateral_after]
    assert short  # the fixture's episodes leave accounts short
    for row in report.account_rows:
        assert row.shortfall == pytest.approx(max(row.required_after - row.collateral_after, 0.0), rel=1e-12,
                                              abs=1e-9)
    for scenario in {row.scenario for row in short}:
        total = sum(row.required_after - row.collateral_after for row in short if row.scenario == scenario)
        assert _cell(total) in html, scenario
    assert "Shortfall per scenario: collateral missing to the required level, per account" in html


def test_every_liquidation_is_marked_with_its_round_beside_the_distance_to_liquidation():
    (report,) = items("stress-desk-stress")
    html = to_html(report)
    fell = [row for row in report.account_rows if row.liquidated]
    assert fell and any(row.round == 2 for row in fell)  # the fixture's FTX cascade takes the prime broker
    for row in fell:
        assert f"LIQUIDATED (round {row.round})" in html  # the grid's cell
        assert f"<td>liquidated (round {row.round})</td>" in html  # the table beside the distances
    assert "in a cascade round: prime-broker in 2022-11-ftx" in html
    for row in report.account_rows:
        assert _cell(row.collateral_after) in html and _cell(row.liquidation_loss) in html
        if row.liquidation_move is not None:
            assert f"<td class=num>{100 * row.liquidation_move:,.1f}%</td>" in html


def test_monte_carlo_section_shows_the_tail_and_the_worst_draws():
    (report,) = items("stress-desk-stress")
    mc = report.monte_carlo
    assert mc is not None and mc.draws == len(report.draw_rows)
    html = to_html(report)
    for amount in (mc.var_95, mc.var_99, mc.expected_shortfall_99):
        assert f"{amount:,.2f}" in html
    worst = max(report.draw_rows, key=lambda row: row.total_loss)
    assert _cell(worst.total_loss) in html
    assert "The 20 worst draws" in html
    (chart,) = [c for c in html.split("Plotly.newPlot(") if f"loss over {mc.draws} draws" in c]
    counts = re.search(r'"y":\[([\d,]+)\]', chart)
    assert counts is not None
    assert sum(int(n) for n in counts.group(1).split(",")) == mc.draws  # every draw in one bin


def test_a_stress_report_without_draws_or_episodes_leaves_their_sections_out():
    problem = allocator.load_problem(PROBLEMS / "stress-desk.toml")
    report = allocator.stress(problem, episodes=["2022-11-ftx"])
    sections = _sections(to_html(report))
    assert "Monte Carlo draws" not in sections and "Accounts in each scenario" in sections
    draws_only = allocator.stress(problem, episodes=[], draws=50, seed=3)
    sections = _sections(to_html(draws_only))
    assert sections == ["Outcome", "Monte Carlo draws", "Episodes and market data"]


# ---- margin modes ---------------------------------------------------------------------------------------------


def test_a_modes_comparison_shows_each_mode_side_by_side():
    (table,) = items("stress-desk-modes")
    html = to_html(table)
    assert len(html.encode("utf-8")) < MAX_BYTES
    assert _sections(html) == ["Overview", "Cost, requirement and collateral", "Stress outcome per mode"]
    for row in table.rows:
        for key in ("cost", "carry", "transfer", "requirement", "required", "collateral", "worst_loss"):
            assert _cell(row[key]) in html, (row["mode"], key)
    assert "Liquidations in the historical episodes per mode" in html
    assert "in every mode solved" in html  # stress-desk's modes cost the same to the cent
    assert table.frame.index.name == "mode" and [r["mode"] for r in table.rows] == ["isolated", "cross", "portfolio"]


def test_the_cheapest_and_dearest_mode_by_hand_and_an_infeasible_mode():
    frame = pd.DataFrame([
        {"mode": "isolated", "status": "optimal", "cost": 14_138.64, "carry": 14_138.64, "transfer": 0.0,
         "hedging": 0.0, "requirement": 7.5e6, "required": 9.1e6, "collateral": 1.3e7, "shortfall": 0.0,
         "accounts": 8, "in_mode": "a, b", "kept": ""},
        {"mode": "cross", "status": "optimal", "cost": 9_539.82, "carry": 9_539.82, "transfer": 0.0,
         "hedging": 0.0, "requirement": 7.5e6, "required": 9.1e6, "collateral": 1.2e7, "shortfall": 0.0,
         "accounts": 4, "in_mode": "a, b", "kept": ""},
        {"mode": "portfolio", "status": "infeasible", "shortfall": 1_234.5, "accounts": 4, "in_mode": "b",
         "kept": "a: no portfolio margin"}]).set_index("mode")
    html = modes_html(frame, currency="USD")
    more = (14_138.64 - 9_539.82) / 9_539.82  # 48.2%
    assert "cheapest</dt><dd>cross: 9,539.82 USD over the horizon" in html
    assert f"dearest</dt><dd>isolated: 14,138.64 USD ({more:.1%} more)" in html and "48.2% more" in html
    assert "Infeasible: portfolio (least total shortfall 1,234.50 USD)" in html
    assert "Stress outcome per mode" not in _sections(html)  # no stress columns: nothing to show


def test_modes_tables_are_read_from_json_csv_and_parquet(tmp_path):
    from allocator.cli.output import records_json

    (table,) = items("stress-desk-modes")
    flat = table.frame.reset_index()
    (tmp_path / "modes.json").write_text(records_json(flat), encoding="utf-8")
    flat.to_csv(tmp_path / "modes.csv", index=False)
    flat.to_parquet(tmp_path / "modes.parquet", index=False)
    for name in ("modes.json", "modes.csv", "modes.parquet"):
        read = read_result(tmp_path / name)
        assert isinstance(read, ModesTable) and read.name == f"Margin modes ({name})"
        assert [r["mode"] for r in read.rows] == ["isolated", "cross", "portfolio"]
        assert [r["cost"] for r in read.rows] == pytest.approx([r["cost"] for r in table.rows], rel=1e-12)
        assert isinstance(read_table(tmp_path / name), ModesTable)
    by_account = pd.DataFrame([{"mode": "cross", "account": "a", "margin_mode": "cross", "requirement": 1.0}])
    by_account.to_csv(tmp_path / "by-account.csv", index=False)
    with pytest.raises(allocator.InputError, match="per-account modes table"):
        read_result(tmp_path / "by-account.csv")
    (tmp_path / "numbers.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(allocator.InputError, match="a JSON list but not of records"):
        read_result(tmp_path / "numbers.json")


def test_a_stress_report_file_is_told_apart(tmp_path):
    (report,) = items("stress-desk-stress")
    (tmp_path / "stress.json").write_text(report.to_json(), encoding="utf-8")
    assert read_result(tmp_path / "stress.json") == report
    broken = report.model_dump(mode="json", by_alias=True) | {"intraday": "sometimes"}
    (tmp_path / "broken.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(allocator.InputError) as error:
        read_result(tmp_path / "broken.json")
    assert [i.location for i in error.value.issues] == [f"{tmp_path / 'broken.json'}: intraday"]
    assert "(read as a stress report)" in error.value.issues[0].message


# ---- hedges ---------------------------------------------------------------------------------------------------


def test_the_hedge_section_shows_the_trade_the_deltas_and_the_saving_by_hand():
    """hedge.toml's short perp: funding = rate x 30/365 x notional (a short receives), fee = 4.5 bps and margin
    2.5% of |notional|; the treasury's delta changes by the notional alone; the saving is the unhedged optimum's
    cost minus this one's."""
    from allocator.analysis.hedging import unhedged

    (result,) = items("hedge.toml")
    problem = allocator.load_problem(PROBLEMS / "hedge.toml")
    spec = problem.hedges[0]
    (trade,) = result.hedges
    n = trade.notional
    assert n == pytest.approx(-spec.max_notional, rel=1e-9)  # shorts are paid: the hedge runs to its limit
    funding = spec.funding_rate * problem.horizon_days / 365 * n
    fee = spec.fee_bps / 1e4 * abs(n)
    assert (trade.funding, trade.fee, trade.margin) == pytest.approx((funding, fee, spec.margin_rate * abs(n)),
                                                                     rel=1e-9)
    o = result.objective
    assert o is not None and o.hedging == pytest.approx(funding + fee, rel=1e-9)
    assert o.total == pytest.approx(o.carry + o.transfer + o.hedging, rel=1e-12, abs=1e-9)
    plain = allocator.optimize(unhedged(problem)).objective
    assert plain is not None and result.hedge_saving == pytest.approx(plain.total - o.total, rel=1e-9, abs=1e-6)
    treasury = next(d for d in result.deltas if d.owner == "treasury")
    assert treasury.after - treasury.before == pytest.approx(n, rel=1e-9)

    html = to_html(result)
    sections = _sections(html)
    assert sections.index("Cost") < sections.index("Hedges") < sections.index("Plan")
    for amount in (trade.notional, trade.funding, trade.fee, trade.margin, o.hedging, o.total,
                   treasury.after - treasury.before):
        assert _cell(amount) in html, amount
    assert f"saving</dt><dd>{result.hedge_saving:,.2f} USD against the unhedged optimum (which costs " \
           f"{plain.total:,.2f})" in html
    assert f"hedging {o.hedging:,.2f})" in html  # the outcome's cost line names every part of the total
    assert "<td>hedging</td>" in html  # the cost waterfall's table


def test_a_result_without_hedges_has_no_hedge_section():
    (desk,) = items("desk.toml")
    html = to_html(desk)
    assert "Hedges" not in _sections(html) and "<td>hedging</td>" not in html
    (plain,) = items("fund.toml")
    assert plain.hedge_saving is None
