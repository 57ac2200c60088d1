"""The transition plan: safe order, splits, deposits before withdrawals, funding when no safe order exists,
and validate_plan catching every kind of bad plan."""

from __future__ import annotations

import pytest
from helpers import PROBLEMS, assert_verified

import allocator
from allocator.results.result import Step


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


# ---- risk floors: every risk limit keeps min(margin today, 0) at every step ----

CRASH = {"name": "crash", "returns": {"BTC": -0.5, "ETH": -0.5}}


def risk_problem(holdings: list[dict], accounts: list[dict], **extra: object) -> allocator.Problem:
    """BTC and ETH at 100 (volatile), USDC at 1 (no volatility); one "crash" scenario halving BTC and ETH."""
    return allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0}, {"id": "ETH", "price": 100.0}, {"id": "USDC", "price": 1.0}],
        "holdings": holdings, "accounts": accounts,
        "market": {"assets": ["BTC", "ETH", "USDC"], "volatility": {"BTC": 0.8, "ETH": 0.8, "USDC": 0.0},
                   "correlation": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]},
        "stress_scenarios": [CRASH], **extra,
    })


def stress_swap() -> allocator.Problem:
    """A holds 1000 USDC and is paid to hold BTC; B holds 12 BTC and is paid to hold USDC; both need 500 after the
    crash. B's stressed collateral today is 600 (margin 100): the coverage-only order (B's 700 of coverage
    headroom is the largest, so B sent 7 BTC first) left B with 500 of collateral but 250 after the crash."""
    stress_only = {"parametric": False}
    return risk_problem(
        [{"asset": "USDC", "location": "A", "quantity": 1000.0}, {"asset": "BTC", "location": "B", "quantity": 12.0}],
        [{"id": "A", "requirement": 500.0, "haircuts": {"BTC": 0.0, "USDC": 0.0}, "yields": {"BTC": 0.05},
          "risk": stress_only},
         {"id": "B", "requirement": 500.0, "haircuts": {"BTC": 0.0, "USDC": 0.0}, "yields": {"USDC": 0.05},
          "risk": stress_only}],
        routes=[{"from": "A", "to": "B"}, {"from": "B", "to": "A"}])


def _stressed_after_each_step(plan: list[Step], held: dict[tuple[str, str], float], account: str) -> list[float]:
    """By hand: USDC + half the BTC value (the crash), at zero haircuts, after every step."""
    out = []
    for step in plan:
        held[(step.asset, step.from_)] -= step.quantity
        held[(step.asset, step.to)] = held.get((step.asset, step.to), 0.0) + step.quantity
        out.append(held.get(("USDC", account), 0.0) + 0.5 * 100.0 * held.get(("BTC", account), 0.0))
    return out


def test_swap_is_ordered_within_the_stress_limits():
    problem = stress_swap()
    result = allocator.optimize(problem)
    assert result.plan_safe and not result.funding
    assert_verified(problem, result)
    assert allocator.validate_plan(problem, result) == []
    for account in ("A", "B"):
        held = {("USDC", "A"): 1000.0, ("BTC", "B"): 12.0}
        assert min(_stressed_after_each_step(result.plan, held, account)) >= 500.0 - 1e-9, account
    assert (result.plan[0].asset, result.plan[0].from_) == ("USDC", "A")  # A's USDC first makes room for B


def test_coverage_only_order_is_reported_as_a_stress_floor_breach():
    """The plan the coverage-only scheduler gave: B's 7 BTC first (B: 500 of BTC, 250 after the crash), then A's
    1000 USDC (A: 700 of BTC, 350 after the crash), then B's last 5 BTC. Every step keeps coverage."""
    problem = stress_swap()
    plan = [_step(1, "BTC", "B", "A", 7.0), _step(2, "USDC", "A", "B", 1000.0), _step(3, "BTC", "B", "A", 5.0)]
    violations = allocator.validate_plan(problem, plan)
    assert [(v.step, v.kind, v.limit) for v in violations] == [(1, "risk_floor", "stress[crash]"),
                                                                (2, "risk_floor", "stress[crash]")]
    assert violations[0].message.startswith("B's") and "-250.00" in violations[0].message
    assert violations[1].message.startswith("A's") and "-150.00" in violations[1].message


def test_swap_at_both_stress_limits_is_forced_and_funded_by_the_stressed_shortfall():
    """A holds 20 BTC and 500 USDC, B 20 ETH and 500 USDC, both need 1500: each is exactly at its stress limit
    (500 + 2000 / 2) and must give its volatile asset before it gets the other's. No order is safe: A's transfer
    runs in full, flagged, and A needs 1000 of cash: it is left with 500 of collateral (coverage floor 1500) and
    500 after the crash (stress floor: the requirement, 1500). Then B's runs safely (2500 after the crash)."""
    from allocator.plan.ledger import Ledger
    from allocator.plan.order import order
    from allocator.plan.transfers import Transfer

    stress_only = {"parametric": False}
    haircuts = {"BTC": 0.0, "ETH": 0.0, "USDC": 0.0}
    problem = risk_problem(
        [{"asset": "BTC", "location": "A", "quantity": 20.0}, {"asset": "USDC", "location": "A", "quantity": 500.0},
         {"asset": "ETH", "location": "B", "quantity": 20.0}, {"asset": "USDC", "location": "B", "quantity": 500.0}],
        [{"id": "A", "requirement": 1500.0, "haircuts": haircuts, "risk": stress_only},
         {"id": "B", "requirement": 1500.0, "haircuts": haircuts, "risk": stress_only}],
        routes=[{"from": "A", "to": "B"}, {"from": "B", "to": "A"}])
    planned = order(Ledger(problem), [Transfer("BTC", "A", "B", 20.0), Transfer("ETH", "B", "A", 20.0)])
    assert [(s.asset, s.from_, s.quantity, s.needs_funding) for s in planned.steps] == [
        ("BTC", "A", 20.0, True), ("ETH", "B", 20.0, False)]
    assert [(f.step, f.account) for f in planned.funding] == [(1, "A")]
    assert planned.funding[0].amount == pytest.approx(1000.0, rel=1e-12)
    violations = allocator.validate_plan(problem, planned.steps)
    assert sorted((v.step, v.kind, v.limit) for v in violations) == [(1, "floor", ""),
                                                                     (1, "risk_floor", "stress[crash]")]


def test_generated_risk_problem_without_a_safe_order_is_flagged_not_refused():
    """Found by the survey (tests/plan_risk_survey.py, seed 50 with 90% posted and free moves): three accounts must
    swap with their parametric and stress margins at their floors. The engine returns the plan with the steps that
    break a risk floor flagged needs_funding (before: the plan was called safe)."""
    from allocator.io.generate import generate_problem

    problem = generate_problem(seed=50, risk=True, posted_share=0.9, topology="none", n_assets=8)
    result = allocator.optimize(problem)
    assert not result.plan_safe
    flagged = {step.step for step in result.plan if step.needs_funding}
    violations = allocator.validate_plan(problem, result)
    assert "risk_floor" in {v.kind for v in violations} and {v.step for v in violations} <= flagged
    assert {f.step for f in result.funding} == flagged and all(f.amount > 0 for f in result.funding)
    assert_verified(problem, result)


def hedged_account(requirement: float) -> allocator.Problem:
    """"perp" is short 10 BTC perps, hedged by 10 BTC posted (haircut 10%) beside 2000 USDC: sigma is zero today.
    The wallet holds ETH, ineligible at "perp"."""
    return risk_problem(
        [{"asset": "BTC", "location": "perp", "quantity": 10.0}, {"asset": "USDC", "location": "perp",
                                                                   "quantity": 2000.0},
         {"asset": "ETH", "location": "wallet", "quantity": 100.0}],
        [{"id": "perp", "requirement": requirement, "haircuts": {"BTC": 0.1, "USDC": 0.0},
          "risk": {"horizon_days": 1.0, "confidence": 0.99}}],
        positions=[{"account": "perp", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                    "quantity": -10.0}],
        stress_scenarios=[])


def test_withdrawing_a_hedge_is_reported_as_a_parametric_floor_breach():
    """Collateral 2900 today, margin 950 against 1950. Without its BTC the account has 2000 of collateral (coverage
    holds) but the short perp is unhedged: z sigma = 2.326 * 1000 * 0.8 * sqrt(1/365) = 97.4, margin -47.4."""
    problem = hedged_account(1950.0)
    violations = allocator.validate_plan(problem, [_step(1, "BTC", "perp", "wallet", 10.0)])
    assert [(v.kind, v.limit) for v in violations] == [("risk_floor", "parametric")]
    assert "-47.4" in violations[0].message


def test_a_deposit_can_break_a_parametric_floor():
    """10,000 of ETH (ineligible, volatile) into "perp" adds z sigma = 974 and no collateral: margin 950 -> -24."""
    problem = hedged_account(1950.0)
    violations = allocator.validate_plan(problem, [_step(1, "ETH", "wallet", "perp", 100.0)])
    assert [(v.kind, v.limit) for v in violations] == [("risk_floor", "parametric")]
    assert allocator.validate_plan(problem, [_step(1, "ETH", "wallet", "perp", 90.0)]) == []


def test_a_deposit_held_back_by_a_risk_floor_waits_for_the_one_that_makes_room():
    """Two deposits into "perp": 100 ETH (sigma without collateral) listed first, then 1000 USDC. ETH alone would
    take the parametric margin from 950 to -24; after the USDC it is 976: the ETH is split or waits."""
    from allocator.plan.ledger import Ledger
    from allocator.plan.order import order
    from allocator.plan.transfers import Transfer

    problem = hedged_account(1950.0)
    problem = problem.model_copy(update={"holdings": [*problem.holdings, allocator.inputs.problem.Holding(
        asset="USDC", location="wallet", quantity=1000.0)]})
    planned = order(Ledger(problem), [Transfer("ETH", "wallet", "perp", 100.0),
                                         Transfer("USDC", "wallet", "perp", 1000.0)])
    assert planned.safe
    assert allocator.validate_plan(problem, planned.steps) == []
    moved = {(s.asset, s.to): 0.0 for s in planned.steps}
    for s in planned.steps:
        moved[(s.asset, s.to)] += s.quantity
    assert moved == pytest.approx({("ETH", "perp"): 100.0, ("USDC", "perp"): 1000.0})
    assert len(planned.steps) == 3  # ETH split at the floor, USDC, the rest of the ETH


def test_a_step_breaking_the_portfolio_limit_is_reported():
    """Two accounts of 1000 USDC against 900 each and a treasury-wide limit (margin 200): 50 BTC (5000, ineligible)
    into A raises the book's z sigma to 2.326 * 5000 * 0.8 * sqrt(1/365) = 487: margin -287."""
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0}, {"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "USDC", "location": "A", "quantity": 1000.0},
                     {"asset": "USDC", "location": "B", "quantity": 1000.0},
                     {"asset": "BTC", "location": "wallet", "quantity": 50.0}],
        "accounts": [{"id": "A", "requirement": 900.0, "haircuts": {"USDC": 0.0}},
                     {"id": "B", "requirement": 900.0, "haircuts": {"USDC": 0.0}}],
        "market": {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.8, "USDC": 0.0},
                   "correlation": [[1.0, 0.0], [0.0, 1.0]]},
        "portfolio": {"horizon_days": 1.0, "confidence": 0.99, "stress": False},
    })
    violations = allocator.validate_plan(problem, [_step(1, "BTC", "wallet", "A", 50.0)])
    assert [(v.kind, v.limit) for v in violations] == [("portfolio_floor", "portfolio[risk]")]
    assert "-287" in violations[0].message
    assert allocator.validate_plan(problem, [_step(1, "BTC", "wallet", "A", 20.0)]) == []
