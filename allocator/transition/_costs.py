"""The transition's cost: the desk's income forgone, transfer costs, and the value lost in trades.

``cost = sum_c income[c] * (value[c,0] * sum_t w_t - earned[c])``   income forgone against today's holdings held
        unchanged, over every cell ``c = (asset, location)``: ``income[c]`` is the asset's carry at a location
        that is not an account and the account's yield on it at an account (0 where it pays none). Value earns
        only while it is there, from the hour it lands:
        ``earned[c] = sum_t (P/24/365) (held[c,t] + sum_m arrived[m,t] (P - landing_m) / P)
                      + horizon_days/365 value[c,T]``
        with ``held = prev - out - sold`` what stays in the cell through period ``t`` (departures and sales leave at
        its start), an arrival earning the rest of its period after it lands ``landing_m = delay_m - lag_m P``
        hours into it (_periods.py: 0 for an instant move, ``P`` for one landing at the period's end), bought
        value (landing at the period's end) nothing in its period, and value in flight nothing at all. The end
        state is held for the horizon after the transition. ``w_t = P/24/365`` for every period and the last also
        ``+ horizon_days/365``.
      ``+ sum_{moves,t} cost_bps/1e4 * moved``                             transfers
      ``+ sum_{legs,t} (sold - bought)``                                   trading: fees, half spreads and impact
        ``k v^1.5`` of every leg, which the venue rows take out of the bought value.

Since ``value[., t] = held[., t] + bought[., t] + arrived[., t]``, the income term is written on the period-end
holdings with the value that landed during a period charged back for the part of it that it missed:

    ``sum_t w_t income . (value[.,0] - value[.,t]) + sum_{m,t} move_unearned_m g[m,t]
                                                    + sum_{n,t} buy_unearned_n b[n,t]``

``move_unearned_m = income[to_m] landing_m / 24/365`` and ``buy_unearned_n = income[cell_n] P/24/365``
(_data.py): data, so the program stays linear in the schedule (a cost per value moved and per value bought).

So doing nothing costs 0, and the total is exactly what the desk loses against doing nothing: income (carry and
yields of every holding, wherever it sits, while it sits there) plus the money paid to move and trade. While the
inventory's composition cannot change (no venues, no value in flight) the income term equals the single-period
program's "carry forgone at accounts" of the end state minus that of today's holdings (docs/formulation.md); with
trades it also counts what the desk gives up by selling a high-carry asset.

Written once: the functions below build the cvxpy expressions (program units, ``money * rate`` currency each) and
:func:`split` evaluates the same sums in numpy (currency) for the result; the linear path's direct matrices
(_direct.py) write the same costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods
from allocator.transition._variables import TransitionParameters, TransitionVariables

#: Tangent points of the piecewise-linear outer approximation of u^1.5 (MILP), as shares of a leg's cap, squared.
PIECES = 16


def objective(periods: Periods, data: TransitionData, v: TransitionVariables, p: TransitionParameters,
              hold: cp.Expression) -> cp.Expression:
    # today's holdings enter through ``start`` (fixed by the ``today`` row), so the constant stays DPP
    carry = p.income @ (v.start * float(data.time_weight.sum()) - hold @ data.time_weight)
    transfer = p.move_rate @ cp.sum(v.move, axis=1)
    trading = (cp.sum(v.sell) - cp.sum(v.buy)) / data.rate
    # value landing during a period earns nothing of it before it lands (module docstring); after ``trading``, so
    # that the variables keep their order of first appearance (_direct.py)
    landing = p.move_unearned @ cp.sum(v.move, axis=1) + p.buy_unearned @ cp.sum(v.buy, axis=1)
    return carry + transfer + trading + landing


def conic_impact(p: TransitionParameters, leg_values: cp.Variable) -> cp.Expression:
    """Impact of every leg and period, ``k sqrt(S) u^1.5`` (scaled value units): convex, exact."""
    return cp.multiply(cp.reshape(p.impact, (p.impact.shape[0], 1), order="F"), cp.power(leg_values, 1.5))


def outer_impact(periods: Periods, data: TransitionData, p: TransitionParameters, leg_values: cp.Variable,
                 epigraph: cp.Variable, pieces: int = PIECES) -> list[cp.Constraint]:
    """``epigraph >= k sqrt(S) * max_i (tangent_i of u^1.5)``: a piecewise-linear outer (lower) approximation for
    the MILP, with tangents at ``cap * (i / pieces)^2`` where ``cap`` is the leg's participation limit per period.
    It never overstates the impact; the MILP's schedule is re-costed exactly afterwards (the HiGHS path, _pwl.py,
    refines it with tangents at its own solution)."""
    impact = cp.reshape(p.impact, (p.impact.shape[0], 1), order="F")
    return [epigraph >= cp.multiply(impact, cp.multiply(slope[:, None], leg_values) - offset[:, None])
            for slope, offset in tangent_points(periods, data, pieces)]


def tangent_points(periods: Periods, data: TransitionData, pieces: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per tangent ``i = 1..pieces`` of ``outer_impact``: the slope ``1.5 sqrt(u_i)`` and offset ``0.5 u_i^1.5`` of
    ``u^1.5`` at ``u_i = cap (i / pieces)^2`` for every leg slot (the cap: the leg's participation limit per
    period, scaled); shared with the program's direct matrices (_direct.py)."""
    cap = np.zeros(periods.n_leg_slots)
    rows = {int(a): i for i, a in enumerate(periods.traded_assets)}
    cap[:periods.n_legs] = [data.participation[rows[int(a)]] / data.money for a in periods.leg_asset]
    out = []
    for i in range(1, pieces + 1):
        point = cap * (i / pieces) ** 2
        out.append((1.5 * np.sqrt(point), 0.5 * point ** 1.5))
    return out


@dataclass(frozen=True)
class CostSplit:
    carry: float
    transfer: float
    fees: float
    spread: float
    impact: float

    @property
    def total(self) -> float:
        return self.carry + self.transfer + self.fees + self.spread + self.impact


def split(periods: Periods, data: TransitionData, hold: np.ndarray, move: np.ndarray, sell: np.ndarray,
          buy: np.ndarray) -> CostSplit:
    """The cost of a schedule in currency (arrays in currency, shapes as the variables without padding)."""
    carry = float(data.income @ (((data.x0 * data.money)[:, None] - hold) @ data.time_weight))
    if periods.n_moves:
        carry += float(data.move_unearned @ move.sum(axis=1))
    if periods.n_legs:
        carry += float(data.buy_unearned @ buy.sum(axis=1))
    transfer = float(data.move_rate @ move.sum(axis=1)) if periods.n_moves else 0.0
    fees, spread, impact = (float(part.sum()) for part in
                            (a + b for a, b in zip(data.leg_cost(sell), data.leg_cost(buy), strict=True)))
    return CostSplit(carry=carry, transfer=transfer, fees=fees, spread=spread, impact=impact)
