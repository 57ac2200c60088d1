"""What-if price moves revalue the positions too: their P&L since the last mark counts in the account's equity.

Every expected figure is computed here by hand (Black-76 with scipy.stats.norm, written out), never by the
library's pricer, which is only a cross-check.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import allocator
from allocator.analysis.whatif import what_if
from allocator.batch.worker import solve_chunk
from allocator.inputs.scenario import Scenario
from allocator.plan.validate import validate_plan
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.transition import plan_transition, validate_transition

AS_OF, EXPIRY = "2025-02-11", "2025-03-28"
CARRY, HORIZON = 0.05, 30.0  # USDC earns 5% a year when free: posting it costs that over 30 days
COST_PER_DOLLAR = CARRY * HORIZON / 365.0


def put_value(forward: float, strike: float, years: float, sigma: float) -> float:
    """Black-76 put without discounting, written out: K N(-d2) - F N(-d1)."""
    root = sigma * math.sqrt(years)
    d1 = (math.log(forward / strike) + root * root / 2.0) / root
    return strike * norm.cdf(-(d1 - root)) - forward * norm.cdf(-d1)


def desk(positions: list[dict], accounts: list[dict], btc: float, **extra: object) -> allocator.Problem:
    """USDC in custody (price 1, carry 5%), BTC priced for the positions, free moves, a cash account."""
    return allocator.Problem.model_validate({
        "as_of": AS_OF, "horizon_days": HORIZON,
        "assets": [{"id": "BTC", "price": btc}, {"id": "USDC", "price": 1.0, "carry": CARRY}],
        "holdings": [{"asset": "USDC", "location": "custody", "quantity": 5_000_000.0}],
        "accounts": accounts + [{"id": "cash", "requirement": 100_000.0, "haircuts": {"USDC": 0.0}}],
        "positions": positions, **extra})


SHORT_PUT = {"account": "deribit", "instrument": "BTC-28MAR25-90000-P", "underlying": "BTC", "kind": "option",
             "quantity": -10.0, "strike": 90_000.0, "expiry": EXPIRY, "type": "put", "implied_volatility": 0.6}


@pytest.fixture(scope="module")
def short_put() -> allocator.Problem:
    return desk([SHORT_PUT], [{"id": "deribit", "rulebook": "deribit-portfolio-margin", "buffer": 0.2}], 100_000.0)


def test_a_crash_makes_a_short_put_account_need_more_and_costs_the_desk_more(short_put):
    engine = allocator.Allocator(short_put)
    base = engine.solve(plan=False)
    crash = engine.solve({"id": "crash", "shock": {"BTC": -0.6}}, plan=False)
    before, after = base.accounts_frame.loc["deribit"], crash.accounts_frame.loc["deribit"]

    years = (date.fromisoformat(EXPIRY) - date.fromisoformat(AS_OF)).days / 365.0
    loss = -10.0 * (put_value(40_000.0, 90_000.0, years, 0.6) - put_value(100_000.0, 90_000.0, years, 0.6))
    assert loss < -400_000  # deep in the money: the short put lost most of 10 x (90,000 - 40,000)
    assert after["pnl"] == pytest.approx(loss, rel=1e-12)
    position = short_put.positions[0]  # the library's pricer agrees
    assert after["pnl"] == pytest.approx(position.change(100_000.0, 40_000.0, AS_OF), rel=1e-12)
    assert before["pnl"] == 0.0 and base.accounts_frame.loc["cash", "pnl"] == 0.0

    # the rulebook's requirement is re-derived at 40,000; the loss comes on top of it
    assert after["required"] == pytest.approx(after["requirement"] * 1.2 - loss, rel=1e-12)
    assert after["required"] > before["required"]
    assert after["collateral"] >= after["required"] * (1 - 1e-9)
    # all collateral is USDC at carry 5%: the cost is what the two accounts hold, over 30 days
    for result in (base, crash):
        held = result.accounts_frame["required"].sum()
        assert result.objective.total == pytest.approx(COST_PER_DOLLAR * held, rel=1e-7)
    assert crash.objective.total > base.objective.total


def test_a_long_perp_loses_quantity_times_price_times_the_shock_exactly():
    quantity, price, shock, requirement = 3.0, 50_000.0, 0.5, 200_000.0
    problem = desk([{"account": "perps", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                     "quantity": quantity}],
                   [{"id": "perps", "requirement": requirement, "buffer": 0.1, "haircuts": {"USDC": 0.0}}], price)
    engine = allocator.Allocator(problem)
    base = engine.solve()  # compiles the cost and the moves programs
    compiled = engine.compilations
    moved = engine.solve({"shock": {"BTC": -shock}})
    assert engine.compilations == compiled  # the P&L enters through parameter values only
    pnl = -quantity * price * shock
    assert moved.accounts_frame.loc["perps", "pnl"] == pnl  # exactly: 3 x 50,000 x 0.5
    assert base.accounts_frame["pnl"].tolist() == [0.0, 0.0]
    assert moved.accounts_frame.loc["cash", "pnl"] == 0.0
    required = requirement * 1.1 - pnl
    assert moved.accounts_frame.loc["perps", "required"] == pytest.approx(required, rel=1e-15)
    assert moved.objective.total == pytest.approx(COST_PER_DOLLAR * (required + 100_000.0), rel=1e-7)
    assert validate_plan(engine.changed({"shock": {"BTC": -shock}}), moved) == []
    # the liquidation distance starts from the equity after the loss: collateral + pnl - requirement = 0.1 x 200,000
    # is left, and the perp (3 BTC at 25,000) loses it after a further move of -20,000 / 75,000
    collateral = moved.accounts_frame.loc["perps", "collateral"]
    expected = -(collateral + pnl - requirement) / (quantity * price * (1 - shock))
    assert expected == pytest.approx(-20_000.0 / 75_000.0, rel=1e-6)
    assert moved.accounts_frame.loc["perps", "liquidation_move"] == pytest.approx(expected, rel=1e-7)


def test_a_gain_lowers_what_is_required_but_never_below_zero():
    """A short perp gains in a crash: the venue credits it, so the account may release collateral (the plan
    moves it out, and replaying the plan accepts that: the floor counts the gain too)."""
    problem = desk([{"account": "perps", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                     "quantity": -2.0}],
                   [{"id": "perps", "requirement": 30_000.0, "buffer": 0.5, "haircuts": {"USDC": 0.0}}], 50_000.0,
                   holdings=[{"asset": "USDC", "location": "custody", "quantity": 5_000_000.0},
                             {"asset": "USDC", "location": "perps", "quantity": 45_000.0}])
    small, large = (allocator.Allocator(problem).solve({"shock": {"BTC": move}}) for move in (-0.1, -0.5))
    # -10%: +10,000 of gain against 45,000 required; -50%: +50,000 of gain covers it all
    assert small.accounts_frame.loc["perps", "pnl"] == pytest.approx(10_000.0, rel=1e-12)
    assert small.accounts_frame.loc["perps", "required"] == pytest.approx(35_000.0, rel=1e-12)
    assert large.accounts_frame.loc["perps", "pnl"] == pytest.approx(50_000.0, rel=1e-12)
    assert large.accounts_frame.loc["perps", "required"] == 0.0
    for result, left in ((small, 35_000.0), (large, 0.0)):
        assert result.accounts_frame.loc["perps", "collateral"] == pytest.approx(left, abs=0.01)
        assert result.plan_safe and not result.funding  # the ledger's floor counts the gain


def test_a_transition_after_a_gain_ends_covered_net_of_it():
    """The multi-period transition asks for the same net requirement at the end, and its validation agrees."""
    problem = desk([{"account": "perps", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                     "quantity": -2.0}],
                   [{"id": "perps", "requirement": 30_000.0, "buffer": 0.5, "haircuts": {"USDC": 0.0}}], 50_000.0,
                   holdings=[{"asset": "USDC", "location": "custody", "quantity": 5_000_000.0},
                             {"asset": "USDC", "location": "perps", "quantity": 45_000.0}])
    moved = Scenario.parse({"shock": {"BTC": -0.1}}).apply(problem).with_changes(
        schedule={"periods": 2, "period_hours": 1.0})
    result = plan_transition(moved)  # validates its own plan, or raises
    assert validate_transition(moved, result) == []
    end = {c.account: c for c in result.coverage if c.period == 2}["perps"]
    assert end.required == pytest.approx(35_000.0, rel=1e-12) and end.end >= 35_000.0 - 1e-3


def test_risk_rows_count_the_loss_too():
    """Stress row: collateral after the stress plus the stress's P&L plus the what-if's P&L covers the requirement.
    Long 2 BTC at 50,000, stress BTC -50%, requirement 100,000. Base: 100,000 + 50,000 = 150,000. After a -50%
    what-if (P&L -50,000; the stress then loses 25,000 more): 100,000 + 25,000 + 50,000 = 175,000."""
    problem = desk([{"account": "perps", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                     "quantity": 2.0}],
                   [{"id": "perps", "requirement": 100_000.0, "haircuts": {"USDC": 0.0},
                     "risk": {"parametric": False}}], 50_000.0,
                   market={"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.6, "USDC": 0.01},
                           "correlation": [[1.0, 0.0], [0.0, 1.0]]},
                   stress_scenarios=[{"name": "crash", "returns": {"BTC": -0.5}}])
    engine = allocator.Allocator(problem)
    base = engine.solve(plan=False)
    moved = engine.solve({"shock": {"BTC": -0.5}}, plan=False)
    assert base.accounts_frame.loc["perps", "collateral"] == pytest.approx(150_000.0, rel=1e-9)
    assert moved.accounts_frame.loc["perps", "collateral"] == pytest.approx(175_000.0, rel=1e-9)
    assert moved.accounts_frame.loc["perps", "worst_scenario_excess"] == pytest.approx(0.0, abs=1e-3)


def test_one_definition_for_stress_rows_and_what_if_moves(short_put):
    """A stress scenario's P&L equals the P&L of a what-if with the same move, to the last bit."""
    stressed = short_put.with_changes(stress_scenarios=[{"name": "crash", "returns": {"BTC": -0.6}}])
    layout = Layout.from_problem(stressed)
    stress_pnl = Numbers.from_problem(stressed, layout).stress_pnl[0]
    moved = Scenario.parse({"shock": {"BTC": -0.6}}).apply(stressed)
    assert np.array_equal(Numbers.from_problem(moved, layout).pnl, stress_pnl)
    assert np.array_equal(Numbers.from_problem(stressed, layout).pnl, np.zeros(2))  # unshocked: exactly 0


def test_marks_are_kept_by_the_changed_problem(short_put):
    once = Scenario.parse({"shock": {"BTC": -0.5}}).apply(short_put)
    assert once.positions[0].reference_price == 100_000.0
    twice = Scenario.parse({"shock": {"BTC": -0.2}}).apply(once)  # P&L since the first mark, not the second
    assert twice.positions[0].reference_price == 100_000.0
    direct = Scenario.parse({"price": {"BTC": 40_000.0}}).apply(short_put)
    layout = Layout.from_problem(short_put)
    assert Numbers.from_problem(twice, layout).pnl[0] == pytest.approx(Numbers.from_problem(direct, layout).pnl[0],
                                                                        rel=1e-12)
    untouched = Scenario.parse({"shock": {"USDC": -0.01}}).apply(short_put)  # BTC did not move
    assert untouched.positions[0].reference_price is None
    assert allocator.Problem.model_validate_json(once.model_dump_json(by_alias=True)) == once  # round-trips


def test_pnl_columns_in_what_if_and_batch_rows(short_put):
    scenarios = [{"id": "base"}, {"id": "crash", "shock": {"BTC": -0.6}},
                 {"id": "too-much", "shock": {"BTC": -0.6}, "holdings": {"USDC@custody": 200_000.0}}]
    table = what_if(short_put, scenarios).set_index("scenario")
    crash = allocator.Allocator(short_put).solve(scenarios[1], plan=False).accounts_frame
    assert table.loc["base", "pnl.deribit"] == 0.0 and table.loc["crash", "pnl.cash"] == 0.0
    assert table.loc["crash", "pnl.deribit"] == crash.loc["deribit", "pnl"]
    assert table.loc["crash", "required.deribit"] == crash.loc["deribit", "required"]
    # an infeasible row still says what the loss is and what it asks for
    assert table.loc["too-much", "status"] == "infeasible"
    assert table.loc["too-much", "pnl.deribit"] == crash.loc["deribit", "pnl"]
    assert table.loc["too-much", "required.deribit"] == pytest.approx(crash.loc["deribit", "required"], rel=1e-12)
    batch = solve_chunk("short-put", short_put, "job", None,
                        [(str(i), s["id"], {k: v for k, v in s.items() if k != "id"}) for i, s in enumerate(scenarios)])
    pd.testing.assert_series_equal(batch.set_index("scenario")["pnl.deribit"], table["pnl.deribit"])
