"""Solving a transition program and turning its answer into a verified schedule.

Only an exact ``optimal`` status is accepted (the Status mapping of allocator.solve); values below ``CLEAN`` of
the money scale are interior-point residue and are zeroed; the schedule is then replayed in numpy (_replay.py)
and every constraint checked (_verify.py). Failures raise :class:`~allocator.errors.SolverError` or
:class:`~allocator.errors.VerificationError`, never a result.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.errors import SolverError, VerificationError
from allocator.solve._solvers import SolveRecord, run, values
from allocator.solve._status import Status
from allocator.transition._floors import Floors
from allocator.transition._program import TransitionProgram
from allocator.transition._replay import Replay
from allocator.transition._verify import AMOUNT, check

#: Scaled values below this are solver residue (interior-point methods never return exact zeros).
CLEAN = 1e-8


def solve(program: TransitionProgram, solver: str, time_limit: float | None = None, **options: Any) -> SolveRecord:
    """Run a solver on the program. Its power cones make it conic, so above solvers.DPP_TENSOR_LIMIT it is
    compiled afresh each time (the DPP tensor made the compile 300x slower than the solve at 20 x 4 x 24)."""
    return run(program.problem, solver, time_limit, **options)


def schedule(program: TransitionProgram, record: SolveRecord) -> Replay:
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
    # the floors this program enforced, in currency, never above the true ones (a margin is not repaired for;
    # the diagnosis lifts floors to zero, and then none is)
    enforced = np.asarray(program.parameters.floor.value) * data.account_money
    return _repaired(replay, enforced)


def _repaired(replay: Replay, enforced: np.ndarray) -> Replay:
    """Solver residue, period by period (value units, in the desk's disfavour; the coverage margin absorbs it):

    - a cell that would send or sell a crumb more than it holds at the start of a period (cleaning removed a
      crumb that arrived earlier) sends and sells proportionally less;
    - a venue that buys a little more than its sales pay for buys that much less, largest purchase first, so
      value is never created; one whose sales pay for more (cleaning removed purchases below ``CLEAN``) spends the
      rest within the participation limits, or sells less if it buys nothing (``_balance_venue``);
    - an account that would fall below its floor sends less (_floors.py), so that floors hold exactly; the floor
      repaired for is the true one, ``min(collateral today, requirement)``, or the program's own where that is
      lower (``enforced``, currency: a diagnosis with floors lifted).
    """
    periods, data = replay.periods, replay.data
    move, sell, buy = replay.move.copy(), replay.sell.copy(), replay.buy.copy()
    departures = periods.departures()[:, :periods.n_moves].tocsc()
    legs = periods.legs()[:, :periods.n_legs].tocsc()
    # the cell each move leaves (hub moves: none, 0): the one entry of its column (sparse argmax took 8 ms)
    leaves = np.diff(departures.indptr) > 0
    source = np.zeros(departures.shape[1], dtype=int)
    source[leaves] = departures.indices[departures.indptr[:-1][leaves]]
    traded = periods.asset_sum()[:, :periods.n_legs].tocsr()  # (traded assets, legs)
    leg_row = periods.leg_row
    hold = data.x0 * data.money
    floors = Floors.of(periods, data, source, leaves, cap=enforced)
    arriving = np.zeros((periods.base.n_cells, periods.periods))
    arrivals = [(lag, periods.arrivals(lag)[:, :periods.n_moves].tocsr()) for lag in periods.lags]
    for t in range(periods.periods):
        need = departures @ move[:, t] + legs @ sell[:, t]
        short = need > np.maximum(hold, 0.0)
        if short.any():
            factor = np.ones(periods.base.n_cells)
            factor[short] = np.maximum(hold[short], 0.0) / need[short]
            move[leaves, t] *= factor[source[leaves]]
            sell[:, t] *= factor[periods.leg_cell]
        for v in range(len(periods.venues)):
            _balance_venue(replay, np.flatnonzero(periods.leg_venue == v), sell[:, t], buy[:, t], traded, leg_row)
        floors.hold(hold, departures @ move[:, t], legs @ (buy[:, t] - sell[:, t]), move[:, t])
        for lag, matrix in arrivals:
            if t + lag < periods.periods:
                arriving[:, t + lag] += matrix @ move[:, t]
        hold = hold - departures @ move[:, t] - legs @ sell[:, t] + legs @ buy[:, t] + arriving[:, t]
    return Replay(periods, data, move, sell, buy)


def _balance_venue(replay: Replay, mine: np.ndarray, sell: np.ndarray, buy: np.ndarray, traded: Any,
                   leg_row: np.ndarray) -> None:
    """Make one venue's purchases in one period spend its sales net of costs (in place, currency): a deficit cuts
    purchases, largest first; a surplus beyond the check's tolerance buys more, largest first, within each asset's
    participation headroom (what does not fit is left for the check to report), or, when the venue buys nothing,
    sells proportionally less. Costs move with the legs, so a few rounds converge."""
    data = replay.data
    for _ in range(8):
        costs = np.sum(data.leg_cost(sell), axis=0) + np.sum(data.leg_cost(buy), axis=0)
        balance = (sell[mine] - buy[mine] - costs[mine]).sum()
        buying = mine[np.argsort(-buy[mine], kind="stable")]
        buying = buying[buy[buying] > 0]
        if balance < 0 and len(buying):
            cut = -balance * (1 + 1e-12)
            for leg in buying:
                step = min(cut, buy[leg])
                buy[leg] -= step
                cut -= step
                if cut <= 0:
                    break
        elif balance < 0 or balance <= AMOUNT * data.money:  # nothing to cut, or within the check's tolerance
            return
        elif len(buying):
            headroom = np.maximum(data.participation - traded @ (sell + buy), 0.0)
            spend = balance * (1 - 1e-12)
            for leg in buying:
                step = min(spend, headroom[leg_row[leg]])
                buy[leg] += step
                headroom[leg_row[leg]] -= step
                spend -= step
            if spend >= balance * (1 - 1e-12):  # no headroom anywhere: leave it
                return
        else:
            sold = sell[mine].sum()
            sell[mine] *= max(0.0, 1.0 - balance / sold) if sold > 0 else 0.0


def verified(program: TransitionProgram, record: SolveRecord) -> Replay:
    replay = schedule(program, record)
    violations = check(replay)
    if violations:
        raise VerificationError(violations, solver=record.solver)
    return replay
