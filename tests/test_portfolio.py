"""The treasury-wide limit ([portfolio], program/_portfolio.py), checked in numpy from the targets."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS, assert_verified

import allocator


def perps(portfolio: dict | None, requirement_scale: float = 1.0) -> allocator.Problem:
    data = allocator.load_problem(PROBLEMS / "perps-risk.toml").model_dump(by_alias=True)
    data["portfolio"] = portfolio
    for account in data["accounts"]:
        account["risk"] = None
        account["requirement"] *= requirement_scale
    return allocator.Problem.model_validate(data)


def independent(problem: allocator.Problem, result: allocator.Result) -> tuple[float, float, dict[str, float]]:
    """Total collateral, z * sigma of the whole book and the total after each scenario, from the targets."""
    price = {a.id: a.price for a in problem.assets}
    held = {(t.asset, t.location): t.quantity for t in result.targets}
    accounts = {a.id for a in problem.accounts}
    market = problem.market
    vol = np.array([market.volatility[a] for a in market.assets])
    covariance = np.outer(vol, vol) * np.array(market.correlation) * problem.portfolio.horizon_days / 365
    book = np.array([sum(price[a] * held.get((a, k), 0.0) for k in accounts) for a in market.assets])
    exposure = np.array([sum(p.quantity * price[a] for p in problem.positions if p.underlying == a)
                         for a in market.assets])
    total = book + exposure
    sigma = float(np.sqrt(total @ covariance @ total))
    collateral = sum((1 - h) * price[a] * held.get((a, account.id), 0.0)
                     for account in problem.accounts for a, h in account.haircuts.items())
    stressed = {s.name: sum((1 - h) * price[a] * held.get((a, account.id), 0.0) * (1 + s.returns.get(a, 0.0))
                            for account in problem.accounts for a, h in account.haircuts.items())
                + sum(p.quantity * price[p.underlying] * s.returns.get(p.underlying, 0.0) for p in problem.positions)
                for s in problem.stress_scenarios}
    return collateral, problem.portfolio.z * sigma, stressed


def test_portfolio_limit_holds_in_numpy_and_binds():
    free = allocator.optimize(perps(None))
    problem = perps({"horizon_days": 2.0, "confidence": 0.99})
    result = allocator.optimize(problem)
    assert_verified(problem, result)
    collateral, z_sigma, stressed = independent(problem, result)
    requirement = sum(a.requirement for a in problem.accounts)
    assert collateral - z_sigma >= requirement * (1 - 1e-9)
    assert min(stressed.values()) >= requirement * (1 - 1e-9)
    assert result.portfolio is not None
    assert result.portfolio.sigma * problem.portfolio.z == pytest.approx(z_sigma, rel=1e-9)
    assert result.portfolio.collateral == pytest.approx(collateral, rel=1e-9)
    assert result.objective.total >= free.objective.total - 1e-9
    assert any(b.label.startswith("portfolio[") for b in result.binding)


def test_portfolio_without_stress_has_only_the_parametric_row():
    problem = perps({"horizon_days": 2.0, "confidence": 0.99, "stress": False})
    result = allocator.optimize(problem)
    assert result.portfolio.worst_scenario is None
    collateral, z_sigma, _ = independent(problem, result)
    assert collateral - z_sigma >= sum(a.requirement for a in problem.accounts) * (1 - 1e-9)


def test_infeasible_portfolio_limit_is_diagnosed():
    problem = perps({"horizon_days": 30.0, "confidence": 0.999}, requirement_scale=3.0)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(problem)
    assert "portfolio" in {row.account for row in caught.value.diagnosis.shortfalls}, caught.value


def test_portfolio_needs_a_market():
    data = perps(None).model_dump(by_alias=True)
    data["portfolio"] = {"horizon_days": 1.0}
    data["market"] = None
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert ("portfolio", "missing_market") in {(i.location, i.code) for i in caught.value.issues}
