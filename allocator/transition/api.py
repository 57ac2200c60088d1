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

from allocator.errors import InputError, InputIssue, SolverError, VerificationError
from allocator.problem import Problem
from allocator.solve.solvers import WIDER_MARGINS, normalise, profile
from allocator.solve.status import MAYBE_INFEASIBLE, stalled
from allocator.transition.data import TransitionData
from allocator.transition.diagnose import diagnose
from allocator.transition.outcome import outcome
from allocator.transition.periods import Periods
from allocator.transition.program import build
from allocator.transition.result import TransitionResult
from allocator.transition.risk import has_limits, unapplied
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
    curved = [InputIssue(f"accounts[{k}].haircut_models" if asset in account.haircut_models
                         else f"accounts[{k}].rulebook",
                         f"{asset} is credited on a collateral curve; the transition program takes flat haircuts "
                         "only (give a flat haircut for it, or use `optimize`)", "not_supported")
              for k, account in enumerate(problem.accounts) for asset in account.curves]
    refused = curved + unapplied(problem)
    if refused:
        raise InputError(refused)
    name = normalise(solver or SOLVER, cones=True)
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    margins = profile(name)
    program = build(periods, data, coverage_margin=margins.coverage_margin + MARGIN,
                    limit_margin=margins.limit_margin)
    options = _options(name, periods)
    record = solve(program, name, time_limit, **options)
    notes = []
    unfinished = stalled(record.status, time_limit)
    if record.status in MAYBE_INFEASIBLE or unfinished:
        error = diagnose(problem, periods, data, name, **options)
        if getattr(error, "status", None) != "inconsistent":
            raise error
        if has_limits(periods):  # every account can be covered, but maybe not under its end-state risk limits
            from allocator.transition.risk_infeasible import risk_shortfalls

            short = risk_shortfalls(periods, data, name, **options)
            if short is not None:
                raise short
        if unfinished:  # feasible: the solver simply did not finish
            raise SolverError(f"solver {name} returned {record.raw_status!r} (its iteration limit) for the "
                              "transition program; only an exact optimum is accepted", solver=name,
                              status=record.status.value)
        # the elastic copy (no margins) covers every account: covered only exactly, as in the engine; solve
        # again without the margins and let the verification decide
        program = build(periods, data, coverage_margin=0.0, limit_margin=0.0)
        record = solve(program, name, time_limit, **options)
        notes.append("some account can only be covered exactly (no margin for rounding)")
    try:
        replay = verified(program, record)
    except VerificationError as error:
        if notes:  # already without margins: nothing wider to ask for
            raise
        # an interior-point answer can miss a row by about its tolerance: ask once more with wider margins
        # (as the engine does) and verify again; the first answer is never used
        # floors keep the first solve's margin: a wider one could freeze an account with little room
        program = build(periods, data, coverage_margin=(margins.coverage_margin + MARGIN) * WIDER_MARGINS,
                        limit_margin=margins.limit_margin * WIDER_MARGINS,
                        floor_margin=margins.coverage_margin + MARGIN)
        record = solve(program, name, time_limit, **options)
        try:
            replay = verified(program, record)
        except SolverError as retry:  # the retry failed too (or is infeasible with wider margins): say both
            raise VerificationError([str(error)[:400], f"re-solved with {WIDER_MARGINS:g}x wider margins: "
                                     f"{str(retry)[:400]}"], solver=name) from retry
        notes.append(f"re-solved with {WIDER_MARGINS:g}x wider margins after the first answer missed by the "
                     f"solver's tolerance ({str(error)[:160]})")
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
                                  started=started, notes=notes, options=options)
    _validated(problem, result)
    return result


def _validated(problem: Problem, result: TransitionResult) -> None:
    violations = validate_transition(problem, result)
    if violations:
        raise VerificationError([str(v) for v in violations], solver=result.diagnostics.solver)
