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

    return Replay(periods, data, cleaned(move, periods.n_moves) * periods.open, cleaned(sell, periods.n_legs),
                  cleaned(buy, periods.n_legs))


def verified(program: Program, record: SolveRecord) -> Replay:
    replay = schedule(program, record)
    violations = check(replay)
    if violations:
        raise VerificationError(violations, solver=record.solver)
    return replay
