"""Running a compiled cvxpy problem on a named solver, with the options measured to be right for it.

Defaults (see docs/performance.md): HiGHS for the linear program, without cvxpy's warm start (measured 5x slower
on DPP re-solves) and with feasibility tolerances of 1e-9; Clarabel single-threaded (its default threading is
2-5x slower on two cores) with tolerances of 1e-9. Any cvxpy solver can be named; unknown options pass through.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from allocator.errors import SolverError
from allocator.program._layout import Layout
from allocator.program._lp.support import unsupported
from allocator.solve._status import Status

if TYPE_CHECKING:  # imported where a cvxpy program is solved: the linear path runs without cvxpy
    import cvxpy as cp

DEFAULT_SOLVER = "HIGHS"

@dataclass(frozen=True)
class SolverProfile:
    """How we drive one solver: its options, and the margins that make its answers pass an exact check.

    ``coverage_margin`` (scaled value units) is added to every positive requirement and ``limit_margin``
    (relative) taken off every concentration share, so that an answer within the solver's own feasibility
    tolerance still satisfies the original constraints when checked in numpy: rounding in the accounts' favour.
    A simplex vertex (HiGHS) is exact to far below 1e-9; interior-point solvers stop about 1e-8 from the boundary
    (measured: Clarabel's cone rows missed by up to 3e-7 of an account, so its margins are 1e-6)
    of the whole problem, which for a small asset inside a large book can be 1e-6 of the asset: ``tolerance`` is
    what the verification accepts, relative to each asset's inventory and each account's size, before crumbs are
    repaired (a little less is moved, so nothing is overdrawn) and coverage is checked exactly.
    """

    options: dict[str, Any]
    coverage_margin: float = 1e-7
    limit_margin: float = 1e-7
    tolerance: float = 1e-6  # of the verification (solve/_verify.py), relative to each asset and account
    #: after an "optimal_inaccurate" status, solve once more with these tolerance options this many times looser
    #: (none: no second solve); the answer must still be exactly "optimal" and pass the verification
    loosen_on_inaccurate: tuple[tuple[str, ...], float] | None = None

    def without_margins(self) -> SolverProfile:
        return replace(self, coverage_margin=0.0, limit_margin=0.0)

    def widened(self, factor: float) -> SolverProfile:
        """The same solver with margins ``factor`` times wider (a retry after a cone missed by its tolerance)."""
        return replace(self, coverage_margin=self.coverage_margin * factor, limit_margin=self.limit_margin * factor)


PROFILES: dict[str, SolverProfile] = {
    # simplex_scale_strategy 4 (HiGHS's max-value scaling): the account-normalised rows (scaling.py) had doubled
    # the simplex time with the default scaling (500 x 40 hub-and-spoke: 5.1 s, now 2.4 s; docs/performance.md)
    "HIGHS": SolverProfile({"warm_start": False, "simplex_scale_strategy": 4, "primal_feasibility_tolerance": 1e-9,
                            "dual_feasibility_tolerance": 1e-9, "output_flag": False}, 1e-9, 0.0, 1e-9),
    # QDLDL, not Clarabel's "auto" choice (the supernodal faer at this size): one solve of the generated
    # 500 x 30 x 500 risk program took 3.1 s with QDLDL and 12.1 s with faer (docs/performance.md).
    # Clarabel can stall at "optimal_inaccurate" (seen on 1 of 10,000 random risk problems at 1e-9 and 1 of a few
    # thousand random transitions at 1e-8); 10x looser tolerances then solved both, and the margins (1e-6) still
    # cover the looser stop.
    # warm_start=False: with it, cvxpy reuses the problem's cached Clarabel object and updates only the settings
    # passed, so a retry's looser tolerances stayed in force for every later re-solve (tests/test_solve_ladder.py).
    "CLARABEL": SolverProfile({"warm_start": False, "max_threads": 1, "direct_solve_method": "qdldl", "tol_feas": 1e-9,
                               "tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9},
                              1e-6, 1e-6, 1e-6,
                              loosen_on_inaccurate=(("tol_feas", "tol_gap_abs", "tol_gap_rel"), 10.0)),
}


def profile(solver: str) -> SolverProfile:
    return PROFILES.get(solver, SolverProfile({}))


TIME_LIMIT_OPTION = {"HIGHS": "time_limit", "CLARABEL": "time_limit", "SCS": "time_limit_secs"}


@dataclass(frozen=True)
class SolveRecord:
    solver: str
    status: Status
    raw_status: str
    setup_seconds: float
    solve_seconds: float
    wall_seconds: float
    compile_seconds: float
    compiled: bool
    iterations: int | None
    note: str | None = None  # a second solve after an inaccurate status (SolverProfile.loosen_on_inaccurate)


#: The default for programs with second-order cones (parametric risk limits), which LP solvers cannot take.
DEFAULT_CONIC_SOLVER = "CLARABEL"
LP_ONLY = frozenset({"HIGHS", "GLPK", "GLPK_MI", "CBC", "GLOP", "PDLP", "CPLEX_LP"})


@functools.cache
def installed_solvers() -> tuple[str, ...]:
    """cvxpy's installed solvers, asked once per process (cvxpy probes every solver's import on each call: several
    milliseconds, a tenth of the desk's whole solve)."""
    import cvxpy as cp

    return tuple(cp.installed_solvers())


def _highs_installed() -> bool:
    """HiGHS's Python module can be imported (what cvxpy's ``installed_solvers`` asks of it), without importing
    cvxpy: the default solver's check on the linear path (cvxpy's import is 1.1 s of a desk's 2.4 s CLI run)."""
    import importlib.util

    return importlib.util.find_spec("highspy") is not None


def normalise(solver: str | None, cones: bool = False) -> str:
    name = (solver or (DEFAULT_CONIC_SOLVER if cones else DEFAULT_SOLVER)).upper()
    if not (name == "HIGHS" and _highs_installed()) and name not in installed_solvers():
        raise SolverError(f"solver {name!r} is not installed; installed: {', '.join(installed_solvers())}",
                          solver=name, status="unavailable")
    if cones and name in LP_ONLY:
        raise SolverError(f"solver {name} solves linear programs only, and this problem has parametric risk limits "
                          f"(second-order cones); use {DEFAULT_CONIC_SOLVER}", solver=name, status="unsupported")
    return name


#: "auto" takes the compile-free linear path for every problem it serves, whatever its size: it gives the cvxpy
#: program's answer (tests/test_fast_lp.py compares them on every fixture) without compiling, about 7x faster on the
#: desk (docs/performance.md, hedging); "cvxpy" is the general program every feature has.
Backend = Literal["auto", "highs", "cvxpy"]


def choose_backend(backend: Backend, layout: Layout, solver: str,
                   foreign: Sequence[str] = ()) -> Literal["highs", "cvxpy"]:
    """Which program solves a problem: "highs" (program/_lp, solve/_fast.py) or "cvxpy" (program/_model.py).
    Forcing "highs" on a problem with a feature the linear path does not have, with another solver, or with
    ``foreign`` solver options (names that are not HiGHS options: cvxpy solve arguments) is a SolverError with
    status "unsupported"; "auto" then takes cvxpy."""
    if backend not in ("auto", "highs", "cvxpy"):
        raise ValueError(f"backend must be 'auto', 'highs' or 'cvxpy', not {backend!r}")
    if backend == "cvxpy":
        return "cvxpy"
    reasons = unsupported(layout) + ([] if solver == "HIGHS" else [f"solver {solver} (the linear path is HiGHS)"])
    reasons += [f"solver_options {name!r} (not a HiGHS option)" for name in foreign]
    if backend == "highs" and reasons:
        raise SolverError(f"the compile-free linear path does not support {'; '.join(reasons)}; use backend='cvxpy' "
                          "or 'auto'", solver=solver, status="unsupported")
    if backend == "highs":
        return "highs"
    return "cvxpy" if reasons else "highs"


@functools.cache
def silence_highs_banner() -> None:
    """HiGHS prints a banner to the process's stdout when its first instance is made; make that one quietly."""
    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


#: A conic program is compiled once with DPP only while (parameter entries x variables) stays below this: cvxpy's
#: cone restructuring allocates work arrays of that size (1.2 GB and 1.4 s at 100 assets x 10 risk accounts).
#: Above it every solve compiles the program afresh with the parameters' current values (ignore_dpp), which at
#: that size costs less than the solve itself (docs/performance.md).
DPP_TENSOR_LIMIT = 2e7


def use_dpp(problem: cp.Problem) -> bool:
    """Whether to solve ``problem`` through its cached DPP compilation (see DPP_TENSOR_LIMIT): always for a
    linear program (no cone restructuring), for a conic one (second-order, power cones) only while small."""
    if problem.is_qp():
        return True
    entries = sum(parameter.size for parameter in problem.parameters())
    return entries * sum(variable.size for variable in problem.variables()) <= DPP_TENSOR_LIMIT


def run(problem: cp.Problem, solver: str, time_limit: float | None = None, **options: Any) -> SolveRecord:
    """Solve and map the outcome to our Status; never raises for a solver's failure, only records it. An
    "optimal_inaccurate" stop is solved once more with looser tolerances where the profile says so."""
    settings = {**profile(solver).options, **options}
    if time_limit is not None:
        settings[TIME_LIMIT_OPTION.get(solver, "time_limit")] = float(time_limit)
    record = _run_once(problem, solver, settings)
    loosen = profile(solver).loosen_on_inaccurate
    if record.status is Status.OPTIMAL_INACCURATE and loosen is not None:
        keys, factor = loosen
        looser = {**settings, **{key: settings[key] * factor for key in keys if key in settings}}
        again = _run_once(problem, solver, looser)
        changed = ", ".join(f"{key}={looser[key]:g}" for key in keys if key in looser)
        record = replace(again, compiled=record.compiled or again.compiled,
                         note=f"{solver} stopped at 'optimal_inaccurate'; solved again with {changed}")
    return record


def _run_once(problem: cp.Problem, solver: str, settings: dict[str, Any]) -> SolveRecord:
    from cvxpy.error import SolverError as SolverFailure  # cvxpy's, not ours

    if solver == "HIGHS":
        silence_highs_banner()
    dpp = use_dpp(problem)
    compiled = not dpp or getattr(getattr(problem, "_cache", None), "param_prog", None) is None
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():  # an inaccurate solve is a status we act on, not a warning to print
            warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
            problem.solve(solver=solver, ignore_dpp=not dpp, **settings)
        raw = str(problem.status)
    except SolverFailure as error:
        raw = f"solver_error: {error}"
    wall = time.perf_counter() - started
    stats = problem.solver_stats
    status = Status.from_cvxpy(raw) if not raw.startswith("solver_error") else Status.SOLVER_ERROR
    return SolveRecord(
        solver=solver, status=status, raw_status=raw,
        setup_seconds=float(getattr(stats, "setup_time", None) or 0.0) if stats else 0.0,
        solve_seconds=float(getattr(stats, "solve_time", None) or 0.0) if stats else 0.0,
        wall_seconds=wall,
        compile_seconds=float(problem.compilation_time or 0.0),
        compiled=compiled,
        iterations=getattr(stats, "num_iters", None) if stats else None,
    )


def values(variable: cp.Variable) -> np.ndarray | None:
    """A variable's value, or None when the solver left it missing or not finite."""
    value = variable.value
    if value is None:
        return None
    array = np.atleast_1d(np.asarray(value, dtype=float))
    return array if np.all(np.isfinite(array)) else None
