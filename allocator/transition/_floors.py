"""Exact floors: no account below its floor (``min(collateral today, requirement net of P&L)``, plan.ledger) at any
checkpoint of the returned plan.

An account at or below its requirement today has today's collateral as its floor, and the program cannot give
that floor a margin (doing nothing must stay feasible, and in period 1 it may be the only choice). An
interior-point answer then meets the floor only to the solver's tolerance, and zeroing its residue (_solve.py) can
take a few more dollars of inflow away: the plan showed ``cex lowest 15,443,334.93 floor 15,443,337.92``.

The same holds for an account with a pair on a collateral curve (_curves.py): the program's chords never
overstate its collateral, but the solver's tolerance still may; its departures are scaled by bisection on the
exact curve instead of in closed form.

So the schedule is repaired period by period, in the desk's favour: where an account's collateral after the
period's departures, or after its trades, would be below its floor, the departures of its eligible assets in that
period are scaled down until the lower checkpoint is exactly the floor. Departures lower both checkpoints equally,
and less departing only keeps value at the account; what the destinations then miss (a few dollars) is within
the coverage margin, and a destination that would send more than it holds sends proportionally less in its own
period (_solve.py). The verification (_verify.py) then checks every floor to floating-point rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.plan.ledger import account_floor
from allocator.program._credit import credit
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.transition._curves import exact_collateral
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods

#: Bisection steps on the scale of an account's departures when it has a pair on a collateral curve: 2^-60 of the
#: departures, far below the verification's rounding tolerance.
BISECTIONS = 60


#: The share of an account's collateral the floor repair keeps back against rounding (about a millionth of a
#: dollar on a million).
ROUNDING_GUARD = 1e-12


@dataclass(frozen=True, eq=False)
class Floors:
    """Each account's floor (currency) and the collateral weight of every cell for it."""

    weight: sp.csr_matrix  # (K, cells) 1 - haircut at the account's eligible cells
    floor: np.ndarray  # (K,) currency
    mover: sp.csr_matrix  # (K, move slots) 1 where a move leaves one of the account's eligible cells
    base: Layout
    numbers: Numbers
    curved: np.ndarray  # (K,) whether the account has a pair on a collateral curve (its collateral is not linear)

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
        # the replay's own arithmetic, so an idle account sits exactly on it
        today = exact_collateral(base, data.numbers, (data.x0 * data.money)[:, None])[:, 0]
        floor = account_floor(today, data.numbers.requirement, data.numbers.pnl)
        if cap is not None:
            floor = np.where(cap < floor * (1.0 - 1e-9), cap, floor)
        curved = np.zeros(K, dtype=bool)
        curved[base.pair_account[base.curve_pairs]] = True
        return cls(weight=weight, floor=floor, mover=mover, base=base, numbers=data.numbers, curved=curved)

    def hold(self, prev: np.ndarray, out: np.ndarray, traded: np.ndarray, move: np.ndarray) -> None:
        """Scale down (in place) one period's departures ``move`` (currency, per move) out of every account that
        would fall below its floor: ``prev`` holdings at the period's start, ``out`` departures and ``traded``
        bought minus sold, per cell. Linear accounts in closed form; an account with a curved pair by bisection
        on the scale (its collateral is concave and non-decreasing in each posting, so the lower checkpoint falls
        monotonically with the scale), keeping the largest scale found that holds the floor exactly."""
        have = self.weight @ prev
        leaving = self.weight @ out
        trades = np.minimum(self.weight @ traded, 0.0)  # trades that lower the collateral count at their end
        short = have - leaving + trades < self.floor
        for k in np.flatnonzero(short & (leaving > 0) & ~self.curved):
            # 1e-12 of the account's collateral kept back: the replay sums the same terms in another order, and
            # an account scaled onto its floor exactly could land a rounding error (1e-16 of it) below
            room = have[k] + trades[k] - self.floor[k] - ROUNDING_GUARD * have[k]
            factor = min(max(room / leaving[k], 0.0), 1.0)
            row = self.mover.getrow(k)
            move[row.indices] *= factor
        for k in np.flatnonzero(self.curved):
            row = self.mover.getrow(k)
            mine = np.flatnonzero(self.base.pair_account == k)  # the account's pairs, once per account

            def lowest(scale: float, mine: np.ndarray = mine) -> float:
                return self._lowest(mine, prev, out, traded, scale)

            if not len(row.indices) or lowest(1.0) >= self.floor[k]:
                continue
            low, high = 0.0, 1.0
            if lowest(0.0) >= self.floor[k]:
                for _ in range(BISECTIONS):
                    middle = 0.5 * (low + high)
                    low, high = (middle, high) if lowest(middle) >= self.floor[k] else (low, middle)
            move[row.indices] *= low

    def _lowest(self, mine: np.ndarray, prev: np.ndarray, out: np.ndarray, traded: np.ndarray,
                scale: float) -> float:
        """The exact collateral of the account whose pairs are ``mine`` at the lower of its two checkpoints, with
        its departures scaled by ``scale``."""
        cells = self.base.pair_cell[mine]
        after = prev[cells] - scale * out[cells]
        # summed in pair order, as the replay sums an account's pairs (exact_collateral)
        return min(sum(credit(self.numbers, after, mine).tolist()),
                   sum(credit(self.numbers, after + traded[cells], mine).tolist()))
