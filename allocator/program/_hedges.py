"""Hedges as decisions (docs/hedging.md): the terms every family adds for them, and their own rows.

Each hedge ``j`` (at account ``k_j``, on underlying ``u_j``) has a notional ``n_j = (l_j - s_j) a_j S`` with long
and short parts ``l, s >= 0`` in units of its account's scale ``a_j S`` (_scaling.py), like the account's own rows:
its coefficients in its account's rows are its margin rate and its returns, of order one. Rows in money-scale units
take ``money = a (l - s)`` (a variable of its own under a cone's parameter, ``HedgeMoney``). In the program:

* cost: ``((funding_j + fee_j) l_j + (fee_j - funding_j) s_j) a_j`` (rate units): funding over the horizon paid by
  a long and received by a short, and the fee on the notional traded;
* margin: account ``k`` requires ``R_k + m_k`` with ``m_k = sum_j (rate_long_j l_j + rate_short_j s_j)`` (account
  units). Its ``collateral`` variable is written **net of the buffered margin**, ``credit - (1 + b_k) m_k``, so that
  coverage stays ``collateral >= R_k (1 + b_k)``, a bound HiGHS's presolve removes (with the margin in the coverage
  row instead, the generated 200 x 20 problem with traded hedges took twice as long per simplex iteration). Rows that
  read ``collateral`` give back what they must: concentration caps ``c (1 + b) m`` (their share is of the gross
  collateral), the cone and CVaR heads ``b m`` (they ask for ``R + m`` without buffer), the portfolio ``a b m``;
  the stress rows read holdings and take ``m`` off directly;
* exposure: the account's equity moves by ``n_j r_{u_j}`` for a return ``r``: the parametric cone sees ``n_j`` in
  the underlying's row, each stress row and CVaR draw its P&L, the portfolio limit all hedges together;
* ``HedgeLimit``: ``l_j + s_j <= max_notional_j / (a_j S)``, labelled ``hedge[acct,instrument]``, and
  ``l, s >= 0``;
* ``DeltaBand``: ``|delta| <= max_net_delta`` for each band, labelled ``delta[acct,BTC]`` (an account's: value of
  the underlying posted at it and its isolated sub-accounts, their positions' delta and hedges) or ``delta[BTC]``
  (the treasury's: the whole inventory of the underlying, every position and every hedge), ``:long``/``:short``.

When both parts are positive the program counts fees and margin on ``l + s``, at least ``|n|`` (never less than
the numpy check, which counts ``|n|``); an optimum has at most one of them positive whenever a fee or margin rate is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.program._hedge_parameters import HedgeParameters
from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._variables import Variables


def _x(v: Variables) -> cp.Variable:
    assert v.hedge is not None
    return v.hedge


def stack(hedges: np.ndarray, n_hedges: int) -> np.ndarray:
    """Positions in ``x = [l; s]`` of the long and then the short parts of the hedges at positions ``hedges``."""
    return np.concatenate([hedges, hedges + n_hedges])


def net(v: Variables, hedges: np.ndarray | None = None) -> cp.Expression:
    """``l - s`` (account-scale units) of all hedges, or of those at positions ``hedges``: ``[I, -I] x``."""
    x = _x(v)
    h = x.shape[0] // 2
    chosen = np.arange(h) if hedges is None else np.asarray(hedges)
    signs = sp.csr_matrix((np.concatenate([np.ones(len(chosen)), -np.ones(len(chosen))]),
                           (np.tile(np.arange(len(chosen)), 2), stack(chosen, h))), shape=(len(chosen), 2 * h))
    return signs @ x


def money(v: Variables, p: HedgeParameters) -> cp.Expression:
    """Signed notional of every hedge in money-scale units: ``a * (l - s)``; only where a constant matrix takes
    it (a parameter times it is a parameter product: cones take ``v.hedge_money``, HedgeMoney)."""
    return cp.multiply(p.scale, net(v))


@dataclass(frozen=True)
class HedgeMoney:
    """``hedge_money = a * (l - s)``: the notional in money-scale units as a variable of its own, so that a cone's
    parameter ``B'`` may multiply it (DPP); only in programs with cones."""

    def emit(self, layout: Layout, v: Variables, p: HedgeParameters) -> list[Labelled]:
        if not layout.has_cones:
            return []
        assert v.hedge_money is not None
        return [Labelled("hedge_money", v.hedge_money == money(v, p),
                         tuple(f"money[{layout.hedge_label(j)}]" for j in range(layout.n_hedges)))]


def margin(layout: Layout, v: Variables, rates: cp.Parameter, accounts: np.ndarray | None = None) -> cp.Expression:
    """(K,) the hedges' margin per account, weighted by the stacked ``rates`` (2H,) (or only of ``accounts``)."""
    summed = sp.hstack([layout.hedge_sum, layout.hedge_sum]).tocsr()
    return (summed if accounts is None else summed[accounts]) @ cp.multiply(rates, _x(v))


def account_margin(v: Variables, rates: cp.Parameter, hedges: np.ndarray) -> cp.Expression:
    """The margin (a scalar) of the hedges at positions ``hedges``, weighted by the stacked ``rates``."""
    x = _x(v)
    columns = stack(hedges, x.shape[0] // 2)
    pick = sp.csr_matrix((np.ones(len(columns)), (np.zeros(len(columns), dtype=int), columns)), shape=(1, x.shape[0]))
    return cp.sum(pick @ cp.multiply(rates, x))  # constant matrices, not indexing atoms: cvxpy compiles them faster


def hedge_cost(v: Variables, p: HedgeParameters) -> cp.Expression:
    return p.cost @ _x(v)


def market_map(layout: Layout, accounts: np.ndarray) -> sp.csr_matrix:
    """(n * len(accounts), H): the hedges' notional into the market-asset rows of each of ``accounts``, stacked
    account by account (column-major, like ``reshape(..., order="F")``); a hedge elsewhere, or on an underlying
    without volatility, is not mapped."""
    n = len(layout.market_assets)
    row_of = {int(a): i for i, a in enumerate(layout.market_assets)}
    column = {int(k): c for c, k in enumerate(accounts)}
    rows, cols = [], []
    for j, (k, a) in enumerate(zip(layout.hedge_account, layout.hedge_asset, strict=True)):
        if int(k) in column and int(a) in row_of:
            rows.append(column[int(k)] * n + row_of[int(a)])
            cols.append(j)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n * len(accounts), layout.n_hedges))


@dataclass(frozen=True)
class HedgeLimit:
    def emit(self, layout: Layout, v: Variables, p: HedgeParameters) -> list[Labelled]:
        both = sp.hstack([sp.identity(layout.n_hedges), sp.identity(layout.n_hedges)]).tocsr()  # l + s
        labels = tuple(layout.hedge_label(j) for j in range(layout.n_hedges))
        parts = tuple(f"{label}:{side}" for side in ("long", "short") for label in labels)
        # non-negativity as a row, not a variable attribute: cvxpy copies the whole program to apply an attribute
        return [Labelled("hedge", both @ _x(v) <= p.size, labels), Labelled("hedge_nonneg", _x(v) >= 0, parts)]


def delta_maps(layout: Layout) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(D, cells) the holdings of each band's underlying at its member accounts (none for the treasury: moves do
    not change what the desk holds), and (D, H) the hedges on it at its members (every hedge on it, treasury)."""
    members = layout.delta_members
    cells = sp.lil_matrix((len(layout.delta_owner), layout.n_cells))
    hedges = sp.lil_matrix((len(layout.delta_owner), layout.n_hedges))
    for d, (owner, asset) in enumerate(zip(layout.delta_owner, layout.delta_asset, strict=True)):
        accounts = members[d].indices
        if owner >= 0:
            for k in accounts:
                cells[d, layout.cell(int(asset), int(layout.account_location[k]))] = 1.0
        for j in np.flatnonzero((layout.hedge_asset == asset) & np.isin(layout.hedge_account, accounts)):
            hedges[d, j] = 1.0
    return cells.tocsr(), hedges.tocsr()


@dataclass(frozen=True)
class DeltaBand:
    """``-bound <= delta <= bound`` per band; the elastic program relaxes each side by ``shortfall`` (money)."""

    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: HedgeParameters) -> list[Labelled]:
        if not len(layout.delta_owner):
            return []
        cells, hedges = delta_maps(layout)
        delta = cells @ v.holding + hedges @ money(v, p) + p.delta_base
        bound = p.delta_bound if self.shortfall is None else p.delta_bound + self.shortfall
        labels = tuple(layout.delta_label(d) for d in range(len(layout.delta_owner)))
        return [Labelled("delta", delta <= bound, tuple(f"{label}:long" for label in labels)),
                Labelled("delta", -delta <= bound, tuple(f"{label}:short" for label in labels))]
