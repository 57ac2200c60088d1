"""The treasury-wide limit (``[portfolio]``): every account's collateral together covers the sum of the
requirements with a parametric margin for the whole book, and after each named stress scenario.

``sum_k collateral_k - z * sigma_P >= sum_k requirement_k`` with ``sigma_P = sqrt(tau/365) * || F' (V + E) ||``,
``V`` the market value posted at all accounts together and ``E`` all positions' exposure: diversification across
accounts counts here, unlike in the per-account limits. Written like ParametricLimit with the constants in the
head: ``|| [B' (V + E); s * (V + E)] || <= (total - R) / c``; ``total`` is a variable equal to the collateral in
money units (``sum_k size_k * collateral_k``), which keeps the head DPP. The stress rows are
``sum over pairs of (1 - h) (1 + r) value + min(1, 1 + r) credit of curved pairs + P&L >= R``, one per scenario.
Rows are in money units (divided by S), like the objective. Hedges (_hedges.py) add their notional to ``E``, their
P&L to each scenario and their margin to ``R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.program._coverage import select
from allocator.program._hedges import margin, net
from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._parameters import Parameters
from allocator.program._variables import Variables


def _all_hedges(layout: Layout) -> sp.csr_matrix:
    """(n, H): each hedge's notional into its underlying's market row (none off the market)."""
    row_of = {int(a): i for i, a in enumerate(layout.market_assets)}
    pairs = [(row_of[int(a)], j) for j, a in enumerate(layout.hedge_asset) if int(a) in row_of]
    return sp.csr_matrix((np.ones(len(pairs)), ([r for r, _ in pairs], [j for _, j in pairs])),
                         shape=(len(layout.market_assets), layout.n_hedges))


def summed_market_value(layout: Layout) -> sp.csr_matrix:
    """(n, cells): the value of each market asset summed over every account's location."""
    cells = layout.market_account_cells  # (K, n)
    n = len(layout.market_assets)
    rows = np.tile(np.arange(n), cells.shape[0])
    return sp.csr_matrix((np.ones(cells.size), (rows, cells.ravel())), shape=(n, layout.n_cells))


@dataclass(frozen=True)
class PortfolioConstraint:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        if not layout.portfolio or not len(layout.market_assets):
            return []
        total = cp.Variable(name="portfolio_collateral")
        covered = total if self.shortfall is None else total + self.shortfall
        value = summed_market_value(layout) @ v.holding
        head = p.portfolio_inverse * covered - p.portfolio_head
        if p.hedges is not None:  # every hedge's notional, and its margin in the requirement (_hedges.py)
            value = value + _all_hedges(layout) @ v.hedge_money
            head = head + cp.sum(margin(layout, v, p.hedges.portfolio))  # b m back
        rows = [p.risk_loadings @ value + p.portfolio_offset]
        if layout.has_specific:
            rows.append(cp.multiply(p.portfolio_specific, value) + p.portfolio_offset_specific)
        out = [Labelled("portfolio_total", total == p.account_scale @ v.collateral, ("portfolio_total",)),
               Labelled("portfolio", cp.SOC(head, cp.hstack(rows)), ("portfolio[risk]",))]
        if layout.portfolio_stress and len(layout.pair_asset):
            posted = select(layout.pair_cell, layout.n_cells) @ v.holding
            stressed = p.portfolio_stress_weight @ posted
            if len(layout.curve_pairs):
                stressed = stressed + p.portfolio_stress_credit @ v.credit
            if p.hedges is not None:
                stressed = stressed + p.hedges.portfolio_stress @ net(v) \
                    - cp.sum(margin(layout, v, p.hedges.floor))
            if self.shortfall is not None:
                stressed = stressed + self.shortfall
            out.append(Labelled("portfolio_stress", stressed >= p.portfolio_stress_floor,
                                tuple(f"portfolio[stress,{name}]" for name in layout.stress)))
        return out
