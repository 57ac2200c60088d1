"""Solving a transition program and turning its answer into a verified schedule.

Only an exact ``optimal`` status is accepted (the Status mapping of allocator.solve); values below ``CLEAN`` of
the money scale are interior-point residue and are zeroed; the schedule is then replayed in numpy (replay.py)
and every constraint checked (verify.py). Failures raise :class:`~allocator.errors.SolverError` or
:class:`~allocator.errors.VerificationError`, never a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from allocator.errors import SolverError, VerificationError
from allocator.solve.solvers import SolveRecord, run, values
from allocator.solve.status import Status
from allocator.transition.program import Program
from allocator.transition.replay import Replay
from allocator.transition.verify import check

#: Scaled values below this are solver residue (interior-point methods never return exact zeros).
CLEAN = 1e-8


@dataclass(frozen=True)
class Solved:
    replay: Replay
    record: SolveRecord


def solve(program: Program, solver: str, time_limit: float | None = None, **options: Any) -> SolveRecord:
    record = run(program.problem, solver, time_limit, **options)
    return record


def schedule(program: Program, record: SolveRecord) -> Replay:
    """The solver's flows (currency), cleaned; raises unless the status is exactly optimal and values exist."""
    if record.status != Status.OPTIMAL:
        raise SolverError(f"solver {record.solver} returned {record.raw_status!r} for the transition program; "
                          "only an exact optimum is accepted", solver=record.solver, status=str(record.status))
    periods, data, v = program.periods, program.data, program.variables
    arrays = [values(variable) for variable in (v.move, v.sell, v.buy)]
    if any(array is None for array in arrays):
        raise SolverError(f"solver {record.solver} said optimal but returned no finite values",
                          solver=record.solver, status="missing_values")
    move, sell, buy = (np.asarray(array).reshape(variable.shape)
                       for array, variable in zip(arrays, (v.move, v.sell, v.buy), strict=True))
    money = data.money

    def cleaned(array: np.ndarray, rows: int) -> np.ndarray:
        out = np.where(array[:rows] > CLEAN, array[:rows], 0.0) * money
        return out

    replay = Replay(periods, data, cleaned(move, periods.n_moves) * periods.open, cleaned(sell, periods.n_legs),
                    cleaned(buy, periods.n_legs))
    return _repaired(replay) if periods.n_legs else replay


def _repaired(replay: Replay) -> Replay:
    """A venue that buys a little more than its sales pay for (within the solver's tolerance) buys that much
    less of its largest purchase: value is never created, rounding goes against the desk (the coverage margin
    absorbs it, and the verification checks the end state exactly)."""
    buy = replay.buy.copy()
    surplus = replay.venue_surplus()
    for v, t in zip(*np.nonzero(surplus < 0), strict=True):
        legs = np.flatnonzero(replay.periods.leg_venue == v)
        largest = legs[np.argmax(buy[legs, t])]
        for _ in range(3):  # the leg's own cost falls with it: converge in a few steps
            cut = -(replay.sell[:, t] - buy[:, t] - _costs(replay, buy[:, t], t))[legs].sum()
            if cut <= 0:
                break
            buy[largest, t] = max(buy[largest, t] - cut * (1 + 1e-12), 0.0)
    return Replay(replay.periods, replay.data, replay.move, replay.sell, buy)


def _costs(replay: Replay, buy: np.ndarray, t: int) -> np.ndarray:
    fee_sell = sum(replay.data.leg_cost(replay.sell[:, t]))
    return np.asarray(fee_sell + sum(replay.data.leg_cost(buy)))


def verified(program: Program, record: SolveRecord) -> Replay:
    replay = schedule(program, record)
    violations = check(replay)
    if violations:
        raise VerificationError(violations, solver=record.solver)
    return replay
