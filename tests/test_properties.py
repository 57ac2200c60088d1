"""Randomized invariants on generated feasible problems (hypothesis; derandomized in CI, see conftest)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from helpers import _annual_covariance, _credit, assert_verified, objective_gap, random_problems
from hypothesis import given
from reference_lp import solve_reference

import allocator

problems = random_problems()


@given(problems)
def test_every_account_covered_and_every_plan_valid(problem):
    result = allocator.optimize(problem)
    assert_verified(problem, result)


@given(problems)
def test_objective_matches_independent_highs_formulation(problem):
    result = allocator.optimize(problem)
    reference = solve_reference(problem)
    assert reference.status == "optimal"
    assert objective_gap(result, reference.objective) < 1e-6


@given(random_problems(max_assets=8, max_accounts=4, risk=True))
def test_risk_limits_hold_on_random_problems(problem):
    """Market, positions, stress scenarios and risk settings on every account (Clarabel): covered, the
    parametric and stress limits recomputed independently, the plan valid."""
    assert_verified(problem, allocator.optimize(problem))


@given(random_problems(max_assets=8, max_accounts=4, risk=True, scale_features=True))
def test_factor_markets_and_scenario_working_sets_hold_on_random_problems(problem):
    """Factor-model markets and 30 stress scenarios (beyond the 16 that are always rows, so the working set
    runs): every scenario holds in the independent check."""
    assert_verified(problem, allocator.optimize(problem))


@pytest.mark.parametrize("seed, n_assets, tightness", [(3264641, 5, 0.5), (561, 6, 0.9375)])
def test_regression_generated_risk_problems_are_feasible(seed, n_assets, tightness):
    """Found by the slow run (2026-11-24, third session, 10,000 risk cases): with every holding posted, one account
    and no routes, the generator put an ineligible asset at the account; its value moves the account's equity
    (sigma) without counting as collateral and it had nowhere to go, so the "feasible" problem was infeasible.
    The generator now keeps ineligible holdings in a wallet when it adds risk."""
    from allocator.io.generate import generate_problem

    problem = generate_problem(n_assets=n_assets, n_wallets=1, n_accounts=1, seed=seed, topology="none",
                               tightness=tightness, eligible_share=0.5, limits=False, posted_share=1.0, risk=True)
    assert_verified(problem, allocator.optimize(problem))


def test_regression_clarabel_stalled_at_optimal_inaccurate_is_solved_again():
    """Found by the slow run (third session, 10,000 risk cases): Clarabel stopped at 'optimal_inaccurate' after 16
    iterations at tolerances 1e-9 on one CPU (on another it solves at once). Whichever path the solver takes here,
    the answer is a verified optimum; the retry path itself is forced on every machine in
    test_solve_ladder.py::test_engine_optimal_inaccurate_is_solved_again_looser."""
    from allocator.io.generate import generate_problem

    problem = generate_problem(n_assets=8, n_wallets=1, n_accounts=4, seed=6, topology="hub", tightness=0.90625,
                               eligible_share=0.4375, limits=True, posted_share=0.0, risk=True)
    assert_verified(problem, allocator.optimize(problem))


def test_regression_dust_is_not_dropped_where_it_keeps_a_share_under_its_limit():
    """Found by the same run (factor markets, 5 scenarios): dropping moves below Clarabel's tolerance ($16 on a
    $16.6M book) as dust left a concentration share $1.02 over its limit (1.6e-7 of the account): inside the
    interior-point tolerance, but not what an exact answer gives. Dust is now dropped only where every limit then
    holds to 1e-9 of the account."""
    from allocator.io.generate import generate_problem

    problem = generate_problem(n_assets=8, n_wallets=2, n_accounts=2, seed=2, topology="complete",
                               tightness=0.87890625, eligible_share=0.203125, limits=True, posted_share=0.75,
                               risk=True, factor_model=True, scenarios=5)
    assert_verified(problem, allocator.optimize(problem))


@given(random_problems(max_assets=8, max_accounts=4, risk=True))
def test_every_plan_step_keeps_every_risk_floor_or_is_flagged(problem):
    """Replayed step by step, each account's parametric and stress margins (recomputed here from the problem's own
    fields, not by the plan's ledger) never end a step below min(margin today, 0), nor below where the step found
    them, unless the step is flagged needs_funding (docs/transition-plan.md)."""
    result = allocator.optimize(problem)
    held = defaultdict(float)
    for holding in problem.holdings:
        held[(holding.asset, holding.location)] += holding.quantity
    today = _risk_margins(problem, held)
    scale = result.diagnostics.money_scale
    size = {k: max(t.required, sum(_credit(t, x, _price(problem, x) * held[(x, k)]) for x in t.eligible))
            for k, t in problem.terms.items()}
    before = today
    for step in result.plan:
        held[(step.asset, step.from_)] -= step.quantity
        held[(step.asset, step.to)] += step.quantity
        after = _risk_margins(problem, held)
        for (account, label), margin in after.items():
            floor = min(today[(account, label)], 0.0, before[(account, label)])
            tolerance = 1e-9 * min(size[account], scale) + 1e-12 * scale
            assert margin >= floor - tolerance or step.needs_funding, (step, account, label, margin, floor)
        before = after


def _price(problem: allocator.Problem, asset: str) -> float:
    return next(a.price for a in problem.assets if a.id == asset)


def _risk_margins(problem: allocator.Problem, held: dict) -> dict[tuple[str, str], float]:
    """(account, limit) -> left side minus requirement of the parametric limit (covariance quadratic form, as
    helpers._assert_risk_limits) and of every stress scenario; generated problems have linear positions only."""
    price = {a.id: a.price for a in problem.assets}
    market = problem.market
    assert market is not None
    out = {}
    for account in problem.accounts:
        if account.risk is None:
            continue
        terms = problem.terms[account.id]
        collateral = sum(_credit(terms, a, price[a] * held[(a, account.id)]) for a in terms.eligible)
        exposure = defaultdict(float)
        for position in problem.positions:
            if position.account == account.id:
                exposure[position.underlying] += position.quantity * price[position.underlying]
        if account.risk.parametric:
            covariance = _annual_covariance(market) * account.risk.horizon_days / 365
            total = np.array([price[a] * held[(a, account.id)] + exposure[a] for a in market.assets])
            sigma = float(np.sqrt(max(total @ covariance @ total, 0.0)))
            out[(account.id, "parametric")] = collateral - account.risk.z * sigma - terms.requirement
        for scenario in problem.stress_scenarios:
            moved = sum(_credit(terms, a, price[a] * held[(a, account.id)] * (1 + scenario.returns.get(a, 0.0)))
                        for a in terms.eligible)
            pnl = sum(e * scenario.returns.get(a, 0.0) for a, e in exposure.items())
            out[(account.id, f"stress[{scenario.name}]")] = moved + pnl - terms.requirement
    return out
