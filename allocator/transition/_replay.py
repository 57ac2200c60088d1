"""A schedule (values moved and traded per period, currency) replayed in numpy: holdings at every checkpoint.

Independent of the solver's holdings: everything is re-derived from today's holdings and the flows, with the
timing of _flows.py (departures and sells at the start of a period, bought value at its end, arrivals after their
lag). _verify.py checks every constraint on these arrays. Collateral is exact: a pair on a collateral curve is
credited at the curve's value of the replayed holdings (_curves.py), not at the program's chords.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from allocator.plan.ledger import account_floor
from allocator.transition._curves import exact_collateral
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods


@dataclass(frozen=True, eq=False)
class Replay:
    periods: Periods
    data: TransitionData
    move: np.ndarray  # (M, T) currency value departing
    sell: np.ndarray  # (N, T)
    buy: np.ndarray  # (N, T)

    @cached_property
    def out(self) -> np.ndarray:
        return np.asarray(self.periods.departures()[:, :self.periods.n_moves] @ self.move)

    @cached_property
    def sold(self) -> np.ndarray:
        return np.asarray(self.periods.legs()[:, :self.periods.n_legs] @ self.sell)

    @cached_property
    def bought(self) -> np.ndarray:
        return np.asarray(self.periods.legs()[:, :self.periods.n_legs] @ self.buy)

    @cached_property
    def arrived(self) -> np.ndarray:
        periods, total = self.periods, np.zeros((self.periods.base.n_cells, self.periods.periods))
        for lag in periods.lags:
            matrix = periods.arrivals(lag)[:, :periods.n_moves]
            total += np.asarray(matrix @ self.move @ Periods.shift(periods.periods, lag).toarray())
        return total

    @cached_property
    def hold(self) -> np.ndarray:
        """(cells, T) holdings at every period end, currency."""
        today = self.data.x0 * self.data.money
        return today[:, None] + np.cumsum(self.arrived + self.bought - self.out - self.sold, axis=1)

    @cached_property
    def prev(self) -> np.ndarray:
        today = self.data.x0 * self.data.money
        return np.column_stack([today, self.hold[:, :-1]])

    @property
    def after_departures(self) -> np.ndarray:
        return self.prev - self.out

    @property
    def after_trades(self) -> np.ndarray:
        return self.prev - self.out - self.sold + self.bought

    def collateral(self, holdings: np.ndarray) -> np.ndarray:
        """(K, T) haircut-adjusted collateral of every account, currency; a pair on a collateral curve at the
        curve's exact value (_curves.py), never the program's chords."""
        return exact_collateral(self.periods.base, self.data.numbers, holdings)

    def floor(self) -> np.ndarray:
        """(K,) each account's floor in currency (plan.ledger.account_floor, the one definition), from today's
        collateral as this replay computes it, so that an account that never moves is exactly at its floor."""
        numbers = self.data.numbers
        return account_floor(self.collateral(self.prev[:, :1])[:, 0], numbers.requirement, numbers.pnl)

    @cached_property
    def lowest(self) -> np.ndarray:
        """(K, T) each account's lowest collateral within each period (after departures or after trades)."""
        return np.minimum(self.collateral(self.after_departures), self.collateral(self.after_trades))

    @cached_property
    def end(self) -> np.ndarray:
        return self.collateral(self.hold[:, -1:])[:, 0]

    def limit_excess(self, limit: np.ndarray | None = None) -> np.ndarray:
        """(C,) currency each end-state concentration limit (the problem's shares, or ``limit``) is exceeded by
        (negative: room left)."""
        base = self.periods.base
        pairs = base.limit_pair
        posted = (1.0 - self.data.numbers.haircut[pairs]) * self.hold[base.pair_cell[pairs], -1]
        share = self.data.limit if limit is None else limit
        return np.asarray(posted - share * self.end[base.pair_account[pairs]])

    def leg_costs(self) -> np.ndarray:
        """(N, T) fees + half spread + impact of every leg in every period, currency."""
        return sum(sum(part) for part in (self.data.leg_cost(self.sell), self.data.leg_cost(self.buy)))  # type: ignore

    def venue_surplus(self) -> np.ndarray:
        """(venues, T) sold value minus bought value minus costs: negative means value was created."""
        net = self.sell - self.buy - self.leg_costs()
        out = np.zeros((len(self.periods.venues), self.periods.periods))
        np.add.at(out, self.periods.leg_venue, net)
        return out
