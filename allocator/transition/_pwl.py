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

The fast start (issue 16; 12.3 s to about 6 s at 100 x 10 x 48): the moves a coarse-clock transition uses are
open first, the others closed and opened only where their reduced cost is negative (_coarse.py, _pricing.py), the
single-entry rows and implied bounds given as column bounds (_bounds.py), the holdings as what is left after each
period's departures and sales (_leftover.py: a third fewer rows), the matrices written directly from the
structure (_direct.py: cvxpy's compile, identical, took 0.3-0.5 s) with the margin-free bound's right-hand sides
from the same writer on other parameter values. None changes the program's optimum. The coarse solve runs on a
thread while the fine program is built (_coarse.py: HiGHS runs without Python's lock); the cut loop's own solves
stay on the calling
thread and serial (measured: the first solve on a thread, beside the margin-free bound's compile, made HiGHS slower
than the 0.1 s it hid; HiGHS's parallel dual simplex took 17.7 s instead of 1.2 s for one solve when another
process held the second core).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from cvxpy.reductions.dcp2cone.cone_matrix_stuffing import ConeMatrixStuffing

from allocator.solve._highs import HighsLP
from allocator.solve._solvers import SolveRecord, profile
from allocator.solve._status import Status
from allocator.transition._bounds import implied
from allocator.transition._direct import lp_data
from allocator.transition._leftover import Leftover, leftover
from allocator.transition._pricing import Columns
from allocator.transition._program import TransitionProgram, build
from allocator.transition._risk import RiskParameters
from allocator.transition._variables import TransitionParameters

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
#: Openings of closed moves (_pricing.py) at most: the last opens every move still closed.
OPENINGS = 8
#: After an opening of at most this many columns the runs price by Devex (HighsLP.solve ``devex``) until a larger
#: opening: after any opening HiGHS's default steepest edge first computes exact weights for every row, 0.2-0.3 s
#: at 100 x 10 x 48 for a run of 16 iterations (Devex: 20 iterations, 0.09-0.11 s, the same vertex). After larger
#: openings steepest edge makes fewer iterations (500 against Devex's 1,176 after 1,979 columns, which also ended
#: at another vertex), so it stays. A larger opening also re-solves alone, without that round's cuts (see the loop).
SMALL_OPENING = 100


#: Whether the plain ``pwl`` program's matrices are written directly (_direct.py) instead of compiled by cvxpy: the
#: same matrices; False compiles every program with cvxpy (the reference, tests/test_transition_direct.py).
DIRECT = True

#: The moves to open first (moves,), a function that waits for them (_coarse.coarse_guess), or None: all open.
Guess = np.ndarray | Callable[[], np.ndarray | None] | None


@dataclass(frozen=True)
class Cuts:
    """How the cut loop ended: the LP's optimum (program units: a lower bound of the convex optimum), the rounds,
    the tangents added and whether every leg's impact was exact to the tolerance (else the loop stopped when a
    round no longer helped, at HiGHS's own tolerance, or after ROUNDS)."""

    lower_bound: float
    rounds: int
    added: int
    converged: bool
    closed: int = 0  # move columns that stayed closed (priced out by their reduced costs, _pricing.py)


def _columns(offsets: dict[int, int], variable: cp.Variable) -> np.ndarray:
    """The LP columns of a variable's entries, in column-major order (cvxpy's stacking)."""
    return offsets[variable.id] + np.arange(variable.size)


def _compiled(program: TransitionProgram, dpp: bool = True, direct: bool | None = None
              ) -> tuple[dict[str, Any], dict[int, int], np.ndarray]:
    """The LP of a ``pwl`` program as cvxpy hands it to HiGHS (``A x <= b`` after ``dims.zero`` equalities, column
    bounds), its variables' column offsets and its rows' lower bounds.

    ``direct`` (default ``DIRECT``): written straight from the structure and the parameters' current values where
    _direct.py writes the program (the same matrices, entry for entry: 0.02 s against cvxpy's 0.3-0.5 s at 100 x
    10 x 48), else compiled by cvxpy. cvxpy compiles with DPP (the parameters kept symbolic): 0.45 s at 100 x 10
    x 48 (0.57 s without), and the margin-free right-hand sides of the bound are then the same compiled program
    with other parameter values, 0.01 s (``_margin_free``) where a second compile took as long as the first.
    ``dpp=False`` for a program compiled once (the coarse guess: 0.3 s against 0.6 s)."""
    written = lp_data(program) if (DIRECT if direct is None else direct) else None
    if written is not None:
        return written
    data, chain, inverse = program.problem.get_problem_data(cp.HIGHS, ignore_dpp=not dpp)
    offsets = next(i for r, i in zip(chain.reductions, inverse, strict=True)
                   if isinstance(r, ConeMatrixStuffing)).var_offsets
    rows, equalities = data["A"].shape[0], data["dims"].zero
    return data, offsets, np.concatenate([data["b"][:equalities], np.full(rows - equalities, -np.inf)])


def loaded(program: TransitionProgram, lp: HighsLP, moves: Guess = None, dpp: bool = True
           ) -> tuple[dict[str, Any], dict[int, int], Columns]:
    """Write (or compile, ``_compiled``) a ``pwl`` program and load it into ``lp``, with only the ``moves`` (a
    guess, _coarse.py) open in every period when given: the others are closed (_pricing.py). Its data
    (``rows`` the compiled rows as HiGHS's columns see them, ``kept`` the indices of those loaded, the seconds
    ``setup`` took, ``leftover`` the map from HiGHS's columns back to the program's), offsets and columns.
    ``moves`` may be a function that waits for the guess (_coarse.coarse_guess): called once the program is
    written, so that the coarse solve runs meanwhile.

    Rows of a single entry (the ``window`` rows of every move and leg, the rows fixing today's holdings) become
    column bounds: the same program, with 45% fewer rows at 100 x 10 x 48. HiGHS's presolve removes them from a
    first solve too, but not from the re-solves from a basis after each round of cuts. Before that, the holdings
    are substituted by what is left after each period's departures and sales (_leftover.py), which makes each
    ``available`` row of periods 2 to T such a row."""
    data, offsets, lower = _compiled(program, dpp)
    data, back, rows, col_lower, col_upper, kept = _prepared(program, data, offsets, lower)
    upper = np.asarray(data["b"], dtype=float)
    closed = None
    if callable(moves):
        moves = moves()
    if moves is not None:
        move = program.variables.move
        shut = np.zeros(move.shape[0], dtype=bool)
        shut[:len(moves)] = ~moves
        closed = _columns(offsets, move)[np.repeat(shut[:, None], move.shape[1], axis=1).ravel(order="F")]
    columns, setup = Columns.load(lp, rows[kept].tocsc(), np.asarray(data["c"], dtype=float), col_lower, col_upper,
                                  lower[kept], upper[kept], closed)
    return {**data, "rows": rows, "kept": kept, "setup": setup, "leftover": back}, offsets, columns


def _prepared(program: TransitionProgram, data: dict[str, Any], offsets: dict[int, int], lower: np.ndarray
              ) -> tuple[dict[str, Any], Leftover | None, sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """A compiled program as HiGHS gets it: the holdings substituted (_leftover.py; the data and the map back),
    its rows without explicit zeros, its column bounds and the indices of the rows kept (``_bounds``). One place
    for the program and its margin-free twin (``_unmargined``), whose rows the bound compares."""
    data, back = leftover(program, data, offsets, lower)
    rows = data["A"].tocsr()
    rows.eliminate_zeros()
    col_lower, col_upper, kept = _bounds(program, data, offsets, rows, lower)
    return data, back, rows, col_lower, col_upper, kept


def _bounds(program: TransitionProgram, data: dict[str, Any], offsets: dict[int, int], rows: sp.csr_matrix,
            lower: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The column bounds HiGHS gets (single-entry rows folded in, then the implied bounds, _bounds.py) and the
    indices of the rows it keeps: one place, so that the margin-free bound's program is bounded as the loaded one."""
    col_lower, col_upper, kept = _singletons(data, rows, lower)
    implied(program, offsets, col_lower, col_upper)
    return col_lower, col_upper, kept


def _singletons(data: dict[str, Any], rows: sp.csr_matrix, lower: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The column bounds of the compiled program with its rows of a single entry (``lower <= a x_j <= b``) folded
    in, and the indices of the other rows."""
    columns = rows.shape[1]
    upper = np.asarray(data["b"], dtype=float)
    col_lower = np.full(columns, -np.inf) if data.get("lower_bounds") is None else \
        np.array(data["lower_bounds"], dtype=float)
    col_upper = np.full(columns, np.inf) if data.get("upper_bounds") is None else \
        np.array(data["upper_bounds"], dtype=float)
    counts = np.diff(rows.indptr)
    single = np.flatnonzero(counts == 1)
    column, entry = rows.indices[rows.indptr[single]], rows.data[rows.indptr[single]]
    low, high = lower[single] / entry, upper[single] / entry  # lower is -inf or (equalities) b
    np.minimum.at(col_upper, column, np.where(entry > 0, high, low))
    np.maximum.at(col_lower, column, np.where(entry > 0, low, high))
    # the other rows, ascending (np.setdiff1d sorted 100,000 row indices for this: 25-35 ms at 100 x 10 x 48)
    return col_lower, col_upper, np.flatnonzero(counts != 1)


def solve_with_cuts(program: TransitionProgram, time_limit: float | None = None,
                    options: dict[str, object] | None = None,
                    moves: Guess = None, margin_free: bool = False) -> tuple[SolveRecord, Cuts | None]:
    """Solve ``program`` (a ``pwl`` variant) on HiGHS with tangent cuts until its impact is exact; sets the cvxpy
    variables' values as a solve would. Returns the summed record and the loop's outcome (None unless optimal).
    ``margin_free``: the lower bound is the optimum, with the same cuts, of the same program without margins (a
    bound of the convex optimum without margins; its parameter values set afresh, ``free_values``, not built),
    else ``program``'s own. ``moves``: (moves,) the moves to open
    first (_coarse.py), or the function that waits for them; the others are opened as their reduced costs ask
    (_pricing.py), None opens all."""
    started = time.perf_counter()
    lp = HighsLP({**profile("HIGHS").options, **OPTIONS, **(options or {})})
    # the bound's margin-free program is written first: it needs no solution, and while the coarse guess solves
    # on its thread (``loaded`` waits for it) the calling thread is otherwise idle (0.03-0.05 s at 100 x 10 x 48)
    free = _unmargined(program) if margin_free else None
    data, offsets, columns = loaded(program, lp, moves)
    compile_seconds = time.perf_counter() - started - data["setup"]
    v, T = program.variables, program.periods.periods
    assert v.sell_impact is not None and v.buy_impact is not None
    coefficient = np.tile(np.asarray(program.parameters.impact.value, dtype=float), T)  # column-major (legs, T)
    sides = [(_columns(offsets, v.sell), _columns(offsets, v.sell_impact)),
             (_columns(offsets, v.buy), _columns(offsets, v.buy_impact))]
    solve_seconds = wall = 0.0
    iterations, added, rounds = 0, 0, 0
    record: SolveRecord | None = None
    converged, previous, openings, finishing, devex = False, np.inf, 0, False, False
    row_dual = np.zeros(0)  # the last priced round's: the loop ends in one
    while True:
        rounds += 1
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - started), 1e-3)
        record = lp.solve(left, method="simplex", devex=devex)
        solve_seconds, wall = solve_seconds + record.solve_seconds, wall + record.wall_seconds
        iterations += record.iterations or 0
        if record.status is not Status.OPTIMAL:
            opened = columns.open(lp)  # the guess admits no schedule (or none was found): open every move
            if opened:
                devex = opened <= SMALL_OPENING
                continue
            break
        # the arrays read are converted from HiGHS's lists (np.fromiter, 1-1.5 ms each at 100 x 10 x 48; asarray
        # took 3-4 ms): the values every round, the row duals only when the closed moves are priced (and at the end)
        solution = lp.solution()
        x = solution.col_value
        cut, residual = _tangents(x, sides, coefficient)
        stop = cut is None or residual > (1.0 - STALL) * previous or rounds >= ROUNDS
        opened = 0
        # closed moves are priced after the first solve, when the cuts are first done, and every round after that
        # (in between, each opening would cost a re-solve of its own; once the cuts are done, an opening and the
        # few cuts it brings share one re-solve); the last time, whatever is left is opened: one more solve proves
        # the optimum
        finishing = finishing or stop
        if rounds == 1 or finishing:
            row_dual = solution.row_dual
            opened = columns.open(lp, row_dual if openings < OPENINGS - 1 else None)
            openings += bool(opened)
            if not opened and stop:
                converged = cut is None
                break
        # a new optimum after an opening: the stall test starts afresh
        previous = np.inf if opened else residual
        devex = opened <= SMALL_OPENING if opened else devex
        # after a large opening HiGHS re-solves with the opening alone: the new optimum moves most legs, so this
        # round's cuts would be out of date, and the dual simplex repairs both at once more slowly (100 x 10 x 48:
        # 5,142 iterations for 13,152 columns and 679 cuts in one run, 1.3-1.6 s; 4,181 and then 931 apart,
        # 1.0-1.1 s and 0.36 s); the next round cuts at the new optimum
        if cut is not None and opened <= SMALL_OPENING:
            lower, upper, start, index, value = cut
            lp.add_rows(lower, upper, start, index, value)
            added += len(lower)
    assert record is not None
    record = replace(record, setup_seconds=data["setup"], solve_seconds=solve_seconds, wall_seconds=wall,
                     compile_seconds=compile_seconds, compiled=True, iterations=iterations)
    if record.status is not Status.OPTIMAL:
        return record, None
    back: Leftover | None = data["leftover"]
    if back is not None:
        x = back.holdings(x)
    for variable in program.problem.variables():
        variable.save_value(x[_columns(offsets, variable)].reshape(variable.shape, order="F"))  # as a solver would
    bound = float(program.problem.objective.value)
    offset = bound - lp.objective()
    bound += columns.correction(row_dual)
    if free is not None:
        bound = _unmargined_bound(lp, free, data, bound, offset, columns)
    return record, Cuts(lower_bound=bound, rounds=rounds, added=added, converged=converged,
                        closed=len(columns.closed))


def _margin_free(program: TransitionProgram, unmargined: TransitionProgram | None = None
                 ) -> tuple[dict[str, Any], dict[int, int], np.ndarray]:
    """``program`` compiled with the margin-free parameter values, which are restored afterwards: the replay reads
    them. The values are ``unmargined``'s (the same structure, built by the same code: its parameters in the same
    order) or, without it, set afresh with zero margins (``free_values``: what building the margin-free program
    would give them, without building it)."""
    mine = program.problem.parameters()
    if unmargined is None:
        values = free_values(program)
        theirs = [values.get(id(p)) for p in mine]
        if any(value is None for value in theirs):  # a parameter free_values does not know: build after all
            unmargined = build(program.periods, program.data, coverage_margin=0.0, limit_margin=0.0,
                               floor_margin=0.0, pwl=True, pieces=INITIAL_PIECES)  # pieces add no parameter
    if unmargined is not None:
        others = unmargined.problem.parameters()
        if [(p.name(), p.shape) for p in mine] != [(p.name(), p.shape) for p in others]:
            return _compiled(unmargined)
        theirs = [q.value for q in others]
    saved = [p.value for p in mine]
    try:
        for p, value in zip(mine, theirs, strict=True):
            p.value = value
        return _compiled(program)
    finally:
        for p, value in zip(mine, saved, strict=True):
            p.value = value


def free_values(program: TransitionProgram) -> dict[int, Any]:
    """The values the margin-free variant of ``program`` (coverage, limit and floor margins zero) gives its
    parameters, by the ``id`` of ``program``'s parameter: the same ``set`` and ``RiskParameters.of`` as ``build``,
    on fresh parameters (building the whole program for them took 20-40 ms)."""
    periods, data = program.periods, program.data
    fresh = TransitionParameters.of(periods)
    fresh.set(periods, data, coverage_margin=0.0, limit_margin=0.0, floor_margin=0.0)
    out = {id(getattr(program.parameters, name.name)): getattr(fresh, name.name).value
           for name in fields(TransitionParameters)}
    if program.risk is not None:
        risk = RiskParameters.of(periods, data, 0.0)
        for name in fields(RiskParameters):
            mine, theirs = getattr(program.risk, name.name), getattr(risk, name.name)
            pairs = zip(mine, theirs, strict=True) if isinstance(mine, list) else [(mine, theirs)]
            out.update({id(p): q.value for p, q in pairs if p is not None and q is not None})
    return out


@dataclass(frozen=True)
class Unmargined:
    """The margin-free program as the loop loads its own (``loaded``): its rows (to compare with the loaded
    program's), row bounds and column bounds, and the indices of the rows kept."""

    rows: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    kept: np.ndarray


def _unmargined(program: TransitionProgram) -> Unmargined:
    """``program`` written with its margin-free parameter values (``_margin_free``), prepared as ``loaded``
    prepares the program itself (``_prepared``)."""
    free, free_offsets, lower = _margin_free(program)
    free, _, rows, col_lower, col_upper, kept = _prepared(program, free, free_offsets, lower)
    return Unmargined(rows=rows, row_lower=lower[kept], row_upper=np.asarray(free["b"], dtype=float)[kept],
                      col_lower=col_lower, col_upper=col_upper, kept=kept)


def _unmargined_bound(lp: HighsLP, free: Unmargined, data: dict[str, Any], bound: float, offset: float,
                      columns: Columns) -> float:
    """The cut LP's optimum with the margin-free right-hand sides and column bounds (``free``: the same matrix, as
    the margins are data), re-solved from the last basis, closed columns priced and opened as in the loop (their
    correction added); the margined optimum ``bound`` if anything differs (a bound still, of a program whose
    margins make it dearer)."""
    rows = free.rows
    if rows.shape != data["rows"].shape or (rows != data["rows"]).nnz or not np.array_equal(free.kept, data["kept"]):
        return bound
    lp.set_row_bounds(free.row_lower, free.row_upper)
    columns.rebound(lp, free.col_lower, free.col_upper)
    devex = False
    for attempt in range(OPENINGS + 1):
        record = lp.solve(None, method="simplex", devex=devex)
        if record.status is not Status.OPTIMAL:
            return bound
        row_dual = lp.solution().row_dual
        opened = columns.open(lp, row_dual if attempt < OPENINGS - 1 else None)
        if not opened:
            return lp.objective() + offset + columns.correction(row_dual)
        devex = opened <= SMALL_OPENING
    return bound


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
