"""The problem's risk limits at the end state of the transition (issue 11, item 3): stress scenarios and the
parametric limit are applied and checked; CVaR and the portfolio limit (and a parametric limit with move limits)
are refused, located; a desk that can be covered but not under its risk limits is told so."""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm
from transition_helpers import CRASH, TINY, with_risk

import allocator
from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition


def _end(result) -> tuple[float, float]:
    held = result.targets_frame.set_index(["asset", "location"])["value"]
    return float(held.get(("BTC", "exchange"), 0.0)), float(held.get(("USDC", "exchange"), 0.0))


def test_a_stress_scenario_is_met_at_the_end():
    """By hand: after the crash BTC at the exchange counts (1 - 0.6)(1 - 0.5) = 0.2 of its value, USDC 1. Without
    the limit the desk posts mostly BTC (it carries nothing, USDC 4%) and would be short after the crash; with it
    the stressed collateral is at least the requirement (5M)."""
    free = plan_transition(with_risk(None, CRASH))
    btc, usdc = _end(free)
    assert 0.2 * btc + usdc < 5_000_000 * 0.9  # the scenario would bite
    limited_problem = with_risk({"parametric": False}, CRASH)
    limited = plan_transition(limited_problem)
    assert validate_transition(limited_problem, limited) == []
    btc, usdc = _end(limited)
    assert 0.2 * btc + usdc >= 5_000_000
    assert 0.4 * btc + usdc >= 5_000_000
    assert limited.costs.total > free.costs.total  # the limit costs money


def test_the_parametric_limit_is_met_at_the_end():
    """collateral - z sqrt(2/365) ||(0.5 BTC, 0.01 USDC)|| >= 5M (independent assets, z at 99%)."""
    p = with_risk({"horizon_days": 2, "confidence": 0.99})
    result = plan_transition(p)
    assert validate_transition(p, result) == []
    btc, usdc = _end(result)
    sigma = math.sqrt(2 / 365) * math.hypot(0.5 * btc, 0.01 * usdc)
    assert 0.4 * btc + usdc - norm.ppf(0.99) * sigma >= 5_000_000
    free = plan_transition(with_risk(None))
    btc, usdc = _end(free)
    assert 0.4 * btc + usdc - norm.ppf(0.99) * math.sqrt(2 / 365) * math.hypot(0.5 * btc, 0.01 * usdc) < 5_000_000


def test_validate_transition_reports_a_missed_scenario():
    """The plan of the desk without the limit, checked against the problem with it."""
    free = plan_transition(with_risk(None, CRASH))
    kinds = {v.kind for v in validate_transition(with_risk({"parametric": False}, CRASH), free)}
    assert kinds == {"stress"}
    kinds = {v.kind for v in validate_transition(with_risk({"horizon_days": 2}), free)}
    assert kinds == {"risk"}


def test_limits_the_transition_cannot_apply_are_refused_located():
    bad = with_risk({"cvar_confidence": 0.95}, portfolio={"horizon_days": 1.0},
                  schedule={**TINY["schedule"], "periods": 12, "max_moves": 10})
    with pytest.raises(allocator.InputError) as error:
        plan_transition(bad)
    located = {issue.location: issue.code for issue in error.value.issues}
    assert located == {"accounts[0].risk.cvar_confidence": "not_supported",
                       "accounts[0].risk.parametric": "not_supported", "portfolio": "not_supported"}


def test_a_desk_covered_but_not_under_its_scenarios_is_told_so():
    """Everything loses 90%: no end state meets the scenario, though the exchange can be covered."""
    hopeless = with_risk({"parametric": False}, [{"name": "wipe-out", "returns": {"BTC": -0.9, "USDC": -0.9}}])
    with pytest.raises(TransitionInfeasibleError) as error:
        plan_transition(hopeless)
    assert "end-state risk limit stress[exchange,wipe-out] short by" in str(error.value)
    assert "exchange short by" in str(error.value)
    assert error.value.diagnosis.shortfalls["exchange"] > 0
