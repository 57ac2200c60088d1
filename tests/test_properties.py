"""Randomized invariants on generated feasible problems (hypothesis; derandomized in CI, see conftest)."""

from __future__ import annotations

from helpers import assert_verified, objective_gap, random_problems
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
