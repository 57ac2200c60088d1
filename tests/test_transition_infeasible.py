"""Infeasible transitions (too little time, too little capacity, too little liquidity): diagnosed by the elastic
program, with the uncovered accounts and the binding limit named."""

from __future__ import annotations

import pytest
from transition_helpers import tiny

import allocator
from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition


def _diagnosis(problem: allocator.Problem):
    with pytest.raises(TransitionInfeasibleError) as error:
        plan_transition(problem)
    assert isinstance(error.value, allocator.AllocatorError)
    return error.value.diagnosis, str(error.value)


def test_too_little_capacity_names_the_route():
    # 4 hours: departures in periods 1..3 only (the route takes 2 hours), 2M each, BTC in period 1 counts 40%:
    # at most 0.8M + 2 x 2M = 4.8M of the 5M reach the exchange
    diagnosis, text = _diagnosis(tiny(schedule={"periods": 4}))
    assert diagnosis.by_account() == pytest.approx({"exchange": 200_000.0}, rel=1e-5)
    assert diagnosis.binding[0].family == "capacity"
    assert diagnosis.binding[0].name == "capacity[wallet->exchange]"
    assert diagnosis.binding[0].relief == pytest.approx(200_000.0, rel=1e-5)
    assert "exchange short by " in text and "capacity[wallet->exchange]" in text  # 200,000 to the solver tolerance


def test_too_little_time_is_named():
    # one hour and a two-hour route: nothing can arrive in time
    diagnosis, text = _diagnosis(tiny(schedule={"periods": 1}))
    assert diagnosis.by_account() == pytest.approx({"exchange": 5_000_000.0}, rel=1e-6)
    assert [b.family for b in diagnosis.binding] == ["time"]
    assert diagnosis.binding[0].name == "time[1 x 1 h]" and diagnosis.binding[0].relief > 0
    assert "too little time" in text


def test_too_little_liquidity_names_the_participation_limit():
    # a fast, wide route but a tiny participation: the BTC cannot be sold in time and BTC alone (haircut 0.6)
    # is worth only 4M of collateral
    problem = tiny(schedule={"periods": 3, "participation": 0.002}, route={"capacity": None, "delay_hours": 0.0})
    diagnosis, _ = _diagnosis(problem)
    assert set(diagnosis.by_account()) == {"exchange"}
    assert diagnosis.binding[0].family == "participation"
    assert diagnosis.binding[0].name == "participation[BTC]"
    assert diagnosis.binding[0].relief == pytest.approx(sum(diagnosis.by_account().values()), rel=1e-5)


def test_feasible_with_more_time():
    result = plan_transition(tiny(schedule={"periods": 8}))
    assert result.status == "optimal"


def test_liquidation_horizon_caps_what_an_account_holds():
    """liquidation_days = 0.01 at 10% participation: the exchange may hold at most 0.1 x 1e9 x 0.01 = 1M of BTC
    (and 10M of USDC), so most of its 5M must arrive as USDC; the same plan under 0.001 days breaks the limit."""
    problem = tiny(schedule={"periods": 8, "liquidation_days": 0.01})
    result = plan_transition(problem)
    btc = sum(t.value for t in result.targets if t.asset == "BTC" and t.location == "exchange")
    assert btc <= 0.1 * 1e9 * 0.01 * (1 + 1e-9)
    assert validate_transition(problem, result) == []
    stricter = tiny(schedule={"periods": 8, "liquidation_days": 0.001})
    assert "liquidation" in {v.kind for v in validate_transition(stricter, result.steps)}


def test_too_little_liquidation_depth_is_named():
    # USDC can hold at most 0.1 x 1e10 x 0.001 = 1M, BTC 0.1M: the exchange cannot reach 5M
    diagnosis, _ = _diagnosis(tiny(schedule={"periods": 8, "liquidation_days": 0.001}))
    assert diagnosis.binding[0].family == "liquidation"
    assert diagnosis.binding[0].name.startswith("liquidation[exchange,")


def test_withdrawal_limit_is_named():
    problem = tiny(schedule={"periods": 4, "withdrawal_limits": {"wallet": 1_000_000.0}}, route={"capacity": None})
    diagnosis, _ = _diagnosis(problem)
    assert diagnosis.binding[0].family == "withdrawal"
    assert diagnosis.binding[0].name == "withdrawal[wallet]"
