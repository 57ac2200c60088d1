"""Constraint families of the transition program: each emits labelled cvxpy constraints.

| family | rows | label |
|---|---|---|
| ``today`` | the start holdings are today's | ``today[BTC@cex]`` |
| ``balance`` | holdings follow from the flows, per cell and period | ``balance[BTC@cex,t3]`` |
| ``hub`` | hub traffic balances, per asset and period (problems without routes) | ``hub[BTC,t3]`` |
| ``available`` | departures and sells come from the start-of-period holdings | ``available[BTC@cex,t3]`` |
| ``window`` | move and leg bounds (zero after the departure window; heuristic support) | ``window[...]`` |
| ``capacity`` | value per route and period | ``capacity[sol-wallet->eth-wallet,t3]`` |
| ``withdrawal`` | value leaving a limited location per period | ``withdrawal[cex,t3]`` |
| ``participation`` | value traded per asset and period | ``participation[SOL,t3]`` |
| ``venue`` | bought value plus costs at most the sold value, per venue and period | ``venue[cex,t3]`` |
| ``floor`` | collateral after the departures and after the trades, per account and period | ``floor[cex,t3]`` |
| ``chords`` | a curved pair's credit under its curve's chords, per point (_curves.py) | ``chords:end[cex,SOL,j2]`` |
| ``coverage`` | end-state coverage with the buffer | ``coverage[cex]`` |
| ``concentration`` | end-state concentration limits | ``concentration[cex,BTC]`` |
| ``liquidation`` | end-state holding per account and asset within ``liquidation_days`` | ``liquidation[cex,SOL]`` |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.transition._curves import chord_rows
from allocator.transition._flows import Flows, collateral, column
from allocator.transition._periods import Periods
from allocator.transition._variables import TransitionParameters, TransitionVariables


@dataclass(frozen=True, eq=False)
class TransitionFamily:
    name: str
    constraint: cp.Constraint
    label: Callable[[int, int], str]  # (row, period) -> label; period -1 for end-state rows


def _at(names: Callable[[int], str], family: str) -> Callable[[int, int], str]:
    return lambda row, t: f"{family}[{names(row)}{'' if t < 0 else f',t{t + 1}'}]"


def families(periods: Periods, v: TransitionVariables, p: TransitionParameters, f: Flows,
             impact: tuple[cp.Expression, cp.Expression], *, lower: bool) -> list[TransitionFamily]:
    base, T = periods.base, periods.periods
    cell = base.cell_label
    live, select = periods.live_cells, periods.live()
    out: list[TransitionFamily] = [
        TransitionFamily("today", v.start == p.x0, lambda row, t: f"today[{cell(row)}]"),
        TransitionFamily("balance", v.hold[:len(live)] == select @ (f.prev - f.out - f.sold + f.bought + f.arrived),
               _at(lambda row: cell(live[row]), "balance")),
        TransitionFamily("available", select @ (f.prev - f.out - f.sold) >= 0,
                         _at(lambda row: cell(live[row]), "available")),
        TransitionFamily("window", v.move <= p.move_upper, _at(base.move_label, "window")),
    ]
    if base.has_hub:
        out.append(TransitionFamily("hub", base.hub_balance @ v.move == 0, _at(lambda a: base.assets[a], "hub")))
    # always: without venues the one padding slot of the trade variables is bounded by zero here
    out += [TransitionFamily("window", v.sell <= p.sell_upper, _at(periods.leg_label, "window:sell")),
            TransitionFamily("window", v.buy <= p.buy_upper, _at(periods.leg_label, "window:buy"))]
    if lower:
        out += [TransitionFamily("window", v.move >= p.move_lower, _at(base.move_label, "minimum")),
                TransitionFamily("window", v.sell >= p.sell_lower, _at(periods.leg_label, "minimum:sell")),
                TransitionFamily("window", v.buy >= p.buy_lower, _at(periods.leg_label, "minimum:buy"))]
    if len(periods.capacity_routes):
        def route(row: int) -> str:
            edge = int(np.flatnonzero(base.edge_route == periods.capacity_routes[row])[0])
            return f"{base.locations[base.edge_from[edge]]}->{base.locations[base.edge_to[edge]]}"
        out.append(TransitionFamily("capacity", periods.route_sum() @ v.move <= column(p.capacity),
                                    _at(route, "capacity")))
    if len(periods.withdrawal_locations):
        out.append(TransitionFamily("withdrawal", periods.withdrawal_sum() @ v.move <= column(p.withdrawal),
                          _at(lambda r: base.locations[periods.withdrawal_locations[r]], "withdrawal")))
    if periods.n_legs:
        traded = periods.traded_assets
        out.append(TransitionFamily("participation", periods.asset_sum() @ (v.sell + v.buy) <= column(p.participation),
                          _at(lambda r: base.assets[traded[r]], "participation")))
        rate = column(p.trade_rate)
        cost = cp.multiply(rate, v.sell + v.buy) + impact[0] + impact[1]
        venues = periods.venue_sum()
        out.append(TransitionFamily("venue", venues @ (v.buy + cost) <= venues @ v.sell,
                          _at(lambda r: periods.venues[r], "venue")))
    accounts = base.accounts
    floor = column(p.floor)
    checkpoints = (f.prev - f.out, f.prev - f.out - f.sold + f.bought, f.hold[:, T - 1:T])
    credit = _credit(periods, v, p, checkpoints, out)
    out += [TransitionFamily("floor", collateral(periods, p, checkpoints[0], credit[0]) >= floor,
                   _at(lambda k: accounts[k], "floor:departures")),
            TransitionFamily("floor", collateral(periods, p, checkpoints[1], credit[1]) >= floor,
                   _at(lambda k: accounts[k], "floor:trades"))]
    end = v.end
    out.append(TransitionFamily("collateral", end == collateral(periods, p, checkpoints[2], credit[2])[:, 0],
                      _at(lambda k: accounts[k], "collateral")))
    short = 0 if v.short is None else v.short
    out.append(TransitionFamily("coverage", end + short >= p.required, _at(lambda k: accounts[k], "coverage")))
    if len(periods.liquidation_pairs):
        pairs = periods.liquidation_pairs
        out.append(TransitionFamily("liquidation", f.hold[base.pair_cell[pairs], T - 1] <= p.liquidation[:len(pairs)],
                          lambda row, t: f"liquidation[{base.accounts[base.pair_account[pairs[row]]]},"
                                         f"{base.assets[base.pair_asset[pairs[row]]]}]"))
    if len(base.limit_pair):
        pairs = base.limit_pair
        posted = cp.multiply(p.weight[pairs], f.hold[base.pair_cell[pairs], T - 1])
        excess = 0 if v.excess is None else v.excess
        n_limits = len(pairs)
        allowed = cp.multiply(p.limit[:n_limits], end[base.pair_account[pairs]])
        out.append(TransitionFamily("concentration",
                                    posted <= allowed + (excess if isinstance(excess, int) else excess[:n_limits]),
                                    lambda row, t: base.limit_label(row)))
    return out


def _credit(periods: Periods, v: TransitionVariables, p: TransitionParameters,
            checkpoints: tuple[cp.Expression, ...], out: list[TransitionFamily]) -> list[cp.Expression | None]:
    """The curved pairs' credit at each checkpoint (after the departures, after the trades: (Pc, T); the end:
    (Pc, 1)), each bounded by the chords of its curve (``chords`` rows appended to ``out``); Nones without curves."""
    base, T = periods.base, periods.periods
    if v.credit is None:
        return [None] * len(checkpoints)
    curved = base.curve_pairs
    n = len(curved)
    select = sp.csr_matrix((np.ones(n), (np.arange(n), base.pair_cell[curved])), shape=(n, base.n_cells))
    credits = [v.credit[:, :T], v.credit[:, T:2 * T], v.credit[:, 2 * T:]]
    names = ("departures", "trades", "end")

    def label(name: str) -> Callable[[int, int], str]:
        def at(row: int, t: int) -> str:
            pair = curved[row % n]
            when = "" if name == "end" else f",t{t + 1}"
            return (f"chords:{name}[{base.accounts[base.pair_account[pair]]},{base.assets[base.pair_asset[pair]]},"
                    f"j{row // n + 1}{when}]")
        return at

    for credit, holdings, name in zip(credits, checkpoints, names, strict=True):
        out.append(TransitionFamily("chords", chord_rows(credit, select @ holdings, p.chord_intercept,
                                                         p.chord_slope, n), label(name)))
    return list(credits)
