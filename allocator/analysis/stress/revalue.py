"""An allocation revalued at other prices: collateral, positions' P&L and requirements, account by account.

For every row of prices (N, n) and every account:

- ``value``: market value of the collateral posted there, ``sum_a q_a p_a``;
- ``collateral``: its credit, ``(1 - h_a) q_a p_a`` or the asset's collateral curve at ``q_a p_a``, with the
  account's terms at those prices (book.py: re-derived by its rulebook and haircut models); ``collateral_m`` the
  same on the maintenance basis;
- ``pnl``: the positions' P&L since their last mark, :func:`~allocator.inputs.market.marked_pnl` with every position
  marked at today's price unless it carries an earlier mark (the what-if convention, inputs/scenario.py): linear
  positions ``q (p - reference)``, options repriced with Black-76 (``Position.change``, the one definition);
- ``requirement`` and ``requirement_m``: the account's requirement (given, or its rulebook's margin of its positions
  at those prices) on its own basis and on the maintenance basis;
- ``notional``: the positions' gross delta-equivalent notional ``sum |q delta p|`` (what a liquidation closes).

The equity a venue compares with its maintenance line is ``collateral_m + pnl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np

from allocator.analysis.stress.book import Book
from allocator.inputs.market import marked_pnl
from allocator.venues.terms import AccountTerms

FIELDS = ("value", "collateral", "collateral_m", "requirement", "requirement_m", "pnl", "notional")


@dataclass(frozen=True, eq=False)
class Valuation:
    """(N, m) arrays: one row per price row, one column per account (see the module docstring)."""

    value: np.ndarray
    collateral: np.ndarray
    collateral_m: np.ndarray
    requirement: np.ndarray
    requirement_m: np.ndarray
    pnl: np.ndarray
    notional: np.ndarray

    def rows(self, index: np.ndarray) -> Valuation:
        """The valuation of the rows ``index`` (integer or boolean)."""
        return Valuation(*(getattr(self, name)[index] for name in FIELDS))

    @property
    def equity(self) -> np.ndarray:
        """Maintenance-basis collateral plus the positions' P&L: what a venue compares with its maintenance line."""
        return self.collateral_m + self.pnl


def credited(terms: AccountTerms, units: np.ndarray, price: np.ndarray, assets: list[str]) -> np.ndarray:
    """(N,) credit of ``units`` (n,) at ``price`` (N, n) under ``terms``: eligible assets only."""
    out = np.zeros(price.shape[0])
    for asset, haircut in terms.eligible.items():
        i = assets.index(asset)
        if units[i] == 0:
            continue
        value = units[i] * price[:, i]
        out += terms.curves[asset].value(value) if asset in terms.curves else (1.0 - haircut) * value
    return out


def revalue(book: Book, price: np.ndarray) -> Valuation:
    """The allocation at every row of ``price`` (N, n)."""
    price = np.atleast_2d(np.asarray(price, dtype=float))
    rows, accounts, assets = price.shape[0], len(book.accounts), book.assets
    value = price @ book.posted
    collateral = np.zeros((rows, accounts))
    collateral_m = np.zeros((rows, accounts))
    requirement = np.zeros((rows, accounts))
    requirement_m = np.zeros((rows, accounts))
    for k in np.flatnonzero(book.static):
        collateral[:, k] = credited(book.terms[k], book.posted[:, k], price, assets)
        collateral_m[:, k] = collateral[:, k]
        requirement[:, k] = book.terms[k].requirement
        requirement_m[:, k] = book.maintenance[k].requirement
    moving = np.flatnonzero(~book.static)
    if len(moving):
        for r in range(rows):
            own, maintenance = book.terms_at(price[r])
            for k in moving:
                collateral[r, k] = credited(own[k], book.posted[:, k], price[r:r + 1], assets)[0]
                collateral_m[r, k] = (collateral[r, k] if maintenance[k] is own[k] else
                                      credited(maintenance[k], book.posted[:, k], price[r:r + 1], assets)[0])
                requirement[r, k] = own[k].requirement
                requirement_m[r, k] = maintenance[k].requirement
    pnl, notional = _positions(book, price)
    return Valuation(value, collateral, collateral_m, requirement, requirement_m, pnl, notional)


def _positions(book: Book, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, m) P&L since the last mark and gross notional of every account's positions."""
    rows, assets, as_of = price.shape[0], book.assets, book.problem.as_of
    pnl = np.zeros((rows, len(book.accounts)))
    notional = np.zeros_like(pnl)
    columns = {asset: price[:, i] for i, asset in enumerate(assets)}  # linear P&L is linear in arrays of prices
    for k, positions in enumerate(book.positions):
        linear = [p for p in positions if p.kind != "option"]
        options = [p for p in positions if p.kind == "option"]
        if linear:
            # linear P&L q (p - reference) takes arrays of prices as well as numbers
            pnl[:, k] += marked_pnl(linear, cast(Mapping[str, float], columns), as_of)[book.accounts[k]]
            notional[:, k] += sum(abs(p.quantity) * columns[p.underlying] for p in linear)
        for r in range(rows) if options else ():
            prices = {asset: float(price[r, i]) for i, asset in enumerate(assets)}
            pnl[r, k] += marked_pnl(options, prices, as_of)[book.accounts[k]]
            notional[r, k] += sum(abs(p.quantity * p.delta(prices[p.underlying], as_of)) * prices[p.underlying]
                                  for p in options)
    return pnl, notional
