"""The structure of a transition as index arrays: periods, the lag of every move, the trade legs of every venue.

Built on the single-period :class:`~allocator.program._layout.Layout` (cells, moves along routes or through the virtual
hub, eligible pairs, concentration limits), to which it adds time:

- a move departing at the start of period ``t`` along a route with ``delay_hours = d`` is usable from period
  ``t + max(ceil(d / P), 1)``: it is counted in the holdings at the end of period ``t + lag`` with
  ``lag = max(ceil(d / P), 1) - 1`` and counts nowhere before (in transit). It lands ``d - lag P`` hours into
  period ``t + lag`` (``landing_hours``: 0 for an instant move, ``P`` at that period's end). A move that could not
  be usable by the end of the last period may not depart (``open`` is false there);
- a *leg* is an (asset, venue) pair: an asset that a venue trades, at the venue's location cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from allocator.inputs.problem import Problem
from allocator.program._layout import Layout


@dataclass(frozen=True, eq=False)
class Periods:
    base: Layout
    periods: int
    period_hours: float
    move_delay: np.ndarray  # (M,) hours
    move_lag: np.ndarray  # (M,) periods between departure and the end-of-period holdings that count it
    venues: tuple[str, ...]  # location of each venue
    leg_venue: np.ndarray  # (N,)
    leg_asset: np.ndarray  # (N,)
    capacity_routes: np.ndarray  # (R_c,) index into problem.routes of routes with a capacity
    withdrawal_locations: np.ndarray  # (L_w,) location index of each withdrawal limit
    liquidation_pairs: np.ndarray  # (P_l,) eligible pairs limited by what can be liquidated (asset with an ADV)

    @property
    def n_moves(self) -> int:
        return self.base.n_moves

    @property
    def n_legs(self) -> int:
        return len(self.leg_venue)

    @property
    def n_leg_slots(self) -> int:
        """Length of the trade variables: one slot even without venues (it is then fixed at zero)."""
        return max(self.n_legs, 1)

    @cached_property
    def leg_cell(self) -> np.ndarray:
        location = {name: i for i, name in enumerate(self.base.locations)}
        where = np.array([location[self.venues[v]] for v in self.leg_venue], dtype=int)
        return np.asarray(self.base.cell(self.leg_asset, where), dtype=int)

    @cached_property
    def live_cells(self) -> np.ndarray:
        """(C_l,) cells some move leaves or reaches, or some trade leg is at: only these can change. The others
        keep today's holdings and get no variables (a measured 1.5x on 100 assets x 10 accounts x 48 periods)."""
        base = self.base
        touched = [self.leg_cell]
        for end in (base.edge_from, base.edge_to):
            location = end[base.move_edge]
            real = location < base.n_locations
            touched.append(np.asarray(base.cell(base.move_asset[real], location[real])))
        return np.unique(np.concatenate(touched).astype(int))

    def live(self) -> sp.csr_matrix:
        """(live cells, cells): selects the live cells."""
        n = len(self.live_cells)
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.live_cells)), shape=(n, self.base.n_cells))

    def dead(self) -> sp.csr_matrix:
        """(cells, cells): diagonal selector of the cells that never change."""
        mask = np.ones(self.base.n_cells)
        mask[self.live_cells] = 0.0
        return sp.diags(mask).tocsr()

    @cached_property
    def traded_assets(self) -> np.ndarray:
        """(A_t,) assets traded at some venue (each has a participation limit)."""
        return np.unique(self.leg_asset)

    @cached_property
    def open(self) -> np.ndarray:
        """(M, T) whether a move may depart in a period (it is usable by the end of the last one)."""
        last = self.periods - 1 - self.move_lag  # last departure index (0-based)
        return np.arange(self.periods)[None, :] <= last[:, None]

    def landing_hours(self) -> np.ndarray:
        """(M,) hours of its arrival period (``t + lag``) that a move spends in flight: ``delay - lag P``, in
        ``[0, P]`` (0 for an instant move, which lands at the period's start; P for one landing at its end). A move
        earns its destination's income only for the rest of that period (_costs.py)."""
        return np.clip(self.move_delay - self.move_lag * self.period_hours, 0.0, self.period_hours)

    def arrival_cell(self) -> np.ndarray:
        """(M,) the cell each move lands in, -1 for a move into the virtual hub."""
        return self.base.move_cells(self.base.edge_to)

    @cached_property
    def lags(self) -> tuple[int, ...]:
        return tuple(int(lag) for lag in np.unique(self.move_lag))

    def departures(self) -> sp.csr_matrix:
        """(cells, move slots): 1 at the cell a move leaves (hub edges leave no cell). Built once: read it, do
        not change it."""
        return self._departures

    def arrivals(self, lag: int) -> sp.csr_matrix:
        """(cells, move slots): 1 at the cell a move with this lag arrives at. Built once per lag (the floor
        repair reads it every period): read it, do not change it."""
        if lag not in self._arrivals:
            self._arrivals[lag] = self._incidence(self.base.edge_to, self.move_lag == lag)
        return self._arrivals[lag]

    @cached_property
    def _departures(self) -> sp.csr_matrix:
        return self._incidence(self.base.edge_from, np.ones(self.n_moves, dtype=bool))

    @cached_property
    def _arrivals(self) -> dict[int, sp.csr_matrix]:
        return {}

    def _incidence(self, end: np.ndarray, chosen: np.ndarray) -> sp.csr_matrix:
        base = self.base
        location = end[base.move_edge]
        keep = (location < base.n_locations) & chosen
        moves = np.flatnonzero(keep)
        return sp.csr_matrix((np.ones(len(moves)), (base.cell(base.move_asset[moves], location[moves]), moves)),
                             shape=(base.n_cells, base.n_move_slots))

    @staticmethod
    def shift(periods: int, lag: int) -> sp.csr_matrix:
        """(T, T): column t of ``Y @ shift`` is column ``t - lag`` of Y (zero before)."""
        rows = np.arange(periods - lag)
        return sp.csr_matrix((np.ones(len(rows)), (rows, rows + lag)), shape=(periods, periods))

    def legs(self) -> sp.csr_matrix:
        """(cells, leg slots): 1 at a leg's cell."""
        return sp.csr_matrix((np.ones(self.n_legs), (self.leg_cell, np.arange(self.n_legs))),
                             shape=(self.base.n_cells, self.n_leg_slots))

    def venue_sum(self) -> sp.csr_matrix:
        """(venues, leg slots): sums legs into their venue."""
        return sp.csr_matrix((np.ones(self.n_legs), (self.leg_venue, np.arange(self.n_legs))),
                             shape=(max(len(self.venues), 1), self.n_leg_slots))

    @property
    def leg_row(self) -> np.ndarray:
        """(legs,) each leg's row among the traded assets (``traded_assets``, ``asset_sum``)."""
        row = {int(a): i for i, a in enumerate(self.traded_assets)}
        return np.array([row[int(a)] for a in self.leg_asset], dtype=int)

    def asset_sum(self) -> sp.csr_matrix:
        """(traded assets, leg slots): sums legs into their asset."""
        return sp.csr_matrix((np.ones(self.n_legs), (self.leg_row, np.arange(self.n_legs))),
                             shape=(max(len(self.traded_assets), 1), self.n_leg_slots))

    def route_sum(self) -> sp.csr_matrix:
        """(routes with a capacity, move slots): sums moves into their route."""
        route = self.base.move_route
        row = {int(r): i for i, r in enumerate(self.capacity_routes)}
        moves = [m for m in range(self.n_moves) if int(route[m]) in row]
        return sp.csr_matrix((np.ones(len(moves)), ([row[int(route[m])] for m in moves], moves)),
                             shape=(max(len(self.capacity_routes), 1), self.base.n_move_slots))

    def withdrawal_sum(self) -> sp.csr_matrix:
        """(limited locations, move slots): sums the moves leaving each limited location."""
        row = {int(loc): i for i, loc in enumerate(self.withdrawal_locations)}
        source = self.base.edge_from[self.base.move_edge]
        moves = [m for m in range(self.n_moves) if int(source[m]) in row]
        return sp.csr_matrix((np.ones(len(moves)), ([row[int(source[m])] for m in moves], moves)),
                             shape=(max(len(self.withdrawal_locations), 1), self.base.n_move_slots))

    def leg_label(self, leg: int) -> str:
        if leg >= self.n_legs:
            return "padding"
        return f"{self.base.assets[self.leg_asset[leg]]}@{self.venues[self.leg_venue[leg]]}"

    @classmethod
    def from_problem(cls, problem: Problem) -> Periods:
        assert problem.schedule is not None
        base = Layout.from_problem(problem)
        hours = problem.schedule.period_hours
        delay = np.zeros(base.n_moves)
        real = base.move_route >= 0
        if problem.routes is not None:
            delays = np.array([route.delay_hours for route in problem.routes])
            delay[real] = delays[base.move_route[real]]
        # a lag of `periods` or more never arrives within the schedule (capped so that a delay of 1e20 hours fits)
        periods = problem.schedule.periods
        lag = np.array([min(max(math.ceil(min(d / hours, periods + 1) - 1e-12), 1) - 1, periods) for d in delay],
                       dtype=int)
        asset_index = {a: i for i, a in enumerate(base.assets)}
        legs = [(v, asset_index[a]) for v, venue in enumerate(problem.venues) for a in venue.assets]
        location_index = {name: i for i, name in enumerate(base.locations)}
        return cls(
            base=base, periods=problem.schedule.periods, period_hours=hours, move_delay=delay, move_lag=lag,
            venues=tuple(venue.location for venue in problem.venues),
            leg_venue=np.array([v for v, _ in legs], dtype=int), leg_asset=np.array([a for _, a in legs], dtype=int),
            capacity_routes=np.array([i for i, r in enumerate(problem.routes or ()) if r.capacity is not None],
                                     dtype=int),
            withdrawal_locations=np.array([location_index[name] for name in problem.schedule.withdrawal_limits],
                                          dtype=int),
            liquidation_pairs=np.array([i for i, a in enumerate(base.pair_asset)
                                        if problem.schedule.liquidation_days is not None
                                        and problem.assets[a].adv is not None], dtype=int),
        )
