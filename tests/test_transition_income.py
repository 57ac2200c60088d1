"""The transition's cost is the true change of the desk's income plus what it pays to move and trade.

Every holding earns its carry where it sits free and the account's yield where it is posted; the cost counts the
income forgone against today's holdings held unchanged, so doing nothing costs 0 and a trade out of a high-carry
asset is a loss even when the asset bought is posted where it earns a yield (issue 11, item 3).
"""

from __future__ import annotations

from typing import Any

import pytest

import allocator
from allocator.transition import plan_transition, validate_transition

DAY, YEAR = 24.0, 365.0
R = 10_000_000.0  # the lender's requirement (no buffer, ETH at a 0% haircut): 10M of ETH must be posted
FEE, ROUTE = 5e-4, 1e-4  # venue fee (5 bps per leg), route cost (1 bp)
CARRY_USDC, YIELD_ETH, HORIZON = 0.05, 0.02, 30.0
#: 1 USD of ETH posted today (the input checks want an eligible asset held somewhere); it stays where it is
TODAY = [{"asset": "USDC", "location": "wallet", "quantity": 12_000_000.0},
         {"asset": "ETH", "location": "lender", "quantity": 1 / 2500}]
B = R - 1.0  # the ETH to buy and post


def carry_trade(**changes: Any) -> allocator.Problem:
    """12M USDC earning 5% in a wallet; a lender that accepts only ETH (paying 2% on it) needs 10M; ETH earns
    nothing free. Two 1-hour periods: the wallet's venue sells USDC for ETH in period 1 (the ETH lands at its end),
    the route (no delay) posts it in period 2. Nothing else can cover the lender."""
    data: dict[str, Any] = {
        "horizon_days": HORIZON,
        "schedule": {"periods": 2, "period_hours": 1.0, "participation": 0.1},
        "assets": [{"id": "USDC", "price": 1.0, "carry": CARRY_USDC, "adv": 1e10, "volatility": 0.003},
                   {"id": "ETH", "price": 2500.0, "carry": 0.0, "adv": 1e10, "volatility": 0.6}],
        "holdings": TODAY,
        "accounts": [{"id": "lender", "requirement": R, "haircuts": {"ETH": 0.0}, "yields": {"ETH": YIELD_ETH}}],
        "venues": [{"location": "wallet", "assets": ["USDC", "ETH"], "fee_bps": FEE * 1e4}],
        "routes": [{"from": "wallet", "to": "lender", "assets": ["ETH"], "cost_bps": ROUTE * 1e4,
                    "delay_hours": 0.0}],
        **changes,
    }
    return allocator.Problem.model_validate(data)


def test_selling_a_high_carry_asset_to_post_a_low_yield_one_is_a_loss():
    """By hand: the venue sells s USDC for B = R - 1 of ETH (1 USD is posted today) with B + FEE (s + B) = s, so
    s = B (1 + FEE) / (1 - FEE).
    Income forgone, per year: 5% on s from the end of period 1 (weight 1 h), and 5% on s less 2% on the posted
    b from the end of period 2, held for the horizon (weight 1 h + 30 days). The desk loses about 3% a year on
    10M for 30 days (24,657.53) plus the fees and the route's cost: a cost, never the gain of 14,458 the
    old definition (carry forgone at accounts only) reported for this case."""
    problem = carry_trade()
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []
    s = B * (1 + FEE) / (1 - FEE)
    w1, w2 = 1 / DAY / YEAR, 1 / DAY / YEAR + HORIZON / YEAR
    carry = CARRY_USDC * s * w1 + (CARRY_USDC * s - YIELD_ETH * B) * w2
    fees, transfer = s - B, ROUTE * B
    assert carry == pytest.approx(57.13 + 24_732.95, abs=0.01)
    three_percent = (CARRY_USDC - YIELD_ETH) * R * HORIZON / YEAR
    assert three_percent == pytest.approx(24_657.53, abs=0.01)
    c = result.costs
    # the program covers the lender with a margin of 2e-6 of its requirement (the solver's rounding): 1e-5
    assert c.carry == pytest.approx(carry, rel=1e-5)
    assert c.fees == pytest.approx(fees, rel=1e-5)
    assert c.transfer == pytest.approx(transfer, rel=1e-5)
    assert c.spread == c.impact == 0
    assert c.total == pytest.approx(carry + fees + transfer, rel=1e-5)
    assert c.total == pytest.approx(35_795.09, abs=1.0)  # a loss; the old definition said -5,456 (a gain)
    trades = [step for step in result.steps if step.kind == "trade"]
    assert {(t.period, t.asset, t.asset_to) for t in trades} == {(1, "USDC", "ETH")}
    assert sum(t.value for t in trades) == pytest.approx(s, rel=1e-5)


def test_doing_nothing_costs_nothing():
    """A lender already covered by ETH posted today: no step, and every cost term is exactly 0 whatever the
    carry and yields of what is held."""
    problem = carry_trade(holdings=[TODAY[0], {"asset": "ETH", "location": "lender", "quantity": 4_400.0}])
    result = plan_transition(problem)
    assert result.steps == []
    assert result.costs.total == result.costs.carry == 0.0


def test_a_trade_into_higher_income_is_a_gain_worth_its_cost():
    """The cost is signed: with ETH posted at a lender that pays 20% on it (and more ETH than the requirement),
    the desk does better by selling some USDC (5%) to post more ETH there; the cost is then negative, and equal
    to the income gained less the fees, recomputed here from the plan."""
    problem = carry_trade(accounts=[{"id": "lender", "requirement": R, "haircuts": {"ETH": 0.0},
                                     "yields": {"ETH": 0.20}}])
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []
    sold = sum(s.value for s in result.steps if s.kind == "trade")
    posted = sum(s.value for s in result.steps if s.kind == "transfer")
    assert posted > R * 1.01  # more than the requirement: the yield pays for it
    w1, w2 = 1 / DAY / YEAR, 1 / DAY / YEAR + HORIZON / YEAR
    carry = CARRY_USDC * sold * w1 + (CARRY_USDC * sold - 0.20 * posted) * w2
    assert result.costs.carry == pytest.approx(carry, rel=1e-6)
    assert result.costs.total == pytest.approx(carry + (sold - posted) + ROUTE * posted, rel=1e-6)
    assert result.costs.total < 0


def test_fixed_inventory_income_equals_the_single_period_carry_difference():
    """Without venues the inventory cannot change: the income forgone is the single-period carry of the end state
    minus that of today's holdings, weighted over the schedule (here one period: exactly the horizon plus P)."""
    problem = carry_trade(venues=[], holdings=[{"asset": "ETH", "location": "wallet", "quantity": 5_000.0}],
                          schedule={"periods": 1, "period_hours": 1.0, "participation": 0.1})
    result = plan_transition(problem)
    layout = allocator.program._layout.Layout.from_problem(problem)
    numbers = allocator.program._numbers.Numbers.from_problem(problem, layout)
    posted = result.targets_frame.set_index(["asset", "location"])["value"].get(("ETH", "lender"), 0.0)
    # carry_rate is (carry - yield) * horizon / 365 per account cell: ETH at the lender earns 2%, free ETH 0
    weight = (HORIZON + 1 / DAY) / HORIZON
    assert result.costs.carry == pytest.approx(float(numbers.carry_rate[1]) * posted * weight, rel=1e-9)
    assert posted == pytest.approx(12_500_000.0, rel=1e-7)  # all of it: 2% for 30 days beats the route's 1 bp


def test_trades_that_raise_the_exposure_to_volatile_assets_are_stated():
    """10M of USDC (volatility 0.3%) sold for ETH (60%): the desk's volatile holdings go from 1 USD to 10M."""
    result = plan_transition(carry_trade())
    e = result.exposure
    assert e is not None and e.volatile == ["ETH"]
    assert e.before == pytest.approx(1.0) and e.after == pytest.approx(R, rel=1e-5)
    assert any(note.startswith("the trades raise the desk's exposure to volatile assets") and "ETH +" in note
               for note in result.diagnostics.notes)
    calm = plan_transition(carry_trade(holdings=[TODAY[0], {"asset": "ETH", "location": "lender",
                                                           "quantity": 4_400.0}]))
    assert calm.exposure is not None and calm.exposure.after == calm.exposure.before
    assert not any("exposure" in note for note in calm.diagnostics.notes)
