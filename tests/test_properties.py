"""Randomized invariants on generated feasible problems (hypothesis; derandomized in CI, see conftest)."""

from __future__ import annotations

from helpers import assert_verified, objective_gap
from hypothesis import given
from hypothesis import strategies as st
from reference_lp import solve_reference

import allocator
from allocator.generate import generate_problem

problems = st.builds(
    generate_problem,
    n_assets=st.integers(2, 12), n_wallets=st.integers(1, 3), n_accounts=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1), topology=st.sampled_from(["hub", "none", "complete"]),
    route_density=st.floats(0.3, 1.0), tightness=st.floats(0.1, 0.99), eligible_share=st.floats(0.2, 0.9),
    limits=st.booleans(), posted_share=st.floats(0.0, 1.0),
)


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
