"""Move limits: max_moves, max_moves_per_period and min_move_value by MILP and by the heuristic.

The convex relaxation (no limits) is a lower bound of both; the MILP is never worse than the heuristic (it is
seeded by it); each schedule meets the limits, replays, and reports its gap to the relaxation.
"""

from __future__ import annotations

import pytest
from helpers import PROBLEMS
from transition_helpers import tiny

import allocator
from allocator.transition import TransitionResult, plan_transition, validate_transition

LIMITS = [{"max_moves": 8, "min_move_value": 500_000.0}, {"min_move_value": 1_000_000.0}]


def _moves(result: TransitionResult) -> tuple[int, dict[int, int], float]:
    """(moves, moves per period, smallest move), from the plan: a transfer is one move, a trade two legs (each
    leg of a venue and period counts once however many pairs it appears in)."""
    legs: dict[tuple[int, str, str], float] = {}
    for s in result.steps:
        if s.kind == "transfer":
            legs[(s.period, f"{s.from_}->{s.to}", s.asset)] = legs.get((s.period, f"{s.from_}->{s.to}", s.asset),
                                                                     0.0) + s.value
        else:
            legs[(s.period, f"sell@{s.venue}", s.asset)] = legs.get((s.period, f"sell@{s.venue}", s.asset), 0.0) \
                + s.value
            legs[(s.period, f"buy@{s.venue}", s.asset_to or "")] = legs.get(
                (s.period, f"buy@{s.venue}", s.asset_to or ""), 0.0) + (s.value_to or 0.0)
    per: dict[int, int] = {}
    for period, _, _ in legs:
        per[period] = per.get(period, 0) + 1
    return len(legs), per, min(legs.values(), default=0.0)


@pytest.mark.parametrize("limits", LIMITS, ids=["max-moves-and-min-value", "min-value"])
def test_relaxation_le_milp_le_heuristic(limits):
    problem = tiny(schedule={"periods": 6, **limits})
    relaxed = plan_transition(tiny(schedule={"periods": 6}))  # without the limits: the convex relaxation
    heuristic = plan_transition(problem, heuristic=True)
    milp = plan_transition(problem, integer=True, time_limit=10)
    assert relaxed.diagnostics.mode == "convex"
    assert (heuristic.diagnostics.mode, milp.diagnostics.mode) == ("heuristic", "milp")
    tolerance = 1e-7 * abs(relaxed.costs.total)
    assert relaxed.costs.total <= milp.costs.total + tolerance
    assert milp.costs.total <= heuristic.costs.total + tolerance
    for result in (heuristic, milp):
        assert validate_transition(problem, result) == []
        assert result.diagnostics.relaxation_cost == pytest.approx(relaxed.costs.total)
        assert result.diagnostics.gap == pytest.approx((result.costs.total - relaxed.costs.total)
                                                       / abs(relaxed.costs.total))
        total, per, smallest = _moves(result)
        assert total <= limits.get("max_moves", total)
        assert max(per.values()) <= limits.get("max_moves_per_period", max(per.values()))
        assert smallest >= limits.get("min_move_value", 0.0) * (1 - 1e-6)


def test_limits_without_integer_or_heuristic_get_the_heuristic():
    """No longer ignored (issue 11): the heuristic is the default, and a note says so."""
    problem = tiny(schedule={"max_moves": 8, "min_move_value": 500_000.0})
    result = plan_transition(problem)
    assert result.diagnostics.mode == "heuristic" and result.diagnostics.gap is not None
    assert result.status == "feasible"


def test_milp_meets_limits_the_heuristic_cannot():
    """Two moves per period: the tiny desk must sell and ship in alternate periods. Dropping the relaxation's
    smallest moves one by one never gets there (each is needed by the schedule around it); the MILP does."""
    problem = tiny(schedule={"periods": 6, "max_moves_per_period": 2})
    with pytest.raises(allocator.SolverError, match="heuristic cannot meet the move limits"):
        plan_transition(problem, heuristic=True)
    milp = plan_transition(problem, integer=True, time_limit=10)
    assert validate_transition(problem, milp) == []
    assert max(_moves(milp)[1].values()) <= 2
    assert milp.diagnostics.gap > 0


def test_infeasible_move_limits_are_reported():
    problem = tiny(schedule={"periods": 6, "max_moves": 2})
    with pytest.raises(allocator.SolverError, match="move limits"):
        plan_transition(problem, integer=True, time_limit=10)


@pytest.mark.slow
def test_derisk_relaxation_le_milp_le_heuristic():
    """derisk.toml with at most 40 moves of 100,000 USD or more (the MILP runs into its 30 s limit)."""
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    relaxed = plan_transition(problem)
    schedule = problem.schedule.model_copy(update={"max_moves": 40, "min_move_value": 100_000.0})
    problem = problem.with_changes(schedule=schedule.model_dump())
    heuristic = plan_transition(problem, heuristic=True)
    milp = plan_transition(problem, integer=True, time_limit=30)
    assert relaxed.costs.total <= milp.costs.total <= heuristic.costs.total + 1e-7 * abs(relaxed.costs.total)
    for result in (heuristic, milp):
        assert validate_transition(problem, result) == []
        assert _moves(result)[0] <= 40
