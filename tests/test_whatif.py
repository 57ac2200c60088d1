"""What-if tables, re-solves without recompiling, incremental cost, sensitivities, frontiers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import PROBLEMS, relative_gap

import allocator
from allocator.analysis.frontier import frontier
from allocator.analysis.incremental import incremental_cost
from allocator.analysis.whatif import what_if
from allocator.inputs.scenario import Scenario

SCENARIOS = [
    {"id": "base"},
    {"id": "crash", "shock": {"BTC": -0.3, "ETH": -0.35, "stETH": -0.35}, "haircut_shift": {"*": 0.05}},
    {"id": "usdc", "price": {"USDC": 0.95}, "haircuts": {"cex-perps": {"USDC": 0.1}}},
    {"id": "more-margin", "requirement_scale": {"*": 1.3}, "buffer": {"aave-loan": 0.4}},
    {"id": "costs", "route_cost_bps": {"custody-a->cex-perps": 20.0}, "carry": {"USDC": 0.08},
     "yields": {"cex-perps": {"USDC": 0.0}}},
    {"id": "inventory", "holdings": {"USDC@custody-a": 0.0, "BTC@custody-b": 30.0}},
    {"id": "too-much", "requirement_scale": {"*": 4.0}},
]


@pytest.fixture(scope="module")
def table(desk):
    return what_if(desk, SCENARIOS)


def test_rows_equal_fresh_solves(desk, table):
    assert list(table["scenario"]) == [s["id"] for s in SCENARIOS]
    for scenario, row in zip(SCENARIOS, table.to_dict("records"), strict=True):
        changed = Scenario.parse(scenario).apply(desk)
        try:
            fresh = allocator.optimize(changed)
        except allocator.InfeasibleError as error:
            assert row["status"] == "infeasible"
            assert sum(row[f"shortfall.{a.id}"] for a in desk.accounts) == pytest.approx(error.diagnosis.total,
                                                                                          rel=1e-7)
            continue
        assert row["status"] == "optimal"
        assert relative_gap(row["objective"], fresh.objective.total) < 1e-7
        for account in fresh.accounts:
            assert row[f"shadow_price.{account.id}"] == pytest.approx(account.shadow_price, rel=1e-6, abs=1e-12)


def test_infeasible_scenarios_are_rows(table):
    row = table.set_index("scenario").loc["too-much"]
    assert row["status"] == "infeasible" and math.isnan(row["objective"])
    assert sum(row[c] for c in table.columns if c.startswith("shortfall.")) > 0


def test_resolve_does_not_recompile(desk):
    engine = allocator.Allocator(desk)
    engine.solve()
    compiled = engine.compilations
    for scenario in SCENARIOS[:-1]:
        engine.solve(scenario)
    assert engine.compilations == compiled


def test_scenario_errors_are_located_and_all_reported(desk):
    bad = [{"id": "a", "shock": {"DOGE": -0.1}}, {"id": "b", "haircut_shift": {"*": 0.99}},
           {"id": "c", "haircuts": {"cex-perps": {"USTB": 0.1}}}, {"id": "a"}, {"id": "d", "shok": {}}]
    with pytest.raises(allocator.InputError) as caught:
        what_if(desk, bad)
    where = {issue.location for issue in caught.value.issues}
    assert {"scenarios[0].shock.DOGE", "scenarios[3].id", "scenarios[4].shok"} <= where
    with pytest.raises(allocator.InputError) as caught:
        what_if(desk, bad[1:3])
    messages = " ".join(str(i) for i in caught.value.issues)
    assert "not in [0, 1)" in messages and "structure" in messages


def test_a_bad_value_does_not_hide_a_typo_in_an_id(desk, tmp_path):
    """A scenario with a bad value and an unknown id, and another with only the unknown id: every issue in one
    error, from the API, from a scenario file read with the problem, and from the CLI (exit 2, no traceback)."""
    from click.testing import CliRunner

    from allocator.batch.spec import read_scenarios
    from allocator.cli import main

    expected = {("scenarios[0].shock.ETH", "not_finite"), ("scenarios[0].shock.BTCC", "unknown_asset"),
                ("scenarios[0].buffer.prime-brokr", "unknown_account"), ("scenarios[1].shock.BTCC", "unknown_asset")}
    rows = [{"id": "a", "shock": {"BTCC": -0.3, "ETH": math.nan}, "buffer": {"prime-brokr": 0.1}},
            {"id": "b", "shock": {"BTCC": -0.3}}]
    with pytest.raises(allocator.InputError) as caught:
        what_if(desk, rows)
    assert {(i.location, i.code) for i in caught.value.issues} == expected
    path = tmp_path / "s.toml"
    path.write_text('[[scenarios]]\nid = "a"\nshock = { BTCC = -0.3, ETH = nan }\nbuffer = { prime-brokr = 0.1 }\n'
                    '[[scenarios]]\nid = "b"\nshock = { BTCC = -0.3 }\n')
    with pytest.raises(allocator.InputError) as caught:
        read_scenarios(path, desk)
    assert {(i.location, i.code) for i in caught.value.issues} == expected
    with pytest.raises(allocator.InputError) as caught:
        read_scenarios(path)  # without the problem: the values' issues only
    assert {(i.location, i.code) for i in caught.value.issues} == {("scenarios[0].shock.ETH", "not_finite")}
    run = CliRunner().invoke(main, ["whatif", str(PROBLEMS / "desk.toml"), str(path), "-o", "-"])
    assert run.exit_code == 2 and "Traceback" not in run.output
    for location, _ in expected:
        assert location in run.output


@pytest.mark.parametrize("cell", ["nan", "NULL", "None", "#N/A", "NA"])
def test_csv_cells_other_than_empty_are_not_read_as_no_change(desk, tmp_path, cell):
    """Only an empty cell means "no change": pandas' NA spellings stay text (refused), and an id ``nan`` stays."""
    from allocator.batch.spec import read_scenarios

    path = tmp_path / "s.csv"
    path.write_text(f"id,shock.BTC,requirement_scale.*\nbase,,\nnan,{cell},\n")
    with pytest.raises(allocator.InputError) as caught:
        read_scenarios(path)
    assert [(i.location, i.code) for i in caught.value.issues] == [("scenarios[1].shock.BTC", "not_a_number")]
    path.write_text("id,shock.BTC\nbase,\nnan,-0.1\n")
    assert read_scenarios(path) == [("base", {}), ("nan", {"shock.BTC": -0.1})]


def test_flat_dataframe_scenarios(desk, table):
    frame = pd.DataFrame([{"id": "crash", "shock.BTC": -0.3, "shock.ETH": -0.35, "shock.stETH": -0.35,
                           "haircut_shift.*": 0.05, "requirement_scale.*": np.nan},
                          {"id": "more", "shock.BTC": np.nan, "shock.ETH": np.nan, "shock.stETH": np.nan,
                           "haircut_shift.*": np.nan, "requirement_scale.*": 1.3}])
    flat = what_if(desk, frame).set_index("scenario")
    nested = table.set_index("scenario")
    assert flat.loc["crash", "objective"] == pytest.approx(nested.loc["crash", "objective"], rel=1e-9)


def test_workers_give_the_same_table(desk):
    scenarios = [{"id": f"s{i}", "shock": {"BTC": -0.02 * i}} for i in range(12)]
    one = what_if(desk, scenarios)
    two = what_if(desk, scenarios, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_a_large_table_applies_each_scenario_again_when_solved(desk, table, monkeypatch):
    """Above KEEP_CHANGED the changed problems are not kept after validation (a large book's thousand would not
    fit in memory): each scenario is applied again when solved, on one worker or several, with the same rows."""
    import allocator.analysis.whatif as whatif

    monkeypatch.setattr(whatif, "KEEP_CHANGED", 0)
    assert all(isinstance(case, Scenario) for _, case in whatif._validated(desk, SCENARIOS))
    pd.testing.assert_frame_equal(what_if(desk, SCENARIOS), table)
    scenarios = [{"id": f"s{i}", "shock": {"BTC": -0.02 * i}} for i in range(6)]
    pd.testing.assert_frame_equal(what_if(desk, scenarios, workers=2), what_if(desk, scenarios))
    with pytest.raises(allocator.InputError):  # still every scenario validated before any solve
        what_if(desk, [*SCENARIOS, {"shock": {"DOGE": -0.1}}])


def test_incremental_cost_exact_and_estimate_agree_for_a_small_change(desk):
    change = incremental_cost(desk, {"requirement": {"cex-perps": 4_001_000.0}})
    assert change.exact > 0
    assert change.estimate == pytest.approx(change.exact, rel=1e-6)
    shadow = allocator.optimize(desk).accounts[0].shadow_price
    assert change.estimate == pytest.approx(shadow * 1_000.0, rel=1e-6)


def test_incremental_cost_of_a_large_change_is_exact_and_estimate_is_a_bound(desk):
    change = incremental_cost(desk, {"requirement": {"cex-perps": 6_000_000.0}})
    # the LP's optimal value is convex in the requirement: the first-order estimate never exceeds the truth
    assert change.estimate <= change.exact + 1e-9


def test_marginal_values_match_finite_differences(desk):
    result = allocator.Allocator(desk).solve(plan=False)
    values = {(m.asset, m.location): m.value for m in result.marginal_values}
    held = {(h.asset, h.location): h.quantity for h in desk.holdings}
    for cell in [("BTC", "custody-b"), ("BTC", "cex-perps")]:
        bumped = Scenario(holdings={f"{cell[0]}@{cell[1]}": held.get(cell, 0.0) + 0.01}).apply(desk)
        decrease = (result.objective.total - allocator.optimize(bumped).objective.total) / 0.01
        assert decrease == pytest.approx(values[cell], rel=1e-5)


def test_binding_constraints_are_labelled(desk):
    result = allocator.optimize(desk)
    labels = {b.label for b in result.binding}
    covered = {f"coverage[{a.id}]" for a in result.accounts if a.shadow_price > 0}
    assert covered and covered <= labels


def test_frontier_cost_rises_with_the_buffer(desk):
    curve = frontier(desk, "buffer", [0.0, 0.1, 0.2, 0.4])
    assert list(curve["value"]) == [0.0, 0.1, 0.2, 0.4]
    assert (curve["status"] == "optimal").all()
    assert curve["objective"].is_monotonic_increasing


def test_scenario_file_round_trip(desk, tmp_path):
    from allocator.batch.spec import read_scenarios

    rows = read_scenarios(PROBLEMS.parent / "scenarios" / "desk-stress.toml")
    assert rows[0] == ("base", {}) and len(rows) == 6
    table = what_if(desk, [{"id": i, **f} for i, f in rows])
    assert (table["status"] == "optimal").all()
    frame = pd.DataFrame([{"id": "x", "shock.BTC": -0.1}])
    frame.to_csv(tmp_path / "s.csv", index=False)
    assert read_scenarios(tmp_path / "s.csv") == [("x", {"shock.BTC": -0.1})]


def test_volatility_scale_in_every_market_form():
    """Given, estimated from history (replaced by the given form) and factor markets: volatilities scale,
    correlations stay."""
    from allocator.inputs.scenario import Scenario

    fund = allocator.load_problem(PROBLEMS / "fund.toml")  # history
    perps = allocator.load_problem(PROBLEMS / "perps-risk.toml")  # given
    for problem in (fund, perps):
        vol, correlation = problem.market.moments
        moved = Scenario.parse({"volatility_scale": {"BTC": 2.0, "*": 1.5}}).apply(problem)
        new_vol, new_correlation = moved.market.moments
        expected = vol * np.where(np.array(problem.market.assets) == "BTC", 2.0, 1.5)
        assert np.allclose(new_vol, expected, rtol=1e-12) and np.allclose(new_correlation, correlation, atol=1e-12)


def test_haircut_shift_and_requirement_scale_reach_rulebook_terms():
    from allocator.inputs.scenario import Scenario

    fund = allocator.load_problem(PROBLEMS / "fund.toml")
    moved = Scenario.parse({"haircut_shift": {"aave": 0.05}, "shock": {"BTC": -0.2},
                            "requirement_scale": {"hyperliquid": 1.5}}).apply(fund)
    before, after = fund.terms, moved.terms
    for asset, haircut in before["aave"].eligible.items():
        assert after["aave"].eligible[asset] == pytest.approx(haircut + 0.05)
    at_shocked_price = fund.with_changes(assets=[a.model_dump() | ({"price": a.price * 0.8} if a.id == "BTC" else {})
                                                 for a in fund.assets])
    derived = at_shocked_price.terms["hyperliquid"].requirement
    assert after["hyperliquid"].requirement == pytest.approx(1.5 * derived, rel=1e-12)


def test_a_price_frontier_revalues_the_positions():
    """fund.toml: hyperliquid is long 25 BTC perps, so a BTC move x costs it 25 * price * x of equity, which
    its required collateral takes up in full (docs/what-if.md); accounts without BTC positions keep pnl 0."""
    fund = allocator.load_problem(PROBLEMS / "fund.toml")
    price = next(a.price for a in fund.assets if a.id == "BTC")
    curve = frontier(fund, "shock", [0.0, -0.1, -0.2], key="BTC").set_index("value")
    assert (curve["status"] == "optimal").all()
    base_requirement = fund.terms["hyperliquid"].requirement * 1.5  # buffer 0.5
    for move in (0.0, -0.1, -0.2):
        assert curve.loc[move, "pnl.hyperliquid"] == pytest.approx(25.0 * price * move, rel=1e-12, abs=0.0)
        assert curve.loc[move, "pnl.aave"] == 0.0 and curve.loc[move, "pnl.prime-broker"] == 0.0
    assert curve.loc[0.0, "required.hyperliquid"] == pytest.approx(base_requirement, rel=1e-12)
    moved = Scenario.parse({"shock": {"BTC": -0.2}}).apply(fund)
    requirement = moved.terms["hyperliquid"].requirement * 1.5
    assert curve.loc[-0.2, "required.hyperliquid"] == pytest.approx(requirement + 25.0 * price * 0.2, rel=1e-12)


def test_a_requirement_the_pnl_covers_has_no_shadow_price():
    """defi-desk with every price 30% lower: Hyperliquid's short ETH perp gains 1,553,893 against a requirement of
    145,030 x (1 + 3.0) = 580,120, so the account must hold max(580,120 - 1,553,893, 0) = 0 whatever its requirement
    within reach: its shadow price is 0 (by hand, and a finite difference of 1,000 either way moves nothing) and its
    coverage row is not binding, in a what-if re-solve (whose warm basis may carry a dual on that degenerate row)
    as in a fresh solve."""
    problem = allocator.load_problem(PROBLEMS / "defi-desk.toml")
    engine = allocator.Allocator(problem)
    scenario = {"shock": {"*": -0.3}}
    fresh = allocator.Allocator(Scenario.parse(scenario).apply(problem)).solve(plan=False)
    for result in (engine.solve(scenario, plan=False), fresh):
        (account,) = [a for a in result.accounts if a.id == "hyperliquid"]
        assert account.requirement * 4.0 < account.pnl and account.required == 0.0
        assert account.shadow_price == 0.0
        assert not [b for b in result.binding if b.label == "coverage[hyperliquid]"]
    base = fresh.objective.total
    for step in (1_000.0, -1_000.0):
        moved = engine.solve({**scenario, "requirement": {"hyperliquid": account.requirement + step}}, plan=False)
        assert moved.objective.total == pytest.approx(base, rel=1e-9)
