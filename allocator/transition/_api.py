"""``plan_transition``: the multi-period transition from today's holdings to a covered end state.

    result = plan_transition(problem)                  # the convex program (Clarabel), verified; large ones: linear
    result = plan_transition(problem, impact="exact")  # always the convex program
    result = plan_transition(problem, impact="linear") # the impact by tangent cuts on HiGHS, with a bound (_pwl.py)
    result = plan_transition(problem, integer=True)    # max_moves / min_move_value by MILP (HiGHS)
    result = plan_transition(problem, heuristic=True)  # the same limits by drop-fix-re-solve

A problem with move limits and neither option gets the heuristic (a note says so); ``integer=True`` on a problem
without move limits has nothing to enforce and returns the convex schedule (a note says so).

Raises :class:`~allocator.errors.InputError` without a ``[schedule]``, :class:`TransitionInfeasibleError` (with
the binding limits and the uncovered accounts) when no schedule covers every account in time, and
:class:`~allocator.errors.SolverError` / :class:`~allocator.errors.VerificationError` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

from allocator.errors import InputError, InputIssue, SolverError, VerificationError
from allocator.inputs.problem import Problem
from allocator.solve._blas import one_blas_thread
from allocator.solve._ladder import climb
from allocator.solve._solvers import SolveRecord, SolverProfile, normalise, profile
from allocator.transition._coarse import coarse_guess
from allocator.transition._data import TransitionData
from allocator.transition._diagnose import TransitionInfeasibleError, diagnose
from allocator.transition._outcome import outcome
from allocator.transition._periods import Periods
from allocator.transition._program import TransitionProgram, build
from allocator.transition._pwl import INITIAL_PIECES, ROUNDS, Cuts, solve_with_cuts
from allocator.transition._replay import Replay
from allocator.transition._result import TransitionResult
from allocator.transition._risk import cone_accounts, unapplied
from allocator.transition._solve import solve, verified
from allocator.transition._validate import validate_transition

#: The conic default: the impact law needs a cone.
SOLVER = "CLARABEL"
#: The coverage margin (of each account's scale) added to the buffered requirement, beyond the solver profile's:
#: what cleaning residue off the flows may take from the end state.
MARGIN = 1e-6
#: Solver options for the transition (docs/transition.md, measured): Clarabel's tolerances 1e-8, since 1e-9 (the
#: single-period profile) stalls at "optimal_inaccurate" on some derisk.toml variants.
OPTIONS: dict[str, dict[str, object]] = {"CLARABEL": {"tol_feas": 1e-8, "tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8}}
#: Clarabel's factorisation by program size (variables): QDLDL below, the supernodal faer above. Measured on
#: generated transitions: 9,580 variables 2.0 s (QDLDL) vs 5.6 s (faer); 56,962 variables 116 s vs 49 s.
FAER_FROM = 25_000
#: How the impact law is solved: "exact" (the convex program), "linear" (tangent cuts on HiGHS with a certified
#: bound, _pwl.py; no parametric risk cone) or "auto": linear from LINEAR_FROM variables when no cone is active
#: and no solver is named, else exact.
Impact = Literal["auto", "linear", "exact"]
LINEAR_FROM = 25_000
#: The linear path's coverage margin beyond the transition's MARGIN (of each account's scale): its cuts are met to
#: HiGHS's tolerance, so each leg's impact may sit a little under the curve; the replay takes that out of
#: purchases, and the margin keeps every account covered after it.
LINEAR_MARGIN = 1e-5


def _size(periods: Periods) -> int:
    """Variables of the program: live cells, moves and legs (both sides) over the periods."""
    base, T = periods.base, periods.periods
    return (len(periods.live_cells) + base.n_move_slots + 2 * periods.n_leg_slots) * T


def _linear(problem: Problem, periods: Periods, solver: str | None, impact: Impact) -> bool:
    """Whether the linear path solves the transition (see ``Impact``); "linear" with a parametric risk limit or
    another solver is an error."""
    if impact not in ("auto", "linear", "exact"):
        raise ValueError(f"impact must be 'auto', 'linear' or 'exact', not {impact!r}")
    cones = [int(k) for k in cone_accounts(periods)]
    if impact == "linear":
        if cones:
            raise InputError([InputIssue(f"accounts[{k}].risk.parametric", "impact='linear' solves linear programs; "
                                         "a parametric risk limit is a cone: use impact='exact' or 'auto'",
                                         "not_supported") for k in cones])
        if solver is not None and solver.upper() != "HIGHS":
            raise SolverError(f"impact='linear' is solved by HiGHS, not {solver}", solver=solver, status="unsupported")
        return True
    return impact == "auto" and solver is None and not cones and _size(periods) >= LINEAR_FROM


def _options(name: str, periods: Periods) -> dict[str, object]:
    options = dict(OPTIONS.get(name, {}))
    if name == "CLARABEL":
        base, T = periods.base, periods.periods
        size = (len(periods.live_cells) + base.n_move_slots + 2 * periods.n_leg_slots) * T
        options["direct_solve_method"] = "faer" if size >= FAER_FROM else "qdldl"
    return options


@one_blas_thread()  # BLAS's spinning threads would take the cores HiGHS needs (solve/_blas.py)
def plan_transition(problem: Problem, *, solver: str | None = None, integer: bool = False, heuristic: bool = False,
                    time_limit: float | None = None, impact: Impact = "auto") -> TransitionResult:
    started = time.perf_counter()
    if problem.schedule is None:
        raise InputError([InputIssue("schedule", "a transition needs a [schedule] table (periods, period_hours, "
                                     "participation); see docs/transition.md", "missing_schedule")])
    hedged = [InputIssue("hedges", "the transition does not trade hedges yet (docs/hedging.md); use `optimize`",
                         "not_supported")] if problem.hedges else []
    refused = unapplied(problem) + hedged
    if refused:
        raise InputError(refused)
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    linear = _linear(problem, periods, solver, impact)
    name = "HIGHS" if linear else normalise(solver or SOLVER, cones=True)
    first = profile(name)
    margins = replace(first, coverage_margin=first.coverage_margin + MARGIN + (LINEAR_MARGIN if linear else 0.0))
    rungs = (_LinearRungs if linear else _Rungs)(problem, periods, data, name, time_limit, _options(name, periods),
                                                 margins)
    climbed = climb(rungs, rungs.margins, widen=True)
    program, replay, record, notes = rungs.program, climbed.answer, climbed.record, climbed.notes
    lower = None
    if isinstance(rungs, _LinearRungs) and rungs.cuts is not None:
        lower = rungs.cuts.lower_bound * data.money * data.rate
        if rungs.cuts.rounds >= ROUNDS and not rungs.cuts.converged:
            notes.append(f"the impact's tangent cuts stopped after {ROUNDS} rounds with some legs' impact still "
                         "under the curve: the bound is wider than it would be")
    if record.note:
        notes.append(record.note)
    limited = problem.schedule.has_move_limits
    if limited and not (integer or heuristic):
        heuristic = True
        notes.append("max_moves / max_moves_per_period / min_move_value are met by the heuristic (the default); "
                     "integer=True (--integer) solves a mixed-integer program instead")
    if (integer or heuristic) and not limited:
        notes.append(f"{'integer' if integer else 'heuristic'}=True has nothing to enforce: the problem has no "
                     "max_moves, max_moves_per_period or min_move_value; the convex schedule is returned")
    result = outcome(problem, replay, record, mode="linear" if linear else "convex",
                     total_seconds=time.perf_counter() - started, notes=notes,
                     lower_bound=None if (integer or heuristic) and limited else lower)
    if (integer or heuristic) and limited:
        from allocator.transition._limits import with_move_limits

        exact = SOLVER if linear else name  # the schedules on a fixed support are the convex program's
        result = with_move_limits(problem, program, replay, result, exact, integer=integer, time_limit=time_limit,
                                  started=started, notes=notes, options=_options(exact, periods))
    _validated(problem, result)
    return result


@dataclass
class _Rungs:
    """The transition's rungs for the solve ladder (solve/_ladder.py): build the program with the given margins.
    Floors keep the first solve's margin on a wider retry (a wider one could freeze an account with little
    room above its floor); without margins they take none."""

    problem: Problem
    periods: Periods
    data: TransitionData
    name: str
    time_limit: float | None
    options: dict[str, object]
    margins: SolverProfile  # the first attempt's
    program: TransitionProgram = field(init=False)

    @property
    def solver(self) -> str:
        return self.name

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        self.program = build(self.periods, self.data, coverage_margin=margins.coverage_margin,
                             limit_margin=margins.limit_margin,
                             floor_margin=min(margins.coverage_margin, self.margins.coverage_margin))
        return solve(self.program, self.solver, self.time_limit, **self.options)

    def verify(self, record: SolveRecord, margins: SolverProfile) -> Replay:
        return verified(self.program, record)

    def diagnose(self) -> TransitionInfeasibleError | None:
        return diagnose(self.problem, self.periods, self.data, self.solver, **self.options)


@dataclass
class _LinearRungs(_Rungs):
    """The linear path (_pwl.py): the piecewise-linear program refined by tangent cuts on HiGHS; the lower bound is
    the margin-free program's with the same cuts. The elastic diagnosis is the convex program's (Clarabel)."""

    cuts: Cuts | None = field(default=None, init=False)

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        clock = time.perf_counter()
        # the coarse solve runs on a thread while the fine program is built and written (_direct.py) or compiled
        moves = coarse_guess(self.problem, self.periods, self.data, coverage_margin=margins.coverage_margin,
                             limit_margin=margins.limit_margin, pieces=INITIAL_PIECES, time_limit=self.time_limit)
        guess = time.perf_counter() - clock
        self.program = build(self.periods, self.data, coverage_margin=margins.coverage_margin,
                             limit_margin=margins.limit_margin,
                             floor_margin=min(margins.coverage_margin, self.margins.coverage_margin), pwl=True,
                             pieces=INITIAL_PIECES)
        # the bound's margin-free values are set on the program's own parameters (_pwl.free_values), unbuilt
        record, self.cuts = solve_with_cuts(self.program, self.time_limit, moves=moves, margin_free=True)
        return replace(record, setup_seconds=record.setup_seconds + guess)

    def diagnose(self) -> TransitionInfeasibleError | None:
        return diagnose(self.problem, self.periods, self.data, SOLVER, **_options(SOLVER, self.periods))


def _validated(problem: Problem, result: TransitionResult) -> None:
    violations = validate_transition(problem, result)
    if violations:
        raise VerificationError([str(v) for v in violations], solver=result.diagnostics.solver)
