"""What a policy may do on a day: transfers along the problem's routes and trades at a location, in order.

A policy returns :class:`Moves`: an ordered list of steps, each a :class:`~allocator.plan.transfers.Transfer`
(``quantity`` units of ``asset`` from ``source`` to ``destination`` along one route that carries it; any two
locations when the problem has no routes) or a :class:`Trade` (``quantity`` units of ``sell`` converted into
``buy`` at ``location``). The steps run in their order at the day's close prices. What they cost:

* a transfer: its route's ``cost_bps`` times the value moved, paid in money by the treasury (``Payer``), so the
  destination receives exactly what was sent (as the single-period plan assumes);
* a trade: ``fee_bps`` of the problem's venue at that location when it trades both assets, else the backtest's
  ``trade_fee_bps``, plus half the spread (``spread_bps``) of each asset, taken from the proceeds.

:class:`Router` gives the cheapest path between two locations for an asset (Floyd-Warshall over the routes that
carry it, by cost), which the baseline policies use through :class:`Draft`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from allocator.inputs.problem import Problem
from allocator.plan.transfers import Transfer

#: A step may take up to this share of the units more than its source holds (floating-point residue); the step is
#: then trimmed to what is there. Anything more is an error of the policy.
SLACK = 1e-9


@dataclass(frozen=True)
class Trade:
    """Sell ``quantity`` units of ``sell`` for ``buy`` at ``location``."""

    location: str
    sell: str
    buy: str
    quantity: float


Step = Transfer | Trade


@dataclass(frozen=True)
class Moves:
    """A policy's decision for one day: steps run in order (none: nothing to do)."""

    steps: tuple[Step, ...] = ()
    note: str = ""

    def __bool__(self) -> bool:
        return bool(self.steps)


NONE = Moves()


class Router:
    """Cheapest paths per asset over the problem's routes (all direct and free without a routes table)."""

    def __init__(self, problem: Problem) -> None:
        self.locations = list(problem.locations)
        self.assets = problem.asset_ids
        rates = problem.route_rates
        self.free = rates is None
        n = len(self.locations)
        self.rate = np.full((len(self.assets), n, n), np.inf)
        self.next = np.full((len(self.assets), n, n), -1, dtype=int)
        self.direct: Mapping[tuple[str, str, str], float] = rates or {}  # looked up per route (inputs/routes.py)
        for a in range(len(self.assets)):
            np.fill_diagonal(self.rate[a], 0.0)
            for j in range(n):
                self.next[a, j, j] = j
        if self.free:
            self.rate[:] = 0.0
            self.next[:] = np.arange(n)[None, None, :]
            return
        index = {name: i for i, name in enumerate(self.locations)}
        asset_index = {name: a for a, name in enumerate(self.assets)}
        for (source, destination, asset), rate in (rates or {}).items():
            a, i, j = asset_index[asset], index[source], index[destination]
            if rate < self.rate[a, i, j]:
                self.rate[a, i, j], self.next[a, i, j] = rate, j
        for a in range(len(self.assets)):
            for k in range(n):
                through = self.rate[a, :, k][:, None] + self.rate[a, k, :][None, :]
                better = through < self.rate[a] - 1e-15
                self.rate[a] = np.where(better, through, self.rate[a])
                self.next[a] = np.where(better, self.next[a, :, k][:, None], self.next[a])

    def allowed(self, asset: str, source: str, destination: str) -> bool:
        """Whether one route carries ``asset`` from ``source`` to ``destination``."""
        return source != destination and (self.free or (source, destination, asset) in self.direct)

    def hop_rate(self, asset: str, source: str, destination: str) -> float:
        return 0.0 if self.free else self.direct[(source, destination, asset)]

    def cost(self, asset: str, source: str, destination: str) -> float:
        """Cost rate of the cheapest path (inf without one)."""
        return float(self.rate[self.assets.index(asset), self.locations.index(source),
                               self.locations.index(destination)])

    def path(self, asset: str, source: str, destination: str) -> list[str] | None:
        """The locations of the cheapest path, both ends included (None without one)."""
        a, i, j = self.assets.index(asset), self.locations.index(source), self.locations.index(destination)
        if not np.isfinite(self.rate[a, i, j]):
            return None
        out = [i]
        while out[-1] != j:
            out.append(int(self.next[a, out[-1], j]))
        return [self.locations[k] for k in out]


def trade_rate(problem: Problem, location: str, sell: str, buy: str, default_bps: float) -> float:
    """Cost of a trade as a share of the value sold (module docstring)."""
    fee = default_bps
    for venue in problem.venues:
        if venue.location == location and sell in venue.assets and buy in venue.assets:
            fee = venue.fee_bps
            break
    spread = {asset.id: asset.spread_bps for asset in problem.assets}
    return (fee + (spread[sell] + spread[buy]) / 2.0) / 1e4


@dataclass
class Draft:
    """A working copy of the holdings on which a policy builds its steps (the baselines' helper)."""

    quantity: np.ndarray  # (n, L) units, changed as steps are added
    price: np.ndarray  # (n,) the day's close
    router: Router
    problem: Problem
    trade_fee_bps: float
    steps: list[Step] = field(default_factory=list)

    def cell(self, asset: str, location: str) -> tuple[int, int]:
        return self.router.assets.index(asset), self.router.locations.index(location)

    def held(self, asset: str, location: str) -> float:
        return float(self.quantity[self.cell(asset, location)])

    def send(self, asset: str, source: str, destination: str, units: float) -> bool:
        """Send ``units`` along the cheapest path (one transfer per hop); False (nothing done) without a path or
        without the units at the source."""
        path = self.router.path(asset, source, destination)
        if path is None or units <= 0 or units > self.held(asset, source) * (1 + SLACK):
            return False
        units = min(units, self.held(asset, source))
        for a, b in zip(path, path[1:], strict=False):
            self.steps.append(Transfer(asset, a, b, units))
        self.quantity[self.cell(asset, source)] -= units
        self.quantity[self.cell(asset, destination)] += units
        return True

    def trade(self, location: str, sell: str, buy: str, units: float) -> float:
        """Sell ``units`` of ``sell`` for ``buy`` at ``location``; the units of ``buy`` received."""
        units = min(units, self.held(sell, location))
        if units <= 0:
            return 0.0
        i, j = self.router.assets.index(sell), self.router.assets.index(buy)
        rate = trade_rate(self.problem, location, sell, buy, self.trade_fee_bps)
        bought = units * self.price[i] * (1.0 - rate) / self.price[j]
        self.steps.append(Trade(location, sell, buy, units))
        self.quantity[self.cell(sell, location)] -= units
        self.quantity[self.cell(buy, location)] += bought
        return bought

    def moves(self, note: str = "") -> Moves:
        return Moves(tuple(self.steps), note)

    def moves_or_none(self, note: str) -> Moves:
        """The draft's steps with ``note``, or ``NONE`` (no note) when it has none: a quiet day says nothing."""
        return self.moves(note) if self.steps else NONE
