"""``plan_transition``: the multi-period transition from today's holdings to a covered end state.

    result = plan_transition(problem)                  # the convex program (Clarabel), verified
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

from allocator.errors import InputError, InputIssue, VerificationError
from allocator.inputs.problem import Problem
from allocator.solve.ladder import climb
from allocator.solve.solvers import SolveRecord, SolverProfile, normalise, profile
from allocator.transition.data import TransitionData
from allocator.transition.diagnose import TransitionInfeasibleError, diagnose
from allocator.transition.outcome import outcome
from allocator.transition.periods import Periods
from allocator.transition.program import TransitionProgram, build
from allocator.transition.replay import Replay
from allocator.transition.result import TransitionResult
from allocator.transition.risk import unapplied
from allocator.transition.solve import solve, verified
from allocator.transition.validate import validate_transition

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


def _options(name: str, periods: Periods) -> dict[str, object]:
    options = dict(OPTIONS.get(name, {}))
    if name == "CLARABEL":
        base, T = periods.base, periods.periods
        size = (len(periods.live_cells) + base.n_move_slots + 2 * periods.n_leg_slots) * T
        options["direct_solve_method"] = "faer" if size >= FAER_FROM else "qdldl"
    return options


def plan_transition(problem: Problem, *, solver: str | None = None, integer: bool = False, heuristic: bool = False,
                    time_limit: float | None = None) -> TransitionResult:
    started = time.perf_counter()
    if problem.schedule is None:
        raise InputError([InputIssue("schedule", "a transition needs a [schedule] table (periods, period_hours, "
                                     "participation); see docs/transition.md", "missing_schedule")])
    hedged = [InputIssue("hedges", "the transition does not trade hedges yet (docs/hedging.md); use `optimize`",
                         "not_supported")] if problem.hedges else []
    refused = unapplied(problem) + hedged
    if refused:
        raise InputError(refused)
    name = normalise(solver or SOLVER, cones=True)
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    first = profile(name)
    rungs = _Rungs(problem, periods, data, name, time_limit, _options(name, periods),
                   replace(first, coverage_margin=first.coverage_margin + MARGIN))
    climbed = climb(rungs, rungs.margins, widen=True)
    program, replay, record, notes = rungs.program, climbed.answer, climbed.record, climbed.notes
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
    result = outcome(problem, replay, record, mode="convex", total_seconds=time.perf_counter() - started,
                     notes=notes)
    if (integer or heuristic) and limited:
        from allocator.transition.limits import with_move_limits

        result = with_move_limits(problem, program, replay, result, name, integer=integer, time_limit=time_limit,
                                  started=started, notes=notes, options=rungs.options)
    _validated(problem, result)
    return result


@dataclass
class _Rungs:
    """The transition's rungs for the solve ladder (solve/ladder.py): build the program with the given margins.
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


def _validated(problem: Problem, result: TransitionResult) -> None:
    violations = validate_transition(problem, result)
    if violations:
        raise VerificationError([str(v) for v in violations], solver=result.diagnostics.solver)
