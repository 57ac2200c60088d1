"""The transition's linear path (transition/_pwl.py: the 3/2-power impact by tangent cuts on HiGHS) against the exact
convex program: a verified schedule, a lower bound below the convex optimum, and a cost within the certified
``bound_gap`` of it; the choice of path and its refusals."""

from __future__ import annotations

import pytest
from helpers import PROBLEMS
from transition_helpers import tiny

import allocator
import allocator.transition._api as api
from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition
from allocator.transition._generate import generate_transition


def _gross(result) -> float:
    c = result.costs
    return abs(c.carry) + c.transfer + c.fees + c.spread + c.impact


def _assert_bounded(problem: allocator.Problem, linear, exact) -> None:
    """The linear schedule is verified; its lower bound is below the convex optimum and its cost above it (its
    margins are wider), so the convex optimum lies in [lower_bound, cost] and the two costs differ by at most the
    certified bound_gap (plus Clarabel's own tolerance, 1e-8 of the gross cost)."""
    d = linear.diagnostics
    assert validate_transition(problem, linear) == [] and validate_transition(problem, exact) == []
    assert (d.mode, d.solver, d.schedule_solver) == ("linear", "HIGHS", "HIGHS")
    slack = 1e-7 * max(_gross(exact), 1.0)
    assert d.lower_bound is not None and d.bound_gap is not None
    assert d.bound_gap == pytest.approx(linear.costs.total - d.lower_bound, abs=1e-9 * _gross(linear))
    assert d.lower_bound <= exact.costs.total + slack
    assert exact.costs.total <= linear.costs.total + slack
    assert linear.costs.total - exact.costs.total <= d.bound_gap + slack


def test_derisk_linear_and_exact_agree_within_the_bound():
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    linear, exact = plan_transition(problem, impact="linear"), plan_transition(problem, impact="exact")
    _assert_bounded(problem, linear, exact)
    assert exact.diagnostics.mode == "convex" and exact.diagnostics.bound_gap is None
    assert linear.diagnostics.bound_gap <= 1e-4 * _gross(linear)  # tight enough to be called optimal
    assert linear.status == "optimal" and linear.costs.impact > 0


@pytest.mark.parametrize("changes", [{}, {"schedule": {"periods": 10}}, {"route": {"capacity": 4_000_000.0}}])
def test_tiny_transitions_agree_within_the_bound(changes):
    problem = tiny(**changes)
    _assert_bounded(problem, plan_transition(problem, impact="linear"), plan_transition(problem, impact="exact"))


def test_a_generated_transition_agrees_within_the_bound():
    problem = generate_transition(12, 3, 8, seed=2, eligible_share=0.4, venue_assets=6, restrict_routes=True)
    _assert_bounded(problem, plan_transition(problem, impact="linear"), plan_transition(problem, impact="exact"))


@pytest.mark.slow
def test_the_benchmark_transition_agrees_within_the_bound():
    problem = generate_transition(100, 10, 48, seed=1, eligible_share=0.2, venue_assets=20, restrict_routes=True)
    _assert_bounded(problem, plan_transition(problem), plan_transition(problem, impact="exact"))


def test_the_lower_bound_is_a_relaxation_of_the_tiny_problem_by_hand():
    """Without trades' impact the program is linear: the cuts have nothing to add and the bound is the cost of the
    linear path's coverage margins alone (its lower bound is the margin-free program's): at most the margins'
    value, (MARGIN + LINEAR_MARGIN + HiGHS's 1e-9) x the exchange's 5M requirement, since a currency of collateral
    costs a fraction of a percent here (10 bps fees, 1 bp spread, 1 bp transfer and some carry): under 1% of it."""
    data = tiny().model_dump(by_alias=True)
    for asset in data["assets"]:
        asset["impact"] = 0.0
    problem = allocator.Problem.model_validate(data)
    linear, exact = plan_transition(problem, impact="linear"), plan_transition(problem, impact="exact")
    _assert_bounded(problem, linear, exact)
    margins = (api.MARGIN + api.LINEAR_MARGIN + 1e-9) * 5_000_000.0
    assert linear.costs.impact == 0 and 0 < linear.diagnostics.bound_gap <= 0.01 * margins


def test_auto_takes_the_linear_path_for_large_transitions_only(monkeypatch):
    problem = tiny()
    assert plan_transition(problem).diagnostics.mode == "convex"  # small: the exact program
    monkeypatch.setattr(api, "LINEAR_FROM", 0)
    assert plan_transition(problem).diagnostics.mode == "linear"
    assert plan_transition(problem, solver="CLARABEL").diagnostics.mode == "convex"  # a named solver: exact
    assert plan_transition(problem, impact="exact").diagnostics.mode == "convex"


def test_the_linear_path_refuses_cones_and_other_solvers():
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    with pytest.raises(allocator.SolverError, match="HiGHS") as caught:
        plan_transition(problem, impact="linear", solver="CLARABEL")
    assert caught.value.status == "unsupported"
    data = problem.model_dump(by_alias=True)
    assets = [a["id"] for a in data["assets"]]
    data["market"] = {"assets": assets, "volatility": {a: 0.5 for a in assets},
                      "correlation": [[1.0 if i == j else 0.3 for j in assets] for i in assets]}
    data["accounts"][0]["risk"] = {"horizon_days": 1, "confidence": 0.99}
    with pytest.raises(allocator.InputError) as refused:
        plan_transition(allocator.Problem.model_validate(data), impact="linear")
    assert [i.location for i in refused.value.issues] == ["accounts[0].risk.parametric"]
    with pytest.raises(ValueError, match="impact"):
        plan_transition(problem, impact="cones")  # type: ignore[arg-type]


def test_an_infeasible_transition_is_diagnosed_on_the_linear_path():
    with pytest.raises(TransitionInfeasibleError):
        plan_transition(tiny(schedule={"periods": 4}), impact="linear")  # too little capacity in time


def test_move_limits_on_the_linear_path_schedule_with_the_convex_program():
    limited = tiny(schedule={"max_moves": 8, "min_move_value": 500_000.0})  # as test_transition_limits.py
    result = plan_transition(limited, impact="linear", heuristic=True)
    assert validate_transition(limited, result) == []
    assert result.diagnostics.schedule_solver == "CLARABEL" and result.diagnostics.bound_gap is None
