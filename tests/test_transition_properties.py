"""Properties over random transitions: every answer is a schedule that replays cleanly and within its limits, or
a diagnosed infeasibility; never anything else."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_transition import _replayed_limits

from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition
from allocator.transition._generate import generate_transition

#: The profile's count (200 in CI, EXAMPLES in a slow run; each case is a conic solve of up to 8 periods, about
#: 0.1 s); TRANSITION_EXAMPLES overrides it.
EXAMPLES = os.environ.get("TRANSITION_EXAMPLES")


@settings(max_examples=int(EXAMPLES) if EXAMPLES else settings().max_examples, deadline=None)
@given(n_assets=st.integers(3, 8), n_accounts=st.integers(1, 3), n_periods=st.integers(1, 8),
       seed=st.integers(0, 2**16), restrict=st.booleans(), tightness=st.floats(0.2, 0.95),
       participation=st.floats(0.005, 0.5))
def test_random_transitions_replay_or_are_diagnosed(n_assets, n_accounts, n_periods, seed, restrict, tightness,
                                                    participation):
    problem = generate_transition(n_assets, n_accounts, n_periods, seed=seed, restrict_routes=restrict,
                                  tightness=tightness, participation=participation, venue_assets=3)
    try:
        result = plan_transition(problem)
    except TransitionInfeasibleError as error:
        assert error.diagnosis.shortfalls and all(v > 0 for v in error.diagnosis.shortfalls.values())
        assert error.diagnosis.binding  # some limit of time, capacity or liquidity is named
        return
    assert validate_transition(problem, result) == []
    _replayed_limits(problem, result)
    frame = result.coverage_frame
    assert (frame["lowest"] >= frame["floor"]).all()  # exact (transition/_floors.py)


def test_regression_a_row_missed_by_the_solver_tolerance_is_re_solved():
    """Found by a 300-case slow run (2026-11-24): Clarabel's answer left an account 0.0038 USD short at the end on
    one CPU; it is refused and solved again with wider margins. (That case passes at once since the cost counts
    every holding's income, issue 11; this one, found by a random search then, left acct-02 0.107 USD short on one
    CPU.) Whichever path the solver takes, the plan passes every check (the widening itself is tested on every
    machine in test_solve_ladder.py)."""
    problem = generate_transition(8, 3, 5, seed=3661, restrict_routes=True, tightness=0.5, participation=0.5,
                                  venue_assets=3)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []


def test_regression_sales_whose_purchases_were_cleaned_away_leave_no_value_unspent():
    """Found when CI went to 500 random transitions (2026-11-24, third session): Clarabel sold 0.026 USD at a venue
    (just above the cleaning threshold) for purchases split into legs each below it; cleaning removed the
    purchases and left the sale's value unspent. The repair now spends a venue's surplus on its largest purchase,
    or sells less when it buys nothing."""
    problem = generate_transition(3, 1, 1, seed=295, restrict_routes=False, tightness=0.203125, participation=0.125,
                                  venue_assets=3)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []


def test_regression_clarabel_stalled_at_optimal_inaccurate_is_solved_again():
    """Found by the 10,000-case slow run (third session): Clarabel stopped at 'optimal_inaccurate' at the
    transition's tolerances (1e-8) on one CPU. Whichever path it takes, the plan passes every check; the retry path
    is forced on every machine in test_solve_ladder.py::test_transition_optimal_inaccurate_is_solved_again_looser."""
    problem = generate_transition(8, 1, 4, seed=1883, restrict_routes=False, tightness=0.8929533463051793,
                                  participation=0.11339284574220654, venue_assets=3)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []


def test_regression_an_iteration_limit_on_an_infeasible_transition_is_diagnosed():
    """Found by a 3,000-case slow run (third session): on an infeasible transition (1 hour, the moves land too
    late) Clarabel ran out of iterations on one CPU and returned 'solver_error' on another, instead of certifying
    infeasibility: a bare SolverError. Every status but optimal now goes to the elastic diagnosis, which names the
    account and the binding time, whichever way the solver stops (each status is forced in test_solve_ladder.py)."""
    problem = generate_transition(5, 3, 1, seed=548, restrict_routes=False, tightness=0.2, participation=0.25,
                                  venue_assets=3)
    with pytest.raises(TransitionInfeasibleError) as error:
        plan_transition(problem)
    assert error.value.diagnosis.shortfalls and error.value.diagnosis.binding


def test_regression_an_account_scaled_onto_its_floor_is_not_a_rounding_error_below_it():
    """Found by the CI-sized run (2026-11-26): the floor repair scaled an account's departures so that it landed on
    its floor exactly in its own arithmetic, and the replay, summing the same terms in another order, put it
    2.3e-10 USD below. The repair keeps 1e-12 of the account's collateral back (transition/_floors.py)."""
    problem = generate_transition(5, 1, 5, seed=533, restrict_routes=False, tightness=0.75,
                                  participation=0.21573667820856696, venue_assets=3)
    frame = plan_transition(problem).coverage_frame
    assert (frame["lowest"] >= frame["floor"]).all()
