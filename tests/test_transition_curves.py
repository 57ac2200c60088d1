"""Collateral curves in the transition (issue 12, item 2): a pair on a concave curve is credited through chords in
the program and at the exact curve in the replay, the reported figures and the floor repair; the plan validates
independently (the single-period plan Ledger evaluates curves exactly)."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from helpers import PROBLEMS
from test_haircut_models import TIERS, desk
from transition_helpers import TINY, floors_of

import allocator
from allocator.transition import plan_transition, validate_transition
from allocator.transition._result import TransitionResult

#: The exchange's BTC on a liquidity-adjusted curve: 0.6 v - 0.5 v^1.5 / sqrt(1e9) (below its peak at 2.56e9).
LIQUIDITY = {"model": "liquidity", "haircut": 0.4, "eta": 0.5, "adv": 1e9}


def by_hand(v: float) -> float:
    """The LIQUIDITY curve's credit for posted value ``v`` (currency)."""
    return 0.6 * v - 0.5 * v ** 1.5 / math.sqrt(1e9)


def curved_tiny(model: dict[str, Any] | None = LIQUIDITY, **changes: Any) -> allocator.Problem:
    """TINY (100 BTC in a wallet, the exchange needs 5M) with the exchange's BTC on ``model`` (None: the flat
    40% haircut the LIQUIDITY curve has at small postings)."""
    data = copy.deepcopy(TINY)
    account = data["accounts"][0]
    account["haircuts"] = {"USDC": 0.0} if model is not None else {"BTC": 0.4, "USDC": 0.0}
    if model is not None:
        account["haircut_models"] = {"BTC": model}
    data.update(changes)
    return allocator.Problem.model_validate(data)


def held_at(result: TransitionResult, location: str, asset: str) -> float:
    return sum(t.value for t in result.targets if t.location == location and t.asset == asset)


def exchange_path(result: TransitionResult, hours: float) -> list[tuple[float, float]]:
    """(BTC, USDC) value at the exchange at the end of every period, from the plan's transfers (TINY's exchange
    only receives)."""
    out = []
    for t in range(1, result.periods + 1):
        arrived = [s for s in result.steps if s.kind == "transfer" and s.to == "exchange"
                   and s.arrival_hours <= t * hours + 1e-9]
        out.append(tuple(sum(s.value for s in arrived if s.asset == a) for a in ("BTC", "USDC")))  # type: ignore
    return out  # type: ignore[return-value]


def test_a_liquidity_curve_plans_replays_and_reports_the_exact_collateral():
    """Every reported figure is the curve evaluated by hand at the replayed holdings, never the chords."""
    problem = curved_tiny()
    result = plan_transition(problem)
    assert result.status == "optimal" and validate_transition(problem, result) == []
    path = exchange_path(result, 1.0)
    for row in result.coverage:
        btc, usdc = path[row.period - 1]
        assert row.end == pytest.approx(by_hand(btc) + usdc, rel=1e-12, abs=1e-6)
        before = path[row.period - 2] if row.period > 1 else (0.0, 0.0)  # nothing leaves the exchange
        assert row.lowest == pytest.approx(by_hand(before[0]) + before[1], rel=1e-12, abs=1e-6)
    btc, usdc = held_at(result, "exchange", "BTC"), held_at(result, "exchange", "USDC")
    assert by_hand(btc) + usdc >= 5_000_000 * (1 - 1e-12)


def test_a_binding_curve_changes_the_plan_and_the_flat_plan_would_be_short():
    """5M of credit at a flat 0.6 takes 8.33M of BTC; on the curve 8.33M of BTC gives 0.6 x 8.33M - 0.5 x
    8.33M^1.5 / sqrt(1e9) = 4.62M. The curved plan posts more (or buys USDC) and covers the requirement exactly
    on the curve; the flat plan, evaluated on the curve, would leave the exchange short."""
    curved, flat = curved_tiny(), curved_tiny(None)
    with_curve, without = plan_transition(curved), plan_transition(flat)
    assert validate_transition(curved, with_curve) == [] and validate_transition(flat, without) == []
    flat_btc = held_at(without, "exchange", "BTC")
    assert flat_btc == pytest.approx(5e6 / 0.6, rel=1e-4)
    assert by_hand(flat_btc) + held_at(without, "exchange", "USDC") < 4.7e6  # the flat plan, on the curve: short
    btc, usdc = held_at(with_curve, "exchange", "BTC"), held_at(with_curve, "exchange", "USDC")
    assert btc + usdc > flat_btc * 1.02  # more value posted: the marginal credit is below the average
    assert by_hand(btc) + usdc >= 5e6 * (1 - 1e-12)
    assert with_curve.costs.total > without.costs.total
    frame = with_curve.coverage_frame
    assert (frame["lowest"] >= frame["floor"]).all()


def two_accounts(other: float) -> allocator.Problem:
    """The exchange holds 100 BTC (10M) on the LIQUIDITY curve (5.5M of credit) and needs 4M; ``other`` needs
    ``other`` in BTC at full value and can only get it from the exchange (a route without delay). On the curve the
    exchange can give up to about 2.82M before it falls to 4M (0.6 v - 0.5 v^1.5 / sqrt(1e9) = 4M at v = 7.18M),
    the program's chords 2.79M (the chord from 4.33M to 10M reaches 4M at 7.206M); at its flat 0.6 it could give
    3.33M."""
    return allocator.Problem.model_validate({
        "horizon_days": 30, "schedule": {"periods": 3, "period_hours": 1.0, "participation": 0.1},
        "assets": [{"id": "BTC", "price": 100_000.0, "adv": 1e9, "volatility": 0.5}],
        "holdings": [{"asset": "BTC", "location": "exchange", "quantity": 100.0}],
        "accounts": [{"id": "exchange", "requirement": 4e6, "haircut_models": {"BTC": LIQUIDITY}},
                     {"id": "other", "requirement": other, "haircuts": {"BTC": 0.0}}],
        "routes": [{"from": "exchange", "to": "other", "cost_bps": 1.0, "delay_hours": 0.0}]})


def test_a_curved_account_giving_collateral_never_falls_below_its_floor():
    """The exchange gives 2.79M of BTC and ends near its floor (4M) on the exact curve, at no checkpoint below."""
    problem = two_accounts(2.79e6)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []
    left = held_at(result, "exchange", "BTC")
    assert left == pytest.approx(10e6 - 2.79e6, rel=1e-5)
    exchange = [row for row in result.coverage if row.account == "exchange"]
    assert all(row.floor == 4e6 and row.lowest >= row.floor for row in exchange)
    assert exchange[-1].end == pytest.approx(by_hand(left), rel=1e-12)
    assert by_hand(left) < 4e6 * 1.005  # the floor nearly binds


def test_a_transfer_the_flat_haircut_would_allow_is_infeasible_on_the_curve():
    """3.2M fits the flat 0.6 (3.33M) but not the curve (2.82M)."""
    with pytest.raises(allocator.transition.TransitionInfeasibleError):
        plan_transition(two_accounts(3.2e6))


def test_the_floor_repair_is_exact_on_the_curve():
    """floors.Floors.hold: a departure that would take the exchange below its floor is scaled so that its exact
    collateral lands on the floor (a linear scale on the slope at zero would not)."""
    problem = two_accounts(2.8e6)
    periods, data, departures, (source, leaves), floors = floors_of(problem)
    assert floors.floor[0] == pytest.approx(4e6, rel=1e-12)
    move = np.where(leaves, 3.5e6, 0.0)  # more than the curve allows
    prev = data.x0 * data.money
    floors.hold(prev, departures @ move, np.zeros_like(prev), move)
    sent = float(move[leaves].sum())
    assert 2.7e6 < sent < 2.9e6
    assert by_hand(10e6 - sent) == pytest.approx(4e6, rel=1e-12)
    assert by_hand(10e6 - sent) >= 4e6


@pytest.mark.parametrize("model", [{"model": "tiered", "tiers": TIERS},
                                   {"model": "size", "weight": 0.9, "imf": 0.0005},
                                   {"model": "liquidity", "haircut": 0.05, "eta": 0.5, "adv": 2e8}],
                         ids=["tiered", "size", "liquidity"])
def test_one_instant_period_costs_the_single_period_optimum(model):
    """An independent formulation: one period of (nearly) no length, free immediate moves through the hub and
    nothing at the account today, so the transition's cost is the single-period optimum (HiGHS, its own chords)
    up to the coverage margin."""
    problem = desk({"BTC": model})
    single = allocator.optimize(problem)
    transition = problem.with_changes(schedule={"periods": 1, "period_hours": 1e-6})
    result = plan_transition(transition)
    assert validate_transition(transition, result) == []
    assert result.costs.total == pytest.approx(single.objective.total, rel=1e-4)
    assert held_at(result, "venue", "BTC") == pytest.approx(
        sum(t.value for t in single.targets if t.asset == "BTC" and t.location == "venue"), rel=1e-4)


def test_a_tiered_rulebook_fixture_plans_and_validates():
    """stress-desk.toml's Binance account credits BTC at its tiered collateral ratio (a rulebook curve)."""
    problem = allocator.load_problem(PROBLEMS / "stress-desk.toml")
    assert "BTC" in problem.terms["binance"].curves
    transition = problem.with_changes(schedule={"periods": 2, "period_hours": 1.0, "participation": 0.1})
    result = plan_transition(transition)
    assert result.status == "optimal" and validate_transition(transition, result) == []
    frame = result.coverage_frame
    assert (frame["lowest"] >= frame["floor"] - 1e-9 * result.diagnostics.money_scale).all()


def test_a_stress_scenario_counts_a_curved_pair_at_its_moved_credit():
    """A crash of 50% on the curved BTC: the end state covers the requirement after the crash, checked on the
    exact curve at half the posted value (validate_transition and by hand)."""
    problem = curved_tiny(market={"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.5, "USDC": 0.01},
                                  "correlation": [[1, 0], [0, 1]]},
                          stress_scenarios=[{"name": "crash", "returns": {"BTC": -0.5}}])
    data = problem.model_dump(by_alias=True, exclude_none=True)
    data["accounts"][0]["risk"] = {"parametric": False}
    problem = allocator.Problem.model_validate(data)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []
    btc, usdc = held_at(result, "exchange", "BTC"), held_at(result, "exchange", "USDC")
    assert by_hand(0.5 * btc) + usdc >= 5e6 * (1 - 1e-9)


def test_move_limits_keep_the_curve_exact():
    """The heuristic's linear programs carry the same chords; its plan validates and ends covered on the curve."""
    data = curved_tiny().model_dump(by_alias=True, exclude_none=True)
    data["schedule"]["max_moves"] = 8
    problem = allocator.Problem.model_validate(data)
    result = plan_transition(problem, heuristic=True)
    assert validate_transition(problem, result) == [] and len(result.steps) <= 8
    btc, usdc = held_at(result, "exchange", "BTC"), held_at(result, "exchange", "USDC")
    assert by_hand(btc) + usdc >= 5e6 * (1 - 1e-12)
    assert result.coverage[-1].end == pytest.approx(by_hand(btc) + usdc, rel=1e-12)
