"""From a verified schedule to the plan's steps, ordered safely within each period.

Within a period every departure and sale draws on the holdings at the start of the period (the ``available``
rows), and the floors hold after all departures and after all trades (the ``floor`` rows), so any order within a
period is safe; the plan lists, per period, deposits (transfers out of locations that are not accounts) first,
then withdrawals from accounts, then trades, largest first, as the single-period plan does.

Trades at a venue in a period are pooled by the program (sold value funds bought value net of every leg's
costs); they are listed as pairs (sold asset, bought asset): a sale is spread over the purchases in proportion
to what each needs (``bought + cost(bought)``) and a purchase over the sales in proportion to what each pays
(``sold - cost(sold)``), so the pairs add up exactly to the legs. A pair's ``cost`` is sold minus bought value.
"""

from __future__ import annotations

import numpy as np

from allocator.plan.transfers import transfers_from_moves
from allocator.transition._replay import Replay
from allocator.transition._result import TransitionStep

#: Pairs of a trade smaller than this share of the money scale are residue and not listed.
CRUMB = 1e-12


def plan_steps(replay: Replay) -> list[TransitionStep]:
    periods, data = replay.periods, replay.data
    base = periods.base
    price = data.numbers.price
    asset_index = {a: i for i, a in enumerate(base.assets)}
    route_of = {(base.locations[base.edge_from[e]], base.locations[base.edge_to[e]]): e
                for e in range(len(base.edge_from)) if base.edge_route[e] >= 0}
    accounts = set(base.accounts)
    hours = periods.period_hours
    rows: list[dict] = []
    for t in range(periods.periods):
        start = t * hours
        moved = np.zeros(base.n_move_slots)
        moved[:periods.n_moves] = replay.move[:, t]
        transfers = transfers_from_moves(base, moved)
        transfers.sort(key=lambda tr: (tr.source in accounts, -tr.quantity, tr.asset, tr.source, tr.destination))
        for transfer in transfers:
            a = asset_index[transfer.asset]
            edge = route_of.get((transfer.source, transfer.destination))
            if edge is None:  # through the virtual hub: free and immediate
                delay, rate = 0.0, 0.0
            else:
                move = int(np.flatnonzero((base.move_edge == edge) & (base.move_asset == a))[0])
                delay, rate = float(periods.move_delay[move]), float(data.move_rate[move])
            value = transfer.quantity
            rows.append(dict(period=t + 1, start_hours=start, arrival_hours=start + delay, kind="transfer",
                             asset=transfer.asset, from_=transfer.source, to=transfer.destination,
                             quantity=value / price[a], value=value, cost=value * rate))
        rows += _trades(replay, t, start, start + hours)
    return [TransitionStep(step=i + 1, **row) for i, row in enumerate(rows)]


def _trades(replay: Replay, t: int, start: float, end: float) -> list[dict]:
    periods, data = replay.periods, replay.data
    base, price = periods.base, data.numbers.price
    costs = replay.leg_costs()[:, t] if periods.n_legs else np.zeros(0)
    crumb = CRUMB * data.money
    out: list[dict] = []
    for v, venue in enumerate(periods.venues):
        legs = np.flatnonzero(periods.leg_venue == v)
        sells = [(int(n), replay.sell[n, t]) for n in legs if replay.sell[n, t] > 0]
        buys = [(int(n), replay.buy[n, t]) for n in legs if replay.buy[n, t] > 0]
        funds = {n: value - _share(value, replay.buy[n, t], costs[n]) for n, value in sells}
        needs = {n: value + costs[n] - _share(replay.sell[n, t], value, costs[n]) for n, value in buys}
        fund, need = sum(funds.values()), sum(needs.values())
        for n, sold in sells:
            for m, got in buys:
                sold_value = sold * needs[m] / need  # each sale is spread over the purchases it pays for
                bought_value = got * funds[n] / fund
                if max(sold_value, bought_value) <= crumb:
                    continue
                a, b = int(periods.leg_asset[n]), int(periods.leg_asset[m])
                out.append(dict(period=t + 1, start_hours=start, arrival_hours=end, kind="trade",
                                asset=base.assets[a], from_=venue, to=venue, venue=venue,
                                quantity=sold_value / price[a], value=sold_value, asset_to=base.assets[b],
                                quantity_to=bought_value / price[b], value_to=bought_value,
                                cost=sold_value - bought_value))
    out.sort(key=lambda row: -row["value"])
    return out


def _share(sell: float, buy: float, cost: float) -> float:
    """The part of a leg's period cost that falls on its sold side (a leg is normally one side only)."""
    if sell <= 0:
        return 0.0
    if buy <= 0:
        return cost
    return cost * sell / (sell + buy)
