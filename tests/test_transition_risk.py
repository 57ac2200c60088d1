"""The problem's risk limits at the end state of the transition (issue 11, item 3): stress scenarios and the
parametric limit are applied and checked; CVaR and the portfolio limit (and a parametric limit with move limits)
are refused, located; a desk that can be covered but not under its risk limits is told so."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from scipy.stats import norm
from transition_helpers import TINY

import allocator
from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition

MARKET = {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.5, "USDC": 0.01}, "correlation": [[1, 0], [0, 1]]}
CRASH = [{"name": "crash", "returns": {"BTC": -0.5}}]


def problem(risk: dict[str, Any] | None, scenarios: list[dict[str, Any]] | None = None, **changes: Any
            ) -> allocator.Problem:
    """TINY over 12 hours (100 BTC in a wallet; the exchange needs 5M, BTC at a 60% haircut), with a market."""
    data = copy.deepcopy(TINY)
    data["schedule"]["periods"] = 12
    data["market"] = MARKET
    if risk is not None:
        data["accounts"][0]["risk"] = risk
    data["stress_scenarios"] = scenarios or []
    data.update(changes)
    return allocator.Problem.model_validate(data)


def _end(result) -> tuple[float, float]:
    held = result.targets_frame.set_index(["asset", "location"])["value"]
    return float(held.get(("BTC", "exchange"), 0.0)), float(held.get(("USDC", "exchange"), 0.0))


def test_a_stress_scenario_is_met_at_the_end():
    """By hand: after the crash BTC at the exchange counts (1 - 0.6)(1 - 0.5) = 0.2 of its value, USDC 1. Without
    the limit the desk posts mostly BTC (it carries nothing, USDC 4%) and would be short after the crash; with it
    the stressed collateral is at least the requirement (5M)."""
    free = plan_transition(problem(None, CRASH))
    btc, usdc = _end(free)
    assert 0.2 * btc + usdc < 5_000_000 * 0.9  # the scenario would bite
    limited_problem = problem({"parametric": False}, CRASH)
    limited = plan_transition(limited_problem)
    assert validate_transition(limited_problem, limited) == []
    btc, usdc = _end(limited)
    assert 0.2 * btc + usdc >= 5_000_000
    assert 0.4 * btc + usdc >= 5_000_000
    assert limited.costs.total > free.costs.total  # the limit costs money


def test_the_parametric_limit_is_met_at_the_end():
    """collateral - z sqrt(2/365) ||(0.5 BTC, 0.01 USDC)|| >= 5M (independent assets, z at 99%)."""
    p = problem({"horizon_days": 2, "confidence": 0.99})
    result = plan_transition(p)
    assert validate_transition(p, result) == []
    btc, usdc = _end(result)
    sigma = math.sqrt(2 / 365) * math.hypot(0.5 * btc, 0.01 * usdc)
    assert 0.4 * btc + usdc - norm.ppf(0.99) * sigma >= 5_000_000
    free = plan_transition(problem(None))
    btc, usdc = _end(free)
    assert 0.4 * btc + usdc - norm.ppf(0.99) * math.sqrt(2 / 365) * math.hypot(0.5 * btc, 0.01 * usdc) < 5_000_000


def test_validate_transition_reports_a_missed_scenario():
    """The plan of the desk without the limit, checked against the problem with it."""
    free = plan_transition(problem(None, CRASH))
    kinds = {v.kind for v in validate_transition(problem({"parametric": False}, CRASH), free)}
    assert kinds == {"stress"}
    kinds = {v.kind for v in validate_transition(problem({"horizon_days": 2}), free)}
    assert kinds == {"risk"}


def test_limits_the_transition_cannot_apply_are_refused_located():
    bad = problem({"cvar_confidence": 0.95}, portfolio={"horizon_days": 1.0},
                  schedule={**TINY["schedule"], "periods": 12, "max_moves": 10})
    with pytest.raises(allocator.InputError) as error:
        plan_transition(bad)
    located = {issue.location: issue.code for issue in error.value.issues}
    assert located == {"accounts[0].risk.cvar_confidence": "not_supported",
                       "accounts[0].risk.parametric": "not_supported", "portfolio": "not_supported"}


def test_a_desk_covered_but_not_under_its_scenarios_is_told_so():
    """Everything loses 90%: no end state meets the scenario, though the exchange can be covered."""
    hopeless = problem({"parametric": False}, [{"name": "wipe-out", "returns": {"BTC": -0.9, "USDC": -0.9}}])
    with pytest.raises(TransitionInfeasibleError) as error:
        plan_transition(hopeless)
    assert "end-state risk limit stress[exchange,wipe-out] short by" in str(error.value)
    assert "exchange short by" in str(error.value)
    assert error.value.diagnosis.shortfalls["exchange"] > 0
