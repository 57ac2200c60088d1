"""Solver faults: every outcome but a verified optimum is a typed error, and no result comes with it, on the cvxpy
program (faults injected after cvxpy's solve) and on the compile-free linear path (after HiGHS's run, the default
for linear books)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import allocator
import allocator.solve._engine as engine
from allocator.io.generate import generate_problem
from allocator.solve._highs import HighsLP, Solution
from allocator.solve._solvers import run as real_run
from allocator.solve._status import Status


def faulty(monkeypatch, after):
    """Replace the engine's solver call by the real one followed by ``after(record, problem)``."""
    calls = []

    def run(problem, *args, **kwargs):
        record = real_run(problem, *args, **kwargs)
        calls.append(record)
        return after(record, problem) or record

    monkeypatch.setattr(engine, "run", run)
    return calls


@pytest.mark.parametrize("status", [s for s in Status if s not in (Status.OPTIMAL, Status.INFEASIBLE,
                                                                    Status.INFEASIBLE_OR_UNBOUNDED)])
def test_non_optimal_status_is_an_error(monkeypatch, desk, status):
    faulty(monkeypatch, lambda record, _: dataclasses.replace(record, status=status, raw_status=status.value))
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(desk, backend="cvxpy")
    assert caught.value.status == status.value
    assert status.value in str(caught.value)


@pytest.mark.parametrize("value", [None, np.nan])
def test_missing_or_nan_values_are_an_error(monkeypatch, desk, value):
    def blank(record, problem):
        variable = next(v for v in problem.variables() if v.name() == "holding")
        variable.save_value(None if value is None else np.full(variable.shape, value))  # as a solver would

    faulty(monkeypatch, blank)
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(desk, backend="cvxpy")
    assert caught.value.status == "missing_values"


@pytest.mark.parametrize("corrupt", ["extra_move", "short_account", "negative_move"])
def test_optimal_answer_with_a_violation_is_rejected(monkeypatch, desk, corrupt):
    def inject(record, problem):
        holding = next(v for v in problem.variables() if v.name() == "holding")
        move = next(v for v in problem.variables() if v.name() == "move")
        if corrupt == "extra_move":
            move.value = move.value + 0.01  # value moves that the holdings do not show
        elif corrupt == "short_account":
            move.value = np.zeros(move.shape)  # nothing moves: the under-covered account stays short
            holding.value = problem.param_dict["holdings"].value.copy()
        else:
            move.value = move.value - 0.01

    faulty(monkeypatch, inject)
    with pytest.raises(allocator.VerificationError) as caught:
        allocator.optimize(desk, backend="cvxpy")
    assert caught.value.violations
    expected = {"extra_move": "balance", "short_account": "coverage[cex-perps]", "negative_move": "negative"}[corrupt]
    assert any(expected in v for v in caught.value.violations), caught.value.violations


def test_time_limit_is_honoured_and_reported():
    problem = generate_problem(120, 2, 12, seed=3)
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(problem, time_limit=1e-4)
    assert caught.value.status == Status.USER_LIMIT.value


def test_errors_share_one_base():
    """The tree drawn in allocator/errors.py: every public error is an AllocatorError, and each sits where
    ``except`` clauses expect it (an infeasible transition is caught by ``except InfeasibleError``)."""
    from allocator.errors import HistoryError

    public = [getattr(allocator, name) for name in allocator.__all__]
    errors = [obj for obj in public if isinstance(obj, type) and issubclass(obj, Exception)]
    assert errors and all(issubclass(error, allocator.AllocatorError) for error in errors)
    assert issubclass(allocator.VerificationError, allocator.SolverError)
    assert issubclass(allocator.TransitionInfeasibleError, allocator.InfeasibleError)
    assert issubclass(HistoryError, allocator.InputError)


def test_fallback_is_opt_in_and_recorded(monkeypatch, desk):
    def fail_highs(record, problem):
        if record.solver == "HIGHS":
            return dataclasses.replace(record, status=Status.OPTIMAL_INACCURATE, raw_status="optimal_inaccurate")
        return None

    faulty(monkeypatch, fail_highs)
    with pytest.raises(allocator.SolverError):
        allocator.optimize(desk, backend="cvxpy")  # no fallback unless asked for
    result = allocator.optimize(desk, fallback="CLARABEL", backend="cvxpy")
    assert result.diagnostics.solver == "CLARABEL"
    assert result.diagnostics.fallback_from == "HIGHS"
    assert "fallback: HIGHS failed (optimal_inaccurate" in result.diagnostics.notes[0]
    assert allocator.validate_plan(desk, result) == []


def test_no_fallback_for_infeasible_problems():
    from helpers import PROBLEMS

    with pytest.raises(allocator.InfeasibleError):
        allocator.optimize(allocator.load_problem(PROBLEMS / "infeasible.toml"), fallback="CLARABEL")


# ---- the same faults on the compile-free linear path (HiGHS driven directly) ------------------------------------


def faulty_highs(monkeypatch, status=None, corrupt=None):
    """The linear path's HiGHS runs, then ``status`` replaces each run's status and ``corrupt(blocks, col_value)``
    rewrites the values it returns (as a faulty solver would)."""
    real_solve, real_solution = HighsLP.solve, HighsLP.solution

    def solve(self, *args, **kwargs):
        record = real_solve(self, *args, **kwargs)
        return record if status is None else dataclasses.replace(record, status=status, raw_status=status.value)

    def solution(self):
        found = real_solution(self)
        if corrupt is None:
            return found
        return Solution(col_value=corrupt(found.col_value.copy()), col_dual=found.col_dual,
                        row_value=found.row_value, row_dual=found.row_dual)

    monkeypatch.setattr(HighsLP, "solve", solve)
    monkeypatch.setattr(HighsLP, "solution", solution)


def test_the_desk_takes_the_linear_path_by_default(desk):
    assert allocator.Allocator(desk).backend == "highs"


@pytest.mark.parametrize("status", [s for s in Status if s not in (Status.OPTIMAL, Status.INFEASIBLE,
                                                                    Status.INFEASIBLE_OR_UNBOUNDED)])
def test_non_optimal_status_is_an_error_on_the_linear_path(monkeypatch, desk, status):
    faulty_highs(monkeypatch, status=status)
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(desk)
    assert caught.value.status == status.value


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_values_are_an_error_on_the_linear_path(monkeypatch, desk, value):
    faulty_highs(monkeypatch, corrupt=lambda x: np.full_like(x, value))
    with pytest.raises(allocator.SolverError) as caught:
        allocator.optimize(desk)
    assert caught.value.status == "missing_values"


@pytest.mark.parametrize("corrupt", ["extra_move", "short_account", "negative_move"])
def test_optimal_answer_with_a_violation_is_rejected_on_the_linear_path(monkeypatch, desk, corrupt):
    engine = allocator.Allocator(desk)
    assert engine._fast is not None
    blocks = engine._fast.structure.blocks
    moves, holdings = blocks.column_slice("move"), blocks.column_slice("holding")

    def inject(x):
        if corrupt == "short_account":  # nothing moves: the under-covered account stays short
            assert engine._fast is not None and engine._fast.values is not None
            x[moves], x[holdings] = 0.0, engine._fast.values.holdings
        else:
            x[moves] += 0.01 if corrupt == "extra_move" else -0.01
        return x

    faulty_highs(monkeypatch, corrupt=inject)
    with pytest.raises(allocator.VerificationError) as caught:
        engine.solve()
    expected = {"extra_move": "balance", "short_account": "coverage[cex-perps]", "negative_move": "negative"}[corrupt]
    assert any(expected in v for v in caught.value.violations), caught.value.violations


def test_fallback_from_the_linear_path_is_opt_in_and_recorded(monkeypatch, desk):
    faulty_highs(monkeypatch, status=Status.OPTIMAL_INACCURATE)
    with pytest.raises(allocator.SolverError):
        allocator.optimize(desk)  # no fallback unless asked for
    result = allocator.optimize(desk, fallback="CLARABEL")
    assert result.diagnostics.solver == "CLARABEL"
    assert result.diagnostics.fallback_from == "HIGHS"
    assert allocator.validate_plan(desk, result) == []
