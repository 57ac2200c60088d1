"""The linear path's matrices written directly (transition/_direct.py) against cvxpy's compile of the same program,
which stays the reference: identical columns (offsets), rows, coefficients, right-hand sides, costs and bounds,
entry for entry, on every family the direct writer handles; programs it does not handle are left to cvxpy; and the
transition planned either way is the same, to the cent and the step."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import PROBLEMS
from transition_helpers import CRASH, landing, tiny, with_risk

import allocator
from allocator.transition import _pwl, plan_transition, validate_transition
from allocator.transition._coarse import COARSE_PERIODS
from allocator.transition._data import TransitionData
from allocator.transition._direct import lp_data
from allocator.transition._generate import generate_transition
from allocator.transition._periods import Periods
from allocator.transition._program import build
from allocator.transition._pwl import _compiled, _margin_free


def _derisk(**schedule: float) -> allocator.Problem:
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    if not schedule:
        return problem
    assert problem.schedule is not None
    return problem.with_changes(schedule={**problem.schedule.model_dump(), **schedule})


def _coarse(problem: allocator.Problem) -> tuple[Periods, TransitionData]:
    """The coarse guess's clock and data (_coarse.coarse_guess)."""
    assert problem.schedule is not None
    T = problem.schedule.periods
    k = T // COARSE_PERIODS
    clock = problem.schedule.model_copy(update={"periods": -(-T // k), "period_hours": problem.schedule.period_hours
                                                * k})
    coarse = problem.model_copy(update={"schedule": clock})
    periods = Periods.from_problem(coarse)
    data = TransitionData.from_problem(coarse, periods)
    return periods, dataclasses.replace(data, capacity=data.capacity * k, withdrawal=data.withdrawal * k)


CASES = {
    "generated 6x2x3": lambda: generate_transition(6, 2, 3, seed=1, eligible_share=0.5, venue_assets=3,
                                                   restrict_routes=True),
    "generated 12x3x12": lambda: generate_transition(12, 3, 12, seed=2, eligible_share=0.4, venue_assets=6,
                                                     restrict_routes=True),
    "generated 20x4x12 all routes": lambda: generate_transition(20, 4, 12, seed=3, eligible_share=0.3,
                                                                venue_assets=8),
    "derisk": _derisk,  # capacity, withdrawal and concentration rows
    "derisk liquidation_days": lambda: _derisk(liquidation_days=3.0),
    # no venue rows: the impacts' epigraphs first appear after the end collateral, and cvxpy orders them so
    "derisk without venues": lambda: _derisk().with_changes(venues=[]),
    "generated 8x2x5 without venues": lambda: generate_transition(8, 2, 5, seed=7,
                                                                  eligible_share=0.7).with_changes(venues=[]),
    # income charged back on what lands during a period: an arrival half-way through one, purchases at its end
    "landing mid-period": landing,
}


def _same(program, dpp: bool = True) -> set[str]:
    """Assert the direct matrices equal cvxpy's compile, entry for entry; the program's families."""
    written = lp_data(program)
    assert written is not None
    data, offsets, lower = written
    reference, reference_offsets, reference_lower = _compiled(program, dpp=dpp, direct=False)
    assert offsets == reference_offsets
    mine, theirs = data["A"].tocsr(), reference["A"].tocsr()
    assert mine.shape == theirs.shape and (mine != theirs).nnz == 0
    np.testing.assert_array_equal(data["b"], reference["b"])
    np.testing.assert_array_equal(data["c"], reference["c"])
    np.testing.assert_array_equal(lower, reference_lower)
    np.testing.assert_array_equal(data["lower_bounds"], reference["lower_bounds"])
    assert reference.get("upper_bounds") is None and data["upper_bounds"] is None
    return {f.name for f in program.families}


@pytest.mark.parametrize("pieces", [2, 4])
def test_direct_matrices_are_cvxpys_entry_for_entry(pieces):
    families: set[str] = set()
    for make in CASES.values():
        problem = make()
        periods = Periods.from_problem(problem)
        data = TransitionData.from_problem(problem, periods)
        program = build(periods, data, coverage_margin=2e-6, limit_margin=1e-7, floor_margin=1e-6, pwl=True,
                        pieces=pieces)
        families |= _same(program)
    # every optional family the writer handles was compared
    assert {"capacity", "withdrawal", "participation", "venue", "liquidation", "concentration"} <= families


def test_the_coarse_programs_matrices_are_cvxpys_without_dpp():
    """The coarse guess's program used to be compiled without DPP: the direct matrices are those too."""
    periods, data = _coarse(CASES["generated 12x3x12"]())
    _same(build(periods, data, coverage_margin=2e-6, limit_margin=1e-7, pwl=True, pieces=4), dpp=False)


def test_margin_free_values_are_written_as_cvxpy_compiles_them():
    """The bound's margin-free right-hand sides: the program's parameters swapped (_pwl._margin_free), written."""
    problem = _derisk()
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    program = build(periods, data, coverage_margin=2e-6, limit_margin=1e-7, pwl=True, pieces=4)
    free = build(periods, data, coverage_margin=0.0, limit_margin=0.0, floor_margin=0.0, pwl=True, pieces=4)
    swapped, _, lower = _margin_free(program)
    reference, _, reference_lower = _compiled(free, direct=False)
    assert (swapped["A"].tocsr() != reference["A"].tocsr()).nnz == 0
    np.testing.assert_array_equal(swapped["b"], reference["b"])
    np.testing.assert_array_equal(lower, reference_lower)
    assert not np.array_equal(swapped["b"], _compiled(program)[0]["b"])


def test_programs_the_writer_does_not_handle_are_left_to_cvxpy():
    def program(problem: allocator.Problem, **options):
        periods = Periods.from_problem(problem)
        data = TransitionData.from_problem(problem, periods)
        return build(periods, data, coverage_margin=1e-6, limit_margin=1e-7, **{"pwl": True, **options})

    assert lp_data(program(tiny(routes=None))) is None  # the virtual hub
    assert lp_data(program(with_risk({"parametric": False}, CRASH))) is None  # stress rows
    assert lp_data(program(_derisk(), elastic=True)) is None
    assert lp_data(program(_derisk(), lower=True)) is None
    assert lp_data(program(_derisk(), max_moves=10)) is None
    assert lp_data(program(_derisk(), pwl=False)) is None  # the convex program
    assert lp_data(program(_derisk())) is not None


def test_the_transition_is_the_same_planned_either_way(monkeypatch):
    """End to end on a transition with the coarse guess (12 periods): the direct matrices and cvxpy's give the same
    verified plan, cost, bound and steps."""
    problem = CASES["generated 12x3x12"]()
    direct = plan_transition(problem, impact="linear")
    monkeypatch.setattr(_pwl, "DIRECT", False)
    compiled = plan_transition(problem, impact="linear")
    assert validate_transition(problem, direct) == []
    assert direct.costs.total == pytest.approx(compiled.costs.total, rel=1e-9)
    assert direct.diagnostics.lower_bound == pytest.approx(compiled.diagnostics.lower_bound, rel=1e-9)
    assert direct.steps == compiled.steps
