"""Move limits: ``max_moves`` (in total), ``max_moves_per_period`` and ``min_move_value`` (no dust).

A *move* is one transfer (route, asset, period) or one trade leg (venue, asset, side, period) that carries value.
The limits are not convex; two ways to meet them, both starting from the convex relaxation (the schedule without
the limits, whose cost is a lower bound):

- ``integer``: a mixed-integer program (HiGHS) with a binary per move and the impact term replaced by its
  piecewise-linear outer approximation (costs.outer_impact). Its binaries choose the *support* (which moves
  happen); the convex program restricted to that support (upper bound zero elsewhere, ``min_move_value`` below
  on it) then gives the exact schedule and cost. A MILP stopped at a limit (time, nodes, iterations) is accepted
  with its incumbent: the result's status is then ``feasible (time limit)`` (not ``optimal``) with HiGHS's own
  relative gap; the restricted convex solve must be exactly optimal and passes the same numpy check. Progress
  is logged while it runs (_milp_log.py). The heuristic below is run too and its schedule returned if its exact
  cost is lower (it is a feasible point of the MILP, which a time-limited or approximate MILP may miss): the MILP
  option is never worse.
- ``heuristic``: drop the relaxation's moves below ``min_move_value``, keep the largest within the count limits,
  fix that support and re-solve the convex program; repeat while moves collapse onto their lower bound. Nothing
  proves its schedule optimal: its status is ``feasible (heuristic)``.

Either way the result reports ``relaxation_cost`` and ``gap = (cost - relaxation) / |relaxation|``: the price of
the limits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from allocator.errors import SolverError, VerificationError
from allocator.inputs.problem import Problem
from allocator.solve._solvers import SolveRecord
from allocator.solve._status import Status
from allocator.transition._milp_log import MilpWatch
from allocator.transition._outcome import cost_of, outcome
from allocator.transition._program import TransitionProgram, build
from allocator.transition._replay import Replay
from allocator.transition._result import TransitionResult
from allocator.transition._solve import CLEAN, solve, verified
from allocator.transition._variables import BOUND

#: Seconds the MILP may take when no time limit is given.
MILP_SECONDS = 30.0
#: Heuristic rounds at most.
ROUNDS = 60
#: HiGHS options of the MILP: stop within 0.01% of the best bound.
MILP_OPTIONS: dict[str, Any] = {"mip_rel_gap": 1e-4}
#: HiGHS's reasons for stopping early (its log's "Status" line), as our status says them.
STOPPED = {"Time limit reached": "time limit", "Iteration limit reached": "iteration limit",
           "Solution limit reached": "node or solution limit", "Interrupted by user": "interrupted"}


@dataclass(frozen=True)
class MilpOutcome:
    """How the MILP ended: ``status`` is "optimal" (within ``mip_rel_gap``) or "feasible (<why it stopped>)";
    ``gap`` is HiGHS's relative gap between its incumbent and its bound."""

    status: str
    gap: float | None


Support = tuple[np.ndarray, np.ndarray, np.ndarray]  # (M, T), (N, T), (N, T) booleans


def with_move_limits(problem: Problem, relaxed: TransitionProgram, relaxed_replay: Replay, relaxation: TransitionResult,
                     solver: str, *,
                     integer: bool, time_limit: float | None, started: float, notes: list[str],
                     options: dict[str, object] | None = None,
                     milp_options: dict[str, Any] | None = None) -> TransitionResult:
    """The schedule meeting the move limits (module docstring); ``milp_options`` are extra HiGHS options of the
    MILP (e.g. ``mip_max_nodes``)."""
    assert problem.schedule is not None
    options = options or {}
    restricted = build(relaxed.periods, relaxed.data, coverage_margin=_margin(relaxed),
                       limit_margin=_limit_margin(relaxed), lower=True)
    milp_gap = None
    if integer:
        mode = "milp"
        chosen: tuple[Replay, SolveRecord] | None = None
        support, milp = milp_support(problem, relaxed, time_limit, **(milp_options or {}))  # raises if infeasible
        milp_gap, status = milp.gap, milp.status
        try:
            if support is None:
                raise SolverError(f"the mixed-integer program {status}", solver="HIGHS", status=str(Status.USER_LIMIT))
            chosen = _restricted(problem, restricted, support, solver, options)
        except SolverError as error:  # no incumbent, or its moves fall short under the exact impact law
            why = "" if support is None else "; its impact is a lower approximation: on its moves the exact " \
                "impact law leaves an account short"
            failure, status = error, f"the MILP gave no schedule ({milp.status}{why})"
        try:  # the heuristic's schedule is a feasible point of the MILP: never return a worse one
            seed = _heuristic(problem, build(relaxed.periods, relaxed.data, coverage_margin=_margin(relaxed),
                                             limit_margin=_limit_margin(relaxed), lower=True),
                              relaxed, solver, options)
        except SolverError:
            seed = None
        if chosen is None:
            if seed is None:
                raise failure
            notes = [*notes, f"{status}: the heuristic's schedule is returned"]
            chosen, status = seed, "feasible (heuristic schedule)"
        elif seed is not None and cost_of(seed[0]).total < cost_of(chosen[0]).total:
            notes = [*notes, f"the MILP's schedule (exact cost {cost_of(chosen[0]).total:,.2f}) did not improve on "
                     f"the heuristic's ({cost_of(seed[0]).total:,.2f}), which is returned"]
            chosen, status = seed, "feasible (heuristic schedule)"
        replay, record = chosen
    else:
        replay, record = _heuristic(problem, restricted, relaxed, solver, options)
        mode, status = "heuristic", "feasible (heuristic)"
    _check_limits(problem, replay, record.solver)
    return outcome(problem, replay, record, mode=mode, total_seconds=time.perf_counter() - started,  # type: ignore
                   notes=notes, relaxation=relaxation.costs.total, milp_gap=milp_gap, status=status,
                   support_solver="HIGHS")


def _margin(program: TransitionProgram) -> float:
    required, data = np.asarray(program.parameters.required.value), program.data
    positive = data.required > 0
    return float((required[positive] - data.required[positive]).max()) if positive.any() else 0.0


def _limit_margin(program: TransitionProgram) -> float:
    data = program.data
    if not len(data.limit):
        return 0.0
    return float((data.limit - np.asarray(program.parameters.limit.value)[:len(data.limit)]).max())


def arrays(replay: Replay) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return replay.move, replay.sell, replay.buy


def count(replay: Replay) -> tuple[int, np.ndarray]:
    """(total moves, moves per period) of a schedule."""
    per = sum((array > 0).sum(axis=0) for array in arrays(replay))
    return int(per.sum()), np.asarray(per)


def _check_limits(problem: Problem, replay: Replay, solver: str) -> None:
    schedule = problem.schedule
    assert schedule is not None
    total, per = count(replay)
    out = []
    if schedule.max_moves is not None and total > schedule.max_moves:
        out.append(f"{total} moves, above max_moves = {schedule.max_moves}")
    if schedule.max_moves_per_period is not None and per.max(initial=0) > schedule.max_moves_per_period:
        out.append(f"{int(per.max())} moves in period {int(per.argmax()) + 1}, above max_moves_per_period = "
                   f"{schedule.max_moves_per_period}")
    floor = schedule.min_move_value * (1 - 1e-6)
    for name, array in zip(("transfer", "sell", "buy"), arrays(replay), strict=True):
        small = (array > 0) & (array < floor)
        if small.any():
            out.append(f"{int(small.sum())} {name} moves below min_move_value = {schedule.min_move_value:,.2f}")
    if out:
        raise VerificationError(out, solver=solver)


def _bound(program: TransitionProgram, support: Support, minimum: float) -> None:
    """Restrict a program to a support: moves off it bounded by zero, moves on it at least ``minimum`` (scaled)."""
    p, periods = program.parameters, program.periods
    for upper, lower, on in ((p.move_upper, p.move_lower, support[0]), (p.sell_upper, p.sell_lower, support[1]),
                             (p.buy_upper, p.buy_lower, support[2])):
        padded = np.zeros(upper.shape, dtype=bool)
        padded[:on.shape[0]] = on
        if upper is p.move_upper:
            padded[:periods.n_moves] &= periods.open
        upper.value = np.where(padded, BOUND, 0.0)
        lower.value = np.where(padded, minimum, 0.0)


def _restricted(problem: Problem, program: TransitionProgram, support: Support, solver: str,
                options: dict[str, object]) -> tuple[Replay, SolveRecord]:
    """The exact convex program on a fixed support, with min_move_value on every move of it."""
    assert problem.schedule is not None
    _bound(program, support, problem.schedule.min_move_value / program.data.money)
    record = solve(program, solver, None, **options)
    if record.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        raise SolverError("no schedule on the chosen support meets every requirement with min_move_value; "
                          "relax the move limits", solver=solver, status=str(record.status))
    return verified(program, record), record


def _support(program: TransitionProgram, minimum: float) -> Support:
    """The moves of a solved program carrying at least ``minimum`` (currency) and more than residue."""
    periods, v = program.periods, program.variables
    out = []
    for variable, rows in ((v.move, periods.n_moves), (v.sell, periods.n_legs), (v.buy, periods.n_legs)):
        value = np.asarray(variable.value)[:rows] * program.data.money
        out.append((value >= minimum) & (value > CLEAN * program.data.money))
    return out[0], out[1], out[2]


def _excess(problem: Problem, support: Support) -> tuple[np.ndarray, int]:
    """(moves above max_moves_per_period in each period, moves above max_moves in total)."""
    schedule = problem.schedule
    assert schedule is not None
    per = np.asarray(sum(on.sum(axis=0) for on in support))
    cap = schedule.max_moves_per_period if schedule.max_moves_per_period is not None else int(per.max(initial=0))
    total = int(per.sum())
    return np.maximum(per - cap, 0), max(total - (schedule.max_moves if schedule.max_moves is not None else total), 0)


def _heuristic(problem: Problem, program: TransitionProgram, relaxed: TransitionProgram, solver: str,
               options: dict[str, object]) -> tuple[Replay, SolveRecord]:
    """Drop, fix, re-solve on the linear (piecewise-linear impact) program (HiGHS, which detects an infeasible
    support reliably): the moves below ``min_move_value`` and, where there are too many, the smallest are the
    candidates; half of them (smallest first) are dropped and the program re-solved on the rest. If that support
    is infeasible, half as many are dropped; a single move whose removal is infeasible is kept (and raised to
    ``min_move_value`` by the final solve). The exact convex program on the final support gives the schedule."""
    assert problem.schedule is not None
    minimum = problem.schedule.min_move_value
    linear = build(relaxed.periods, relaxed.data, coverage_margin=_margin(relaxed),
                   limit_margin=_limit_margin(relaxed), pwl=True, lower=True)
    support = _support(relaxed, 0.0)
    kept = tuple(np.zeros_like(on) for on in support)
    _bound(linear, support, 0.0)
    if solve(linear, "HIGHS").status != Status.OPTIMAL:
        raise SolverError("the heuristic's first linear solve failed", solver="HIGHS", status="solver_error")
    for _ in range(ROUNDS):
        values = _values(linear, support)
        candidates = _candidates(problem, support, values, kept, minimum)
        if not candidates:
            over, total = _excess(problem, support)
            if over.any() or total:
                raise SolverError("the heuristic cannot meet the move limits: every remaining move is needed by "
                                  "its schedule; use integer=True or relax the limits", solver="HIGHS",
                                  status="user_limit")
            return _restricted(problem, program, support, solver, options)
        drop = max(len(candidates) // 2, 1)
        while True:
            trial = tuple(on.copy() for on in support)
            for part, row, t in candidates[:drop]:
                trial[part][row, t] = False
            _bound(linear, trial, 0.0)  # type: ignore[arg-type]
            if solve(linear, "HIGHS").status == Status.OPTIMAL:
                support = trial  # type: ignore[assignment]
                break
            if drop == 1:
                part, row, t = candidates[0]
                kept[part][row, t] = True
                _bound(linear, support, 0.0)
                solve(linear, "HIGHS")
                break
            drop //= 2
    raise SolverError(f"the heuristic did not meet the move limits in {ROUNDS} rounds; use integer=True",
                      solver="HIGHS", status="user_limit")


def _values(program: TransitionProgram, support: Support) -> tuple[np.ndarray, ...]:
    v, money = program.variables, program.data.money
    return tuple(np.where(on, np.asarray(var.value)[:on.shape[0]] * money, 0.0)
                 for on, var in zip(support, (v.move, v.sell, v.buy), strict=True))


def _candidates(problem: Problem, support: Support, values: tuple[np.ndarray, ...], kept: tuple[np.ndarray, ...],
                minimum: float) -> list[tuple[int, int, int]]:
    """Moves to drop, smallest first: those below the minimum or residue, and the smallest where there are too
    many (per period, in total); never a move found necessary."""
    schedule = problem.schedule
    assert schedule is not None
    entries = [(float(values[part][row, t]), part, int(row), int(t)) for part in range(3)
               for row, t in zip(*np.nonzero(support[part] & ~kept[part]), strict=True)]
    chosen = {(p, r, t) for value, p, r, t in entries if value < minimum or value <= 0}
    counts = sum(on.sum(axis=0) for on in support)
    if schedule.max_moves_per_period is not None:
        for t in np.flatnonzero(counts > schedule.max_moves_per_period):
            here = sorted(e for e in entries if e[3] == t)
            chosen |= {(p, r, tt) for _, p, r, tt in here[:int(counts[t]) - schedule.max_moves_per_period]}
    if schedule.max_moves is not None and int(counts.sum()) > schedule.max_moves:
        chosen |= {(p, r, t) for _, p, r, t in sorted(entries)[:int(counts.sum()) - schedule.max_moves]}
    by_value = {(p, r, t): value for value, p, r, t in entries}
    return sorted(chosen, key=lambda key: by_value[key])


def milp_support(problem: Problem, relaxed: TransitionProgram, time_limit: float | None, **options: Any
                 ) -> tuple[Support | None, MilpOutcome]:
    """The moves chosen by the MILP (HiGHS; ``options`` added to MILP_OPTIONS) and how it ended; no moves when
    it stopped without an incumbent. Raises SolverError when the MILP is infeasible (no schedule meets the move
    limits)."""
    assert problem.schedule is not None
    schedule = problem.schedule
    program = build(relaxed.periods, relaxed.data, coverage_margin=_margin(relaxed),
                    limit_margin=_limit_margin(relaxed), pwl=True, max_moves=schedule.max_moves,
                    max_moves_per_period=schedule.max_moves_per_period, min_move_value=schedule.min_move_value)
    assert program.binaries is not None
    limit = time_limit if time_limit is not None else MILP_SECONDS
    with MilpWatch(program.data.money * program.data.rate) as watch:
        record = solve(program, "HIGHS", limit, **{**MILP_OPTIONS, **watch.options, **options})
    z = program.binaries
    values = [z.move.value, z.sell.value, z.buy.value]
    if record.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        raise SolverError("no schedule meets the move limits (the mixed-integer program is infeasible); relax "
                          "max_moves, max_moves_per_period or min_move_value", solver="HIGHS",
                          status=str(record.status))
    extra = getattr(program.problem.solver_stats, "extra_stats", None)
    incumbent = getattr(extra, "primal_solution_status", 2) == 2  # HiGHS's kSolutionStatusFeasible
    if record.status not in (Status.OPTIMAL, Status.OPTIMAL_INACCURATE, Status.USER_LIMIT) or not incumbent or \
            any(v is None for v in values):  # stopped (or failed) without an incumbent: its values mean nothing
        reason = STOPPED.get(watch.stop_reason or "") or record.raw_status
        return None, MilpOutcome(f"stopped without a schedule ({reason})", _mip_gap(program))
    periods = relaxed.periods
    support = (np.asarray(values[0])[:periods.n_moves] > 0.5, np.asarray(values[1])[:periods.n_legs] > 0.5,
               np.asarray(values[2])[:periods.n_legs] > 0.5)
    gap = _mip_gap(program)
    if record.status is Status.OPTIMAL:
        return support, MilpOutcome("optimal", gap)
    reason = STOPPED.get(watch.stop_reason or "") or (
        "time limit" if record.wall_seconds >= limit else (watch.stop_reason or record.raw_status).lower())
    return support, MilpOutcome(f"feasible ({reason})", gap)


def _mip_gap(program: TransitionProgram) -> float | None:
    stats = program.problem.solver_stats
    extra = getattr(stats, "extra_stats", None)
    gap = getattr(extra, "mip_gap", None) if extra is not None else None
    return float(gap) if gap is not None and np.isfinite(gap) else None
