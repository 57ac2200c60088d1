"""Running the compile-free LP (program/_lp/matrices.py) on HiGHS through highspy.

One ``HighsLP`` holds one HiGHS instance: ``load`` passes a numeric LP (optionally with a starting basis: a
re-solve of the same structure), ``solve`` runs it and maps HiGHS's model status to our Status the way cvxpy's
HiGHS interface does, ``restrict`` changes costs and bounds in place (the moves phase starts from the cost
optimum's basis), and ``solution`` reads values and duals. Nothing is trusted: the engine verifies every answer
in numpy exactly as on the cvxpy path.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from functools import cached_property
from typing import Any

import highspy
import numpy as np

from allocator.program._lp.matrices import Matrices
from allocator.solve._solvers import SolveRecord, silence_highs_banner
from allocator.solve._status import Status

#: HiGHS model status -> ours (as cvxpy's HiGHS interface maps them; anything else is a solver error).
STATUS = {
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnboundedOrInfeasible": Status.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": Status.UNBOUNDED,
    "kObjectiveBound": Status.USER_LIMIT,
    "kObjectiveTarget": Status.USER_LIMIT,
    "kTimeLimit": Status.USER_LIMIT,
    "kIterationLimit": Status.USER_LIMIT,
    "kSolutionLimit": Status.USER_LIMIT,
    "kInterrupt": Status.USER_LIMIT,
}
COLUMNWISE, MINIMISE = 1, 1  # HiGHS's MatrixFormat.kColwise and ObjSense.kMinimize
#: Options of the cvxpy solver profile that are cvxpy's own, not HiGHS's.
CVXPY_ONLY = frozenset({"warm_start", "verbose"})
#: HiGHS's option for the dual simplex's edge weights: -1 lets HiGHS choose (steepest edge, which computes exact
#: weights when a run starts from a basis that is no longer optimal), 1 is Devex (weights reset to one).
EDGE_WEIGHTS, CHOOSE, DEVEX = "simplex_dual_edge_weight_strategy", -1, 1
ITERATION_LIMIT = "simplex_iteration_limit"
#: Devex iterations of a run that asks for them (``HighsLP.solve``) before it goes on with steepest edge: a what-if
#: re-solve makes 20-150 (docs/performance.md); one that makes thousands, or proves a program infeasible, is better
#: priced by steepest edge (measured: an infeasible re-solve at 500 x 40 took 17 s and ended in HiGHS's
#: "unknown" by Devex, 3.3 s by steepest edge).
DEVEX_ITERATIONS = 500


class Solution:
    """Values and duals in HiGHS's sign convention: ``row_dual`` is d(objective)/d(row bound) and ``col_dual``
    the reduced cost (non-negative for a column at its lower bound). Each array is read from the solution's source
    when first read: HiGHS's copy of a solution converts a list (a phase reads one to four of them, and at 300,000
    columns each costs about 10-15 ms); a completed solution (program/_lp/paths.py) computes its row activities
    only if they are read (the moves phase does; a what-if without the plan does not)."""

    _solution: Any  # set by ``of``: HiGHS's solution, or any object with the four arrays; ``__init__`` needs none

    def __init__(self, col_value: np.ndarray, col_dual: np.ndarray, row_value: np.ndarray,
                 row_dual: np.ndarray) -> None:
        """A solution from its four arrays (the cached properties read them as given)."""
        self.__dict__.update(col_value=col_value, col_dual=col_dual, row_value=row_value, row_dual=row_dual)

    @classmethod
    def of(cls, solution: Any) -> Solution:
        """A solution read from ``solution`` (HiGHS's, or another with the four arrays), each array when first
        read."""
        out = cls.__new__(cls)
        out._solution = solution
        return out

    def widened(self, keep: np.ndarray) -> Solution:
        """This solution of the program on the ``keep`` columns (a mask) as one of the whole program: every column
        left out at zero, the columns' duals unknown (NaN); the rows' arrays are the same, read when first read."""
        col_value = np.zeros(len(keep))
        col_value[keep] = self.col_value
        out = copy.copy(self)  # the same source, and any array already read
        out.__dict__.update(col_value=col_value, col_dual=np.full(len(keep), np.nan))
        return out

    @cached_property
    def col_value(self) -> np.ndarray:
        return _array(self._solution.col_value)

    @cached_property
    def col_dual(self) -> np.ndarray:
        return _array(self._solution.col_dual)

    @cached_property
    def row_value(self) -> np.ndarray:
        return _array(self._solution.row_value)

    @cached_property
    def row_dual(self) -> np.ndarray:
        return _array(self._solution.row_dual)


def _array(values: list[float] | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    return np.fromiter(values, dtype=np.float64, count=len(values))  # from HiGHS's list: 40% faster than asarray


def foreign_options(options: dict[str, Any]) -> list[str]:
    """The names in ``options`` that are neither HiGHS options nor the ones the linear path maps itself
    (``warm_start``, ``verbose``): cvxpy solve arguments, say, which only the cvxpy program can take."""
    silence_highs_banner()
    probe = highspy.Highs()
    return [name for name in options if name not in CVXPY_ONLY
            and _status(probe.getOptionValue(name)) == highspy.HighsStatus.kError]


def _value(answer: Any) -> Any:
    return answer[1] if isinstance(answer, tuple) else answer  # (status, value) from 1.8


def _status(answer: Any) -> Any:
    return answer[0] if isinstance(answer, tuple) else highspy.HighsStatus.kOk  # (status, value) from 1.8


@contextmanager
def _options(h: highspy.Highs, values: dict[str, Any]) -> Iterator[None]:
    """HiGHS's ``values`` for the options named, for the block; the options' previous values after it."""
    before = {name: _value(h.getOptionValue(name)) for name in values}
    try:
        for name, value in values.items():
            h.setOptionValue(name, value)
        yield
    finally:
        for name, value in before.items():
            h.setOptionValue(name, value)


def _joined(first: SolveRecord, rest: SolveRecord) -> SolveRecord:
    """One record for two runs of one solve: ``rest``'s outcome, both runs' time and iterations."""
    return replace(rest, setup_seconds=first.setup_seconds, compile_seconds=first.compile_seconds,
                   compiled=first.compiled, solve_seconds=first.solve_seconds + rest.solve_seconds,
                   wall_seconds=first.wall_seconds + rest.wall_seconds,
                   iterations=(first.iterations or 0) + (rest.iterations or 0))


class HighsLP:
    def __init__(self, options: dict[str, Any]) -> None:
        silence_highs_banner()
        self.highs = highspy.Highs()
        self.restarted = False  # the last solve started again from scratch (``solve``'s ``restart``)
        for name, value in {"output_flag": False, **options}.items():
            if name == "verbose":  # cvxpy's switch for the solver's log: HiGHS's own
                name, value = "output_flag", bool(value)
            elif name in CVXPY_ONLY:
                continue
            if self.highs.setOptionValue(name, value) == highspy.HighsStatus.kError:
                raise ValueError(f"HiGHS does not accept the option {name}={value!r}")

    def load(self, matrices: Matrices, basis: highspy.HighsBasis | None = None) -> float:
        """Pass the LP (replacing any previous one) and, for a re-solve, a starting basis; seconds taken."""
        return self.load_arrays(matrices.cost, matrices.col_lower, matrices.col_upper, matrices.row_lower,
                                matrices.row_upper, matrices.start, matrices.index, matrices.value, basis)

    def load_arrays(self, cost: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray, row_lower: np.ndarray,
                    row_upper: np.ndarray, start: np.ndarray, index: np.ndarray, value: np.ndarray,
                    basis: highspy.HighsBasis | None = None) -> float:
        """``load`` from plain arrays: the constraint matrix column-wise (``start`` has columns + 1 entries)."""
        started = time.perf_counter()
        columns, rows = len(cost), len(row_lower)
        # the arrays overload (num_col column starts, a full integrality vector of zeros: an LP) copies the numpy
        # arrays once; building a HighsLp object first took 50-80 ms at 500 x 40 against under 10 ms
        infinite = np.inf
        status = self.highs.passModel(
            columns, rows, len(value), COLUMNWISE, MINIMISE, 0.0, np.asarray(cost, dtype=float),
            np.nan_to_num(col_lower, neginf=-infinite), np.nan_to_num(col_upper, posinf=infinite),
            np.nan_to_num(row_lower, neginf=-infinite), np.nan_to_num(row_upper, posinf=infinite),
            np.asarray(start[:-1], dtype=np.int32), np.asarray(index, dtype=np.int32), np.asarray(value, dtype=float),
            np.zeros(columns, dtype=np.int32))
        if status == highspy.HighsStatus.kError:  # pragma: no cover - a programming error, not a user error
            raise RuntimeError("HiGHS refused the linear program's matrices")
        if basis is not None:
            self.highs.setBasis(basis)
        return time.perf_counter() - started

    def add_rows(self, lower: np.ndarray, upper: np.ndarray, start: np.ndarray, index: np.ndarray,
                 value: np.ndarray) -> None:
        """Append rows (row-wise: ``start`` has one entry per row) to the loaded LP; HiGHS keeps its basis, so the
        next solve starts from the last optimum (the dual simplex's warm start after cuts)."""
        self.highs.addRows(len(lower), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), len(value),
                           np.asarray(start, dtype=np.int32), np.asarray(index, dtype=np.int32),
                           np.asarray(value, dtype=float))

    def set_row_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds for the first ``len(lower)`` rows, in place (the basis is kept)."""
        rows = np.arange(len(lower), dtype=np.int32)
        self.highs.changeRowsBounds(len(rows), rows, np.nan_to_num(lower, neginf=-np.inf),  # type: ignore[attr-defined]
                                    np.nan_to_num(upper, posinf=np.inf))

    def objective(self) -> float:
        return float(self.highs.getInfo().objective_function_value)

    def with_options(self, values: dict[str, Any]) -> AbstractContextManager[None]:
        """HiGHS's ``values`` for the options named, for a ``with`` block; their previous values after it."""
        return _options(self.highs, values)

    def restrict(self, priced: np.ndarray, cost: np.ndarray, bounded: np.ndarray, col_lower: np.ndarray,
                 col_upper: np.ndarray, rows: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray) -> None:
        """New costs of the ``priced`` columns, new bounds of the ``bounded`` columns and of the ``rows`` (each an
        increasing index array with one value per index), in place: HiGHS keeps the current basis as its start.
        HiGHS sorts every index set it is given, so a caller passes only what changes."""
        h = self.highs
        priced, bounded, rows = (np.asarray(x, dtype=np.int32) for x in (priced, bounded, rows))
        if len(priced):
            h.changeColsCost(len(priced), priced, np.asarray(cost, dtype=float))
        if len(bounded):
            h.changeColsBounds(len(bounded), bounded, np.asarray(col_lower, dtype=float),
                               np.asarray(col_upper, dtype=float))
        if len(rows):
            h.changeRowsBounds(len(rows), rows, np.asarray(row_lower, dtype=float),  # type: ignore[attr-defined]
                               np.asarray(row_upper, dtype=float))

    def solve(self, time_limit: float | None = None, setup_seconds: float = 0.0, compile_seconds: float = 0.0,
              compiled: bool = False, method: str = "simplex", devex: bool = False, restart: int | None = None,
              restart_method: str | None = None) -> SolveRecord:
        """Run HiGHS with ``method`` (its ``solver`` option: "simplex", "ipx" with crossover to a vertex, ...).

        ``devex``: the dual simplex first prices by Devex weights, where HiGHS would choose its edge weights (an
        explicit ``simplex_dual_edge_weight_strategy`` always wins; the options are as before after the run). A
        run from a basis that is no longer optimal (a re-solve, a run after columns were opened) otherwise starts
        by computing exact steepest-edge weights for every row, which costs more than the few dozen iterations
        such a run makes.
        Devex runs ``DEVEX_ITERATIONS`` iterations at most: a run that needs more, or ends on any status but
        optimal or infeasible, goes on from where it stopped with HiGHS's choice (one record for both), within the
        ``simplex_iteration_limit`` in force.

        ``restart``: a run from a basis that has made this many iterations without ending starts again from
        scratch with ``restart_method`` (default ``method``), which HiGHS presolves (a run from a basis skips
        presolve); one record for both, and the ``simplex_iteration_limit`` in force holds for both together.

        A run that ends in HiGHS's "unknown" status with a valid basis goes on once from that basis refactorised
        (``_refactorised``).
        """
        record = self._solve(time_limit, setup_seconds, compile_seconds, compiled, method, devex, restart,
                             restart_method)
        return self._refactorised(record, time_limit, method)

    def _refactorised(self, record: SolveRecord, time_limit: float | None, method: str) -> SolveRecord:
        """``record``, or, when its run ended in HiGHS's "unknown" status with a valid basis, that and one more run
        from the same basis set again (one record for both). HiGHS 1.16 reports "unknown" where its own KKT check
        finds an optimal basis's primal and dual objectives apart: after a long chain of warm runs (the linear
        transition's cut rounds, 150 x 12 x 48: 2e-4 apart, 13 runs in) its values drifted from the basis. Setting
        the basis again makes HiGHS factorise it afresh and recompute the values: there the same basis was optimal,
        0 iterations, 0.07 s. Any other status, or "unknown" again, is returned as it is."""
        h = self.highs
        if not record.raw_status.endswith("(HiGHS kUnknown)"):
            return record
        basis = h.getBasis()
        left = None if time_limit is None else time_limit - record.wall_seconds
        if not basis.valid or (left is not None and left <= 0):
            return record
        h.setBasis(basis)
        return _joined(record, self._run(max(left, 1e-3) if left is not None else None, method, 0.0, 0.0, False))

    def _solve(self, time_limit: float | None, setup_seconds: float, compile_seconds: float, compiled: bool,
               method: str, devex: bool, restart: int | None, restart_method: str | None) -> SolveRecord:
        """``solve`` without the refactorised run."""
        h = self.highs
        self.restarted = False
        if restart is None:
            return self._priced(time_limit, method, setup_seconds, compile_seconds, compiled, devex)
        limit = int(_value(h.getOptionValue(ITERATION_LIMIT)))
        if restart >= limit:
            return self._priced(time_limit, method, setup_seconds, compile_seconds, compiled, devex)
        with _options(h, {ITERATION_LIMIT: restart}):
            first = self._priced(time_limit, method, setup_seconds, compile_seconds, compiled, devex)
        done = first.iterations or 0
        left = None if time_limit is None else time_limit - first.wall_seconds
        if first.status is not Status.USER_LIMIT or done < restart or (left is not None and left <= 0):
            return first
        h.clearSolver()  # the basis goes: the next run presolves
        self.restarted = True
        with _options(h, {ITERATION_LIMIT: limit - done}):
            rest = self._run(max(left, 1e-3) if left is not None else None, restart_method or method, 0.0, 0.0, False)
        return _joined(first, rest)

    def _priced(self, time_limit: float | None, method: str, setup_seconds: float, compile_seconds: float,
                compiled: bool, devex: bool) -> SolveRecord:
        """``solve``'s run with its pricing: Devex first, then HiGHS's choice, when ``devex`` asks for it."""
        h = self.highs
        weights = int(_value(h.getOptionValue(EDGE_WEIGHTS))) if devex else CHOOSE
        if not (devex and weights == CHOOSE):
            return self._run(time_limit, method, setup_seconds, compile_seconds, compiled)
        limit = int(_value(h.getOptionValue(ITERATION_LIMIT)))
        with _options(h, {EDGE_WEIGHTS: DEVEX, ITERATION_LIMIT: min(DEVEX_ITERATIONS, limit)}):
            first = self._run(time_limit, method, setup_seconds, compile_seconds, compiled)
        done = first.iterations or 0
        left = None if time_limit is None else time_limit - first.wall_seconds
        if first.status in (Status.OPTIMAL, Status.INFEASIBLE) or done >= limit or (left is not None and left <= 0):
            return first
        with _options(h, {ITERATION_LIMIT: limit - done}):  # HiGHS's own edge weights again
            rest = self._run(max(left, 1e-3) if left is not None else None, method, 0.0, 0.0, False)
        return _joined(first, rest)

    def _run(self, time_limit: float | None, method: str, setup_seconds: float, compile_seconds: float,
             compiled: bool) -> SolveRecord:
        h = self.highs
        h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else highspy.kHighsInf)
        h.setOptionValue("solver", method)
        started, clock = time.perf_counter(), h.getRunTime()
        h.run()
        wall = time.perf_counter() - started
        name = h.getModelStatus().name
        status = STATUS.get(name, Status.SOLVER_ERROR)
        info = h.getInfo()
        count = (info.simplex_iteration_count + info.ipm_iteration_count + info.crossover_iteration_count
                 + info.pdlp_iteration_count)
        return SolveRecord(solver="HIGHS", status=status, raw_status=f"{status.value} (HiGHS {name})",
                           setup_seconds=setup_seconds, solve_seconds=float(h.getRunTime() - clock), wall_seconds=wall,
                           compile_seconds=compile_seconds, compiled=compiled, iterations=int(count))

    def solution(self) -> Solution:
        return Solution.of(self.highs.getSolution())

    def crossover(self, col_value: np.ndarray, col_dual: np.ndarray, row_value: np.ndarray,
                  row_dual: np.ndarray, time_limit: float | None = None) -> tuple[bool, float]:
        """Cross over from a primal and dual solution of the loaded LP to a basis (IPX's crossover, as after its
        interior point): True if HiGHS found one (``solve`` then starts from it), and the seconds HiGHS took
        (not the copy of the four arrays into HiGHS's, which highspy makes element by element)."""
        h = self.highs
        h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else highspy.kHighsInf)
        given = highspy.HighsSolution()
        given.col_value, given.col_dual = col_value, col_dual
        given.row_value, given.row_dual = row_value, row_dual
        given.value_valid = given.dual_valid = True
        started = time.perf_counter()
        crossed = h.crossover(given) == highspy.HighsStatus.kOk
        seconds = time.perf_counter() - started
        return bool(crossed and h.getBasis().valid), seconds

    def basis(self) -> highspy.HighsBasis:
        return self.highs.getBasis()
