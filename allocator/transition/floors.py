"""Exact floors: no account below its floor (``min(collateral today, requirement net of P&L)``, plan.ledger) at any
checkpoint of the returned plan.

An account at or below its requirement today has today's collateral as its floor, and the program cannot give
that floor a margin (doing nothing must stay feasible, and in period 1 it may be the only choice). An
interior-point answer then meets the floor only to the solver's tolerance, and zeroing its residue (solve.py) can
take a few more dollars of inflow away: the plan showed ``cex lowest 15,443,334.93 floor 15,443,337.92``.

So the schedule is repaired period by period, in the desk's favour: where an account's collateral after the
period's departures, or after its trades, would be below its floor, the departures of its eligible assets in that
period are scaled down until the lower checkpoint is exactly the floor. Departures lower both checkpoints equally,
and less departing only keeps value at the account; what the destinations then miss (a few dollars) is within
the coverage margin, and a destination that would send more than it holds sends proportionally less in its own
period (solve.py). The verification (verify.py) then checks every floor to floating-point rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.plan.ledger import account_floor
from allocator.transition.data import TransitionData
from allocator.transition.periods import Periods


@dataclass(frozen=True, eq=False)
class Floors:
    """Each account's floor (currency) and the collateral weight of every cell for it."""

    weight: sp.csr_matrix  # (K, cells) 1 - haircut at the account's eligible cells
    floor: np.ndarray  # (K,) currency
    mover: sp.csr_matrix  # (K, move slots) 1 where a move leaves one of the account's eligible cells

    @classmethod
    def of(cls, periods: Periods, data: TransitionData, source: np.ndarray, leaves: np.ndarray,
           cap: np.ndarray | None = None) -> Floors:
        """``source``/``leaves``: the cell each move leaves and whether it leaves one (hub moves need not);
        ``cap`` (K,, currency): floors materially above it (beyond the rounding of scaling it) are lowered to it."""
        base = periods.base
        K = len(base.accounts)
        weight = sp.csr_matrix((1.0 - data.numbers.haircut, (base.pair_account, base.pair_cell)),
                               shape=(K, base.n_cells))
        owner = np.full(base.n_cells, -1)
        owner[base.pair_cell] = base.pair_account
        moves = np.flatnonzero(leaves)
        moves = moves[owner[source[moves]] >= 0]
        mover = sp.csr_matrix((np.ones(len(moves)), (owner[source[moves]], moves)),
                              shape=(K, max(len(leaves), 1)))
        today = weight @ (data.x0 * data.money)  # the replay's own arithmetic, so an idle account sits exactly on it
        floor = account_floor(today, data.numbers.requirement, data.numbers.pnl)
        if cap is not None:
            floor = np.where(cap < floor * (1.0 - 1e-9), cap, floor)
        return cls(weight=weight, floor=floor, mover=mover)

    def hold(self, prev: np.ndarray, out: np.ndarray, traded: np.ndarray, move: np.ndarray) -> None:
        """Scale down (in place) one period's departures ``move`` (currency, per move) out of every account that
        would fall below its floor: ``prev`` holdings at the period's start, ``out`` departures and ``traded``
        bought minus sold, per cell."""
        have = self.weight @ prev
        leaving = self.weight @ out
        trades = np.minimum(self.weight @ traded, 0.0)  # trades that lower the collateral count at their end
        short = have - leaving + trades < self.floor
        for k in np.flatnonzero(short & (leaving > 0)):
            factor = min(max((have[k] + trades[k] - self.floor[k]) / leaving[k], 0.0), 1.0)
            row = self.mover.getrow(k)
            move[row.indices] *= factor
