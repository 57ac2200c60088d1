"""The plan's steps from a replayed schedule (transition/_steps.py), against the pairing rule written out by hand.

The steps are built with arrays (issue 16: 4,753 steps at 100 x 10 x 48 were a Python loop per pair); this test
keeps the rule of the module docstring as a plain loop and checks that every step is the same, in the same order:
a sale spread over the purchases in proportion to what each needs (``bought + cost(bought)``), a purchase over the
sales in proportion to what each pays (``sold - cost(sold)``), pairs below the crumb dropped, largest first.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS

import allocator
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods
from allocator.transition._replay import Replay
from allocator.transition._steps import CRUMB, plan_steps


def _share(sell: float, buy: float, cost: float) -> float:
    if sell <= 0:
        return 0.0
    if buy <= 0:
        return cost
    return cost * sell / (sell + buy)


def _pairs_by_hand(replay: Replay, t: int) -> list[tuple]:
    """(venue, sold asset, bought asset, sold value, bought value) of period ``t``, largest sale first."""
    periods, data = replay.periods, replay.data
    costs = replay.leg_costs()[:, t]
    out = []
    for v, venue in enumerate(periods.venues):
        legs = [n for n in range(periods.n_legs) if periods.leg_venue[n] == v]
        sells = [(n, replay.sell[n, t]) for n in legs if replay.sell[n, t] > 0]
        buys = [(n, replay.buy[n, t]) for n in legs if replay.buy[n, t] > 0]
        funds = {n: value - _share(value, replay.buy[n, t], costs[n]) for n, value in sells}
        needs = {n: value + costs[n] - _share(replay.sell[n, t], value, costs[n]) for n, value in buys}
        fund, need = sum(funds.values()), sum(needs.values())
        for n, sold in sells:
            for m, got in buys:
                sold_value, bought_value = sold * needs[m] / need, got * funds[n] / fund
                if max(sold_value, bought_value) > CRUMB * data.money:
                    out.append((venue, periods.base.assets[periods.leg_asset[n]],
                                periods.base.assets[periods.leg_asset[m]], sold_value, bought_value))
    out.sort(key=lambda pair: -pair[3])
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trade_steps_follow_the_pairing_rule(seed):
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    rng = np.random.default_rng(seed)
    shape = (periods.n_legs, periods.periods)
    # sales and purchases on most legs, some legs on both sides in one period, some empty, some crumbs
    sell = np.where(rng.random(shape) < 0.5, rng.uniform(1e3, 1e6, shape), 0.0)
    buy = np.where(rng.random(shape) < 0.5, rng.uniform(1e3, 1e6, shape), 0.0)
    sell[0, :3] = 1e-9 * data.money
    buy[1, 3:5] = buy[2, 3:5] = 5e5  # equal purchases: ties keep their order
    replay = Replay(periods, data, np.zeros((periods.n_moves, periods.periods)), sell, buy)
    steps = plan_steps(replay)
    assert all(s.kind == "trade" for s in steps)
    expected = [pair for t in range(periods.periods) for pair in _pairs_by_hand(replay, t)]
    got = [(s.venue, s.asset, s.asset_to, s.value, s.value_to) for s in steps]
    assert got == expected  # exactly: the same arithmetic, element by element
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    price = dict(zip(periods.base.assets, data.numbers.price, strict=True))
    for s in steps:
        assert s.quantity == s.value / price[s.asset] and s.quantity_to == s.value_to / price[s.asset_to]
        assert s.cost == s.value - s.value_to and s.arrival_hours == s.start_hours + periods.period_hours


def test_transfer_steps_carry_their_route_delay_and_cost():
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    move = np.zeros((periods.n_moves, periods.periods))
    move[:, 2] = np.linspace(1e4, 2e4, periods.n_moves)
    zero = np.zeros((periods.n_legs, periods.periods))
    steps = plan_steps(Replay(periods, data, move, zero, zero))
    assert len(steps) == periods.n_moves and all(s.period == 3 for s in steps)
    base = periods.base
    for s in steps:
        m = next(m for m in range(periods.n_moves)
                 if base.assets[base.move_asset[m]] == s.asset
                 and base.locations[base.edge_from[base.move_edge[m]]] == s.from_
                 and base.locations[base.edge_to[base.move_edge[m]]] == s.to)
        assert s.value == move[m, 2] and s.cost == move[m, 2] * data.move_rate[m]
        assert s.arrival_hours == s.start_hours + periods.move_delay[m]


def test_arrivals_are_built_once_and_equal_a_fresh_build():
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    periods = Periods.from_problem(problem)
    for lag in periods.lags:
        fresh = periods._incidence(periods.base.edge_to, periods.move_lag == lag)
        assert periods.arrivals(lag) is periods.arrivals(lag)
        assert (periods.arrivals(lag) != fresh).nnz == 0
    assert periods.departures() is periods.departures()
