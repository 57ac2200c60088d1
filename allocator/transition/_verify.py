"""The numpy check of every constraint of a schedule before anything is returned (docs/transition.md).

Tolerances (currency): amounts ``AMOUNT * S`` (S the money scale; overdraw, capacity, withdrawal, participation,
venue balance); floors and the end state are exact up to floating-point rounding, ``ROUNDING * S`` (the solver's
coverage margin absorbs its tolerance at the end; the schedule is repaired to meet floors exactly, _floors.py).
Moves closed by the departure window must be exactly zero. The end state's risk limits (stress scenarios, the
parametric limit; transition/_risk.py) are checked exactly too.
"""

from __future__ import annotations

import numpy as np

from allocator.program._allocation import ROUNDING
from allocator.transition._replay import Replay
from allocator.transition._risk import violations as risk_violations

#: Amounts (of the money scale) below which a value is floating-point residue and violations are not reported.
AMOUNT = 1e-8
#: Concentration, relative to the account's collateral.
LIMIT = 1e-9


def check(replay: Replay) -> list[str]:
    """Every violation of the replayed schedule."""
    periods, data = replay.periods, replay.data
    base = periods.base
    S = data.money
    amount = AMOUNT * S
    out: list[str] = []

    def report(mask: np.ndarray, label: str, names: list[str], values: np.ndarray) -> None:
        for row, t in zip(*np.nonzero(np.atleast_2d(mask)), strict=True):
            out.append(f"{label}[{names[row]},t{t + 1}] off by {np.atleast_2d(values)[row, t]:,.6g}")

    for name, array in (("move", replay.move), ("sell", replay.sell), ("buy", replay.buy)):
        if array.size and (not np.all(np.isfinite(array)) or array.min() < 0):
            out.append(f"{name} values are negative or not finite")
    closed = replay.move * ~periods.open
    if np.any(closed > 0):
        out.append(f"{int((closed > 0).sum())} moves depart too late to arrive by the end")
    available = replay.prev - replay.out - replay.sold
    if np.any(available < -amount):  # cell labels only to report (6,000 of them at 100 x 10 x 48)
        report(available < -amount, "available", [base.cell_label(c) for c in range(base.n_cells)], available)
    if base.has_hub:
        hub = np.asarray(base.hub_balance[:, :periods.n_moves] @ replay.move)
        report(np.abs(hub) > amount, "hub", list(base.assets), hub)
    if len(periods.capacity_routes):
        over = np.asarray(periods.route_sum()[:, :periods.n_moves] @ replay.move) - data.capacity[:, None]
        report(over > amount, "capacity", [str(r) for r in periods.capacity_routes], over)
    if len(periods.withdrawal_locations):
        over = np.asarray(periods.withdrawal_sum()[:, :periods.n_moves] @ replay.move) - data.withdrawal[:, None]
        report(over > amount, "withdrawal", [base.locations[i] for i in periods.withdrawal_locations], over)
    if periods.n_legs:
        traded = np.asarray(periods.asset_sum()[:, :periods.n_legs] @ (replay.sell + replay.buy))
        over = traded - data.participation[:, None]
        report(over > amount, "participation", [base.assets[a] for a in periods.traded_assets], over)
        surplus = replay.venue_surplus()
        report(surplus < -amount, "venue", list(periods.venues), surplus)
        report(surplus > amount, "venue:unspent", list(periods.venues), surplus)
    accounts = list(base.accounts)
    floor = replay.floor()
    slack = replay.lowest - floor[:, None]
    report(slack < -ROUNDING * S, "floor", accounts, slack)
    short = data.numbers.required - replay.end
    for k in np.flatnonzero(short > ROUNDING * S):
        out.append(f"coverage[{accounts[k]}] short by {short[k]:,.6g} at the end")
    if len(periods.liquidation_pairs):
        pairs = periods.liquidation_pairs
        over = replay.hold[base.pair_cell[pairs], -1] - data.liquidation
        for i in np.flatnonzero(over > amount):
            out.append(f"liquidation[{base.accounts[base.pair_account[pairs[i]]]},"
                       f"{base.assets[base.pair_asset[pairs[i]]]}] exceeded by {over[i]:,.6g} at the end")
    out += risk_violations(periods, data, replay.hold[:, -1], replay.end, ROUNDING * S)
    if len(base.limit_pair):
        pairs = base.limit_pair
        posted = (1.0 - data.numbers.haircut[pairs]) * replay.hold[base.pair_cell[pairs], -1]
        excess = posted - data.limit * replay.end[base.pair_account[pairs]]
        for i in np.flatnonzero(excess > LIMIT * np.maximum(replay.end[base.pair_account[pairs]], 1.0)):
            out.append(f"{base.limit_label(int(i))} exceeded by {excess[i]:,.6g} at the end")
    return out
