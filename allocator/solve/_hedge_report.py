"""The hedges of a verified allocation as result rows: the trades, and delta before and after (docs/hedging.md).

Delta is in currency per unit return of an underlying: the value of it posted at an account plus the delta of the
account's positions and hedges (an isolated account counts its sub-accounts: ``owner`` is the account as written),
and for the treasury the whole inventory of it plus every position and hedge. ``before`` is today's holdings and
positions, ``after`` the targets, positions and recommended hedges. Rows cover every underlying a hedge trades.
"""

from __future__ import annotations

import numpy as np

from allocator.inputs.market import Position
from allocator.inputs.problem import Problem
from allocator.program._allocation import Allocation
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.results.result import DeltaRow, HedgeTrade

TREASURY = "treasury"
#: Accounts whose delta on an underlying stays below this share of the book's value are left out of the rows.
DUST = 1e-9


def hedge_trades(problem: Problem, layout: Layout, numbers: Numbers, allocation: Allocation) -> list[HedgeTrade]:
    """One row per hedge traded (notional not zero), with its funding, fee and margin in currency."""
    if not layout.n_hedges:
        return []
    notional = allocation.hedge
    funding, fees = allocation.hedge_funding(numbers), allocation.hedge_fees(numbers)
    margin = numbers.hedge_rate_long * np.maximum(notional, 0.0) + numbers.hedge_rate_short * np.maximum(-notional, 0.0)
    price = numbers.price[layout.hedge_asset]
    return [HedgeTrade(account=hedge.account, instrument=hedge.instrument, underlying=hedge.underlying,
                       quantity=float(notional[j] / price[j]), notional=float(notional[j]),
                       funding=float(funding[j]), fee=float(fees[j]), margin=float(margin[j]))
            for j, hedge in enumerate(problem.hedges) if notional[j] != 0]


def hedge_positions(problem: Problem, allocation: Allocation) -> list[Position]:
    """The hedges traded, as positions at their accounts (for the liquidation distance)."""
    price = {asset.id: asset.price for asset in problem.assets}
    return [hedge.position(float(n), price[hedge.underlying]) for hedge, n in zip(problem.hedges, allocation.hedge,
                                                                                 strict=True) if n != 0]


def delta_rows(problem: Problem, layout: Layout, numbers: Numbers, allocation: Allocation) -> list[DeltaRow]:
    """Delta before and after of every top-level account and of the treasury, on each hedged underlying."""
    if not layout.n_hedges:
        return []
    hedged = numbers.hedged(layout, allocation.hedge)
    before_value, after_value = numbers.value(layout), hedged.value(layout, allocation.quantity)
    limits = {(int(o), int(a)): float(limit) for o, a, limit in zip(layout.delta_owner, layout.delta_asset,
                                                                     numbers.delta_limit, strict=True)}
    floor = DUST * max(float(before_value.sum()), 1.0)  # a posting below this is solver dust, not a delta
    accounts = np.arange(len(layout.accounts))
    owner = np.where(layout.parent >= 0, layout.parent, accounts)  # an isolated sub-account counts at its account
    rows = []
    for asset in dict.fromkeys(int(a) for a in layout.hedge_asset):
        at = layout.cell(asset, layout.account_location)
        before = np.bincount(owner, before_value[at] + numbers.exposure[:, asset], minlength=len(accounts))
        after = np.bincount(owner, after_value[at] + hedged.exposure[:, asset], minlength=len(accounts))
        for k in np.flatnonzero(layout.parent < 0):
            if abs(before[k]) > floor or abs(after[k]) > floor or (k, asset) in limits:
                rows.append(DeltaRow(owner=layout.accounts[k], underlying=layout.assets[asset], before=float(before[k]),
                                     after=float(after[k]), limit=limits.get((int(k), asset))))
        cells = np.arange(asset * layout.n_locations, (asset + 1) * layout.n_locations)
        rows.append(DeltaRow(owner=TREASURY, underlying=layout.assets[asset],
                             before=float(before_value[cells].sum() + numbers.exposure[:, asset].sum()),
                             after=float(after_value[cells].sum() + hedged.exposure[:, asset].sum()),
                             limit=limits.get((-1, asset))))
    return rows
