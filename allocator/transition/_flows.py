"""Expressions shared by the constraint families: holdings at the start of each period, what leaves and arrives.

Within period ``t`` (columns are periods): departures and sells leave the start-of-period holdings ``prev`` at the
start; trades execute during the period (the bought value lands at its end); transfers arrive after their lag.
So ``hold = prev - out - sold + bought + arrived``, and an account's collateral is lowest either after the
departures (``prev - out``) or after the trades (``prev - out - sold + bought``): those two are where the floors
are checked. Also evaluated in numpy by _verify.py with the same matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.transition._curves import credit_sum
from allocator.transition._periods import Periods
from allocator.transition._variables import TransitionParameters, TransitionVariables


@dataclass(frozen=True, eq=False)
class Flows:
    hold: cp.Expression  # (cells, T) holdings at the end of each period (live cells variables, others today's)
    prev: cp.Expression  # (cells, T) holdings at the start of each period
    out: cp.Expression  # (cells, T) departures
    sold: cp.Expression  # (cells, T)
    bought: cp.Expression  # (cells, T)
    arrived: cp.Expression  # (cells, T)

    @classmethod
    def of(cls, periods: Periods, v: TransitionVariables, p: TransitionParameters) -> Flows:
        cells, T = periods.base.n_cells, periods.periods
        start = cp.reshape(v.start, (cells, 1), order="F")
        live = periods.live()
        hold = live.T @ v.hold[:live.shape[0]] + periods.dead() @ start @ np.ones((1, T))
        prev = start if T == 1 else cp.hstack([start, hold[:, :T - 1]])
        legs = periods.legs()
        arrived: cp.Expression = 0 * hold  # type: ignore[assignment]
        terms = []
        for lag in periods.lags:
            matrix = periods.arrivals(lag)
            if matrix.nnz:
                terms.append(matrix @ v.move if lag == 0 else matrix @ v.move @ Periods.shift(T, lag))
        if terms:
            arrived = terms[0] if len(terms) == 1 else cp.sum(terms)  # type: ignore[assignment]
        return cls(hold=hold, prev=prev, out=periods.departures() @ v.move, sold=legs @ v.sell, bought=legs @ v.buy,
                   arrived=arrived)


def collateral(periods: Periods, p: TransitionParameters, holdings: cp.Expression,
               credit: cp.Expression | None = None) -> cp.Expression:
    """(K, T) haircut-adjusted collateral of every account, in units of its own scale: ``(1 - h) value`` per pair
    at a flat haircut, plus ``credit`` (Pc, T) of the curved pairs (_curves.py), given when there are any."""
    base = periods.base
    flat = np.setdiff1d(np.arange(len(base.pair_asset)), base.curve_pairs)
    n_flat = len(flat)
    select = sp.csr_matrix((np.ones(n_flat), (np.arange(n_flat), base.pair_cell[flat])),
                           shape=(max(n_flat, 1), base.n_cells))
    summed = sp.csr_matrix((np.ones(n_flat), (base.pair_account[flat], np.arange(n_flat))),
                           shape=(len(base.accounts), max(n_flat, 1)))
    weight = p.weight[flat] if n_flat else p.weight[:1]  # no flat pair: an empty select
    weighted = cp.multiply(cp.reshape(weight, (max(n_flat, 1), 1), order="F"), select @ holdings)
    out = summed @ weighted
    if credit is not None:
        out = out + credit_sum(base) @ credit
    return out


def column(parameter: cp.Parameter) -> cp.Expression:
    """A (n,) parameter as an (n, 1) column, broadcast across periods."""
    return cp.reshape(parameter, (parameter.shape[0], 1), order="F")
