"""The transition plan: safe order, splits, deposits before withdrawals, funding when no safe order exists,
and validate_plan catching every kind of bad plan."""

from __future__ import annotations

import pytest
from helpers import PROBLEMS, assert_verified

import allocator
from allocator.result import Step


def swap_problem(requirement: float) -> allocator.Problem:
    """A holds BTC but is paid to hold USDC; B the opposite. Each holds 1000 of collateral today."""
    return allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0}, {"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "BTC", "location": "A", "quantity": 10.0},
                     {"asset": "USDC", "location": "B", "quantity": 1000.0}],
        "accounts": [
            {"id": "A", "requirement": requirement, "haircuts": {"BTC": 0.0, "USDC": 0.0}, "yields": {"USDC": 0.05}},
            {"id": "B", "requirement": requirement, "haircuts": {"BTC": 0.0, "USDC": 0.0}, "yields": {"BTC": 0.05}},
        ],
        "routes": [{"from": "A", "to": "B"}, {"from": "B", "to": "A"}],
    })


def test_swap_with_headroom_is_split_safely():
    problem = swap_problem(900.0)  # 100 of headroom each
    result = allocator.optimize(problem)
    assert result.plan_safe and not result.funding
    assert len(result.plan) > 2  # the two transfers had to be split
    assert max(step.value for step in result.plan) < 1000.0
    assert_verified(problem, result)
    assert {(t.asset, t.location): t.quantity for t in result.targets if t.quantity > 0} == pytest.approx(
        {("BTC", "B"): 10.0, ("USDC", "A"): 1000.0})


def test_swap_without_headroom_needs_funding():
    problem = swap_problem(1000.0)
    result = allocator.optimize(problem)
    assert not result.plan_safe
    assert result.funding and result.funding[0].amount == pytest.approx(1000.0, rel=1e-6)
    flagged = [step for step in result.plan if step.needs_funding]
    assert [f.step for f in result.funding] == [step.step for step in flagged]
    violations = allocator.validate_plan(problem, result)
    assert violations and {v.step for v in violations} == {s.step for s in flagged}
    assert_verified(problem, result)


def test_swap_fixture_says_it_needs_funding():
    problem = allocator.load_problem(PROBLEMS / "swap.toml")
    result = allocator.optimize(problem)
    assert not result.plan_safe and result.funding
    assert any("funded temporarily" in note for note in result.diagnostics.notes)


def test_deposits_come_before_withdrawals():
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0, "carry": 0.03}, {"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "BTC", "location": "acct", "quantity": 10.0},
                     {"asset": "USDC", "location": "vault", "quantity": 2000.0}],
        "accounts": [{"id": "acct", "requirement": 1000.0, "haircuts": {"BTC": 0.0, "USDC": 0.0},
                      "yields": {"USDC": 0.05}}],
    })
    result = allocator.optimize(problem)
    kinds = [(step.asset, step.from_, step.to) for step in result.plan]
    assert kinds.index(("USDC", "vault", "acct")) < kinds.index(("BTC", "acct", "vault"))
    assert result.plan_safe
    assert_verified(problem, result)


def test_under_margined_account_never_falls_further():
    """An account below its requirement today keeps at least what it has at every step."""
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0}, {"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "BTC", "location": "acct", "quantity": 5.0},
                     {"asset": "USDC", "location": "vault", "quantity": 5000.0}],
        "accounts": [{"id": "acct", "requirement": 2000.0, "haircuts": {"BTC": 0.2, "USDC": 0.0},
                      "yields": {"USDC": 0.05}}],
    })
    result = allocator.optimize(problem)
    assert result.plan_safe
    assert_verified(problem, result)


# ---- validate_plan on plans built by hand ----

@pytest.fixture()
def desk_result(desk):
    return allocator.optimize(desk)


def _step(number: int, asset: str, source: str, destination: str, quantity: float) -> Step:
    return Step(step=number, asset=asset, from_=source, to=destination, quantity=quantity, value=0.0, cost=0.0)


def test_valid_plan_has_no_violations(desk, desk_result):
    assert allocator.validate_plan(desk, desk_result) == []
    assert allocator.validate_plan(desk, desk_result.plan, desk_result.targets) == []


def test_overdraw_is_reported(desk):
    violations = allocator.validate_plan(desk, [_step(1, "BTC", "custody-a", "cex-perps", 1e6)])
    assert [v.kind for v in violations] == ["overdraw"]
    assert "custody-a" in str(violations[0])


def test_missing_route_is_reported(desk):
    violations = allocator.validate_plan(desk, [_step(1, "BTC", "custody-a", "custody-b", 0.1)])
    assert [v.kind for v in violations] == ["route"]


def test_route_asset_restriction_is_reported(desk):
    restricted = next(r for r in desk.routes if r.assets is not None)
    asset = next(a.id for a in desk.assets if a.id not in restricted.assets)
    holder = next(h for h in desk.holdings if h.location == restricted.from_ and h.asset == asset) \
        if any(h.location == restricted.from_ and h.asset == asset for h in desk.holdings) else None
    quantity = 0.0001 if holder is None else holder.quantity / 2
    violations = allocator.validate_plan(desk, [_step(1, asset, restricted.from_, restricted.to, quantity)])
    assert "route" in [v.kind for v in violations]


def test_floor_breach_is_reported(desk, desk_result):
    account = desk_result.accounts[0]
    posted = [t for t in desk_result.targets if t.location == account.id and t.initial_quantity > 0]
    big = max(posted, key=lambda t: t.initial_quantity * 1.0)
    back = next(r.to for r in desk.routes if r.from_ == account.id and r.carries(big.asset))
    violations = allocator.validate_plan(desk, [_step(1, big.asset, account.id, back, big.initial_quantity)])
    assert [v.kind for v in violations] == ["floor"]
    assert account.id in violations[0].message


def test_wrong_end_state_is_reported(desk, desk_result):
    plan = desk_result.plan[:-1]
    violations = allocator.validate_plan(desk, plan, desk_result.targets)
    assert violations and all(v.kind == "target" and v.step == 0 for v in violations)


def test_non_positive_quantity_and_unknown_asset(desk):
    violations = allocator.validate_plan(desk, [_step(1, "BTC", "custody-a", "cex-perps", 0.0),
                                                _step(2, "DOGE", "custody-a", "cex-perps", 1.0)])
    assert [v.kind for v in violations] == ["quantity", "route"]
