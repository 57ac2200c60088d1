"""The transition on HiGHS when no cone is active: the 3/2-power impact by tangent cuts, with a certified bound.

The program is the piecewise-linear variant (``build(pwl=True)``): each leg's impact ``k u^1.5`` in each period is
an epigraph variable above tangents of the curve. Tangents lie below a convex function, so this LP is a
relaxation of the convex program and its optimum ``L`` a lower bound of the convex optimum ``C*``. It starts with
``INITIAL_PIECES`` tangents per leg and period (costs.outer_impact); after each solve, every leg whose exact impact
at its value exceeds its epigraph by more than ``CUT_TOLERANCE`` gets the tangent at that value, and HiGHS's dual
simplex re-solves from the last basis. When no leg is cut the schedule's impact is exact to the tolerance; it is
replayed, repaired and verified like the convex program's (_solve.py) and costed exactly (``U``). A verified
schedule is feasible for the convex program, so ``C* <= U`` and

    0 <= U - C* <= U - L = bound_gap

(both programs with the same margins; the convex path's are wider, so its optimum is above ``L`` too). The result
reports ``diagnostics.lower_bound`` and ``diagnostics.bound_gap`` (currency).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import cvxpy as cp
import numpy as np
from cvxpy.reductions.dcp2cone.cone_matrix_stuffing import ConeMatrixStuffing

from allocator.solve._highs import HighsLP
from allocator.solve._solvers import SolveRecord, profile
from allocator.solve._status import Status
from allocator.transition._program import TransitionProgram

#: Tangents per leg and period before the first solve, at ``cap (i / 4)^2``: fewer made the cut rounds more than
#: the first solve saved (docs/performance.md).
INITIAL_PIECES = 4
#: A leg whose exact impact exceeds its epigraph by more than this share of it, plus NEGLIGIBLE, is cut at its value.
CUT_TOLERANCE = 1e-9
#: Scaled value units (1e-10 of the money scale): about HiGHS's own feasibility tolerance, below which a cut
#: changes nothing.
NEGLIGIBLE = 1e-10
#: HiGHS options of the loop (over the HiGHS profile's): a tighter primal tolerance, since a cut row met only to
#: 1e-9 leaves each leg's impact up to that much under the curve.
OPTIONS: dict[str, object] = {"primal_feasibility_tolerance": 1e-10}
#: The loop also stops when a round took off less than this share of the legs' total shortfall.
STALL = 0.05
#: Cut rounds at most; a schedule still cut after them is returned with its (larger) bound.
ROUNDS = 40


@dataclass(frozen=True)
class Cuts:
    """How the cut loop ended: the LP's optimum (program units: a lower bound of the convex optimum), the rounds,
    the tangents added and whether every leg's impact was exact to the tolerance (else the loop stopped when a
    round no longer helped, at HiGHS's own tolerance, or after ROUNDS)."""

    lower_bound: float
    rounds: int
    added: int
    converged: bool


def _columns(offsets: dict[int, int], variable: cp.Variable) -> np.ndarray:
    """The LP columns of a variable's entries, in column-major order (cvxpy's stacking)."""
    return offsets[variable.id] + np.arange(variable.size)


def _compiled(program: TransitionProgram) -> tuple[dict[str, Any], dict[int, int], np.ndarray]:
    """The LP of a ``pwl`` program as cvxpy hands it to HiGHS (``A x <= b`` after ``dims.zero`` equalities, column
    bounds), its variables' column offsets and its rows' lower bounds."""
    data, chain, inverse = program.problem.get_problem_data(cp.HIGHS, ignore_dpp=True)
    offsets = next(i for r, i in zip(chain.reductions, inverse, strict=True)
                   if isinstance(r, ConeMatrixStuffing)).var_offsets
    rows, equalities = data["A"].shape[0], data["dims"].zero
    return data, offsets, np.concatenate([data["b"][:equalities], np.full(rows - equalities, -np.inf)])


def solve_with_cuts(program: TransitionProgram, time_limit: float | None = None,
                    options: dict[str, object] | None = None,
                    unmargined: TransitionProgram | None = None) -> tuple[SolveRecord, Cuts | None]:
    """Solve ``program`` (a ``pwl`` variant) on HiGHS with tangent cuts until its impact is exact; sets the cvxpy
    variables' values as a solve would. Returns the summed record and the loop's outcome (None unless optimal).
    ``unmargined``: the same program without margins; the lower bound is then its optimum with the same cuts (a
    bound of the convex optimum without margins), else ``program``'s own."""
    started = time.perf_counter()
    data, offsets, lower = _compiled(program)
    matrix = data["A"].tocsc()
    rows, columns = matrix.shape
    unbounded = np.full(columns, np.inf)
    col_lower = -unbounded if data.get("lower_bounds") is None else data["lower_bounds"]
    col_upper = unbounded if data.get("upper_bounds") is None else data["upper_bounds"]
    compile_seconds = time.perf_counter() - started
    lp = HighsLP({**profile("HIGHS").options, **OPTIONS, **(options or {})})
    setup = lp.load_arrays(data["c"], col_lower, col_upper, lower, data["b"], matrix.indptr, matrix.indices,
                           matrix.data)
    v, T = program.variables, program.periods.periods
    assert v.sell_impact is not None and v.buy_impact is not None
    coefficient = np.tile(np.asarray(program.parameters.impact.value, dtype=float), T)  # column-major (legs, T)
    sides = [(_columns(offsets, v.sell), _columns(offsets, v.sell_impact)),
             (_columns(offsets, v.buy), _columns(offsets, v.buy_impact))]
    solve_seconds = wall = 0.0
    iterations, added, rounds = 0, 0, 0
    record: SolveRecord | None = None
    converged, previous = False, np.inf
    while rounds < ROUNDS:
        rounds += 1
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - started), 1e-3)
        record = lp.solve(left, method="simplex")
        solve_seconds, wall = solve_seconds + record.solve_seconds, wall + record.wall_seconds
        iterations += record.iterations or 0
        if record.status is not Status.OPTIMAL:
            break
        x = lp.solution().col_value
        cut, residual = _tangents(x, sides, coefficient)
        if cut is None or residual > (1.0 - STALL) * previous:
            converged = cut is None
            break
        previous = residual
        lp.add_rows(*cut)
        added += len(cut[0])
    assert record is not None
    record = replace(record, setup_seconds=setup, solve_seconds=solve_seconds, wall_seconds=wall,
                     compile_seconds=compile_seconds, compiled=True, iterations=iterations)
    if record.status is not Status.OPTIMAL:
        return record, None
    for variable in program.problem.variables():
        variable.save_value(x[_columns(offsets, variable)].reshape(variable.shape, order="F"))  # as a solver would
    bound = float(program.problem.objective.value)
    if unmargined is not None:
        bound = _unmargined_bound(lp, unmargined, data, bound, offset=bound - lp.objective())
    return record, Cuts(lower_bound=bound, rounds=rounds, added=added, converged=converged)


def _unmargined_bound(lp: HighsLP, unmargined: TransitionProgram, data: dict[str, Any], bound: float,
                      offset: float) -> float:
    """The cut LP's optimum with the margin-free right-hand sides (the same matrix: the margins are data), re-solved
    from the last basis; the margined optimum ``bound`` if anything differs (a bound still, of a program whose
    margins make it dearer)."""
    free, _, lower = _compiled(unmargined)
    if free["A"].shape != data["A"].shape or (free["A"] != data["A"]).nnz:
        return bound
    lp.set_row_bounds(lower, free["b"])
    record = lp.solve(None, method="simplex")
    return lp.objective() + offset if record.status is Status.OPTIMAL else bound


def _tangents(x: np.ndarray, sides: list[tuple[np.ndarray, np.ndarray]], coefficient: np.ndarray
              ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None, float]:
    """The rows ``e - k 1.5 sqrt(u0) u >= -k 0.5 u0^1.5`` (the tangent of ``k u^1.5`` at ``u0``) for every leg whose
    epigraph ``e`` is below its exact impact at its value ``u0`` by more than the tolerances (None when none is),
    and the sum of every leg's shortfall (scaled value units)."""
    lower, index, value = [], [], []
    total = 0.0
    for legs, epigraph in sides:
        u = np.maximum(x[legs], 0.0)
        exact = coefficient * u ** 1.5
        missing = exact - x[epigraph]
        total += float(np.maximum(missing, 0.0).sum())
        short = (missing > CUT_TOLERANCE * exact + NEGLIGIBLE) & (coefficient > 0)
        u0, k = u[short], coefficient[short]
        lower.append(-0.5 * k * u0 ** 1.5)
        index.append(np.column_stack([epigraph[short], legs[short]]).ravel())
        value.append(np.column_stack([np.ones(len(k)), -1.5 * k * np.sqrt(u0)]).ravel())
    count = sum(len(part) for part in lower)
    if not count:
        return None, total
    return (np.concatenate(lower), np.full(count, np.inf), 2 * np.arange(count), np.concatenate(index),
            np.concatenate(value)), total
