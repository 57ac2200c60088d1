"""The single-period LP as one sparse matrix with row and column bounds, assembled from index arrays.

The same program as the cvxpy one (program/model.py), in the same scaled units, so that values and duals mean
the same: columns are the holdings ``x`` (cells), the moves ``g`` (move slots) and each account's collateral
``c`` (in its own scale), and for the elastic diagnosis the shortfalls ``s`` (accounts) and excesses ``e``
(limits). Rows, in this order:

=============  ==================================================  =====================
block          row                                                 bounds
=============  ==================================================  =====================
balance        ``x - I g``                                         ``= x0``
hub            ``H g`` (only with the virtual hub)                 ``= 0``
collateral     ``c - sum_p w_p x_p``                               ``= 0``
coverage       ``c (+ s)``                                         ``>= required``
concentration  ``w_i x_i - limit_i c_k (- e_i)``                   ``<= 0``
=============  ==================================================  =====================

Non-negativity is a column bound, so the reduced costs of ``x`` and ``g`` are the duals of the cvxpy program's
``holding``/``move`` rows. The structure (the sparsity pattern in HiGHS's column-wise order) is computed once
per layout; ``assemble`` only fills in the numbers, so a re-solve costs a few vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.program.layout import Layout
from allocator.program.lp.values import LinearValues

INF = np.inf


@dataclass(frozen=True, eq=False)
class Blocks:
    """Where each block of columns and rows starts (``stop`` of the last is the count)."""

    holding: int
    move: int
    collateral: int
    shortfall: int  # elastic only: equal to ``columns`` otherwise
    excess: int
    columns: int
    balance: int
    hub: int
    collateral_rows: int
    coverage: int
    concentration: int
    rows: int

    def column_slice(self, name: str) -> slice:
        order = ["holding", "move", "collateral", "shortfall", "excess", "columns"]
        return slice(getattr(self, name), getattr(self, order[order.index(name) + 1]))

    def row_slice(self, name: str) -> slice:
        order = ["balance", "hub", "collateral_rows", "coverage", "concentration", "rows"]
        return slice(getattr(self, name), getattr(self, order[order.index(name) + 1]))


@dataclass(frozen=True, eq=False)
class Matrices:
    """A fully numeric LP in HiGHS's column-wise form: minimise ``cost . v`` subject to
    ``row_lower <= A v <= row_upper`` and ``col_lower <= v <= col_upper``."""

    blocks: Blocks
    start: np.ndarray  # (columns + 1,) CSC column starts
    index: np.ndarray  # (nnz,) row of each entry
    value: np.ndarray  # (nnz,)
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray


class Structure:
    """The sparsity pattern of a layout's LP (cost and moves phases, or the elastic program): built once."""

    def __init__(self, layout: Layout, elastic: bool = False) -> None:
        self.layout, self.elastic = layout, elastic
        cells, slots, accounts = layout.n_cells, layout.n_move_slots, len(layout.accounts)
        limits = len(layout.limit_pair)
        hub_rows = layout.n_assets if layout.has_hub else 0
        collateral = cells + slots
        shortfall = collateral + accounts
        excess = shortfall + (accounts if elastic else 0)
        columns = excess + (limits if elastic else 0)
        hub = cells
        collateral_rows = hub + hub_rows
        coverage = collateral_rows + accounts
        concentration = coverage + accounts
        self.blocks = Blocks(holding=0, move=cells, collateral=collateral, shortfall=shortfall, excess=excess,
                             columns=columns, balance=0, hub=hub, collateral_rows=collateral_rows,
                             coverage=coverage, concentration=concentration, rows=concentration + limits)
        b = self.blocks
        incidence = layout.incidence.tocoo()
        hub_balance = layout.hub_balance.tocoo()
        account_of_limit = layout.pair_account[layout.limit_pair]
        k, c = np.arange(accounts), np.arange(limits)
        # entries in a fixed block order; ``constant`` holds the values that never change (NaN where a number goes)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [
            (np.arange(cells), np.arange(cells), np.ones(cells)),  # balance: x
            (incidence.row, b.move + incidence.col, -incidence.data),  # balance: -I g
        ]
        if layout.has_hub:
            parts.append((b.hub + hub_balance.row, b.move + hub_balance.col, hub_balance.data))
        parts += [
            (b.collateral_rows + k, b.collateral + k, np.ones(accounts)),  # collateral: c
            (b.collateral_rows + layout.pair_account, layout.pair_cell, np.full(len(layout.pair_cell), np.nan)),
            (b.coverage + k, b.collateral + k, np.ones(accounts)),  # coverage: c
            (b.concentration + c, layout.pair_cell[layout.limit_pair], np.full(limits, np.nan)),  # w_i x_i
            (b.concentration + c, b.collateral + account_of_limit, np.full(limits, np.nan)),  # -limit_i c_k
        ]
        if elastic:
            parts += [(b.coverage + k, b.shortfall + k, np.ones(accounts)),
                      (b.concentration + c, b.excess + c, -np.ones(limits))]
        rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
        cols = np.concatenate([p[1] for p in parts]).astype(np.int64)
        constant = np.concatenate([p[2] for p in parts])
        self._order = np.lexsort((rows, cols))  # column-wise, rows ascending within a column
        self.index = rows[self._order].astype(np.int32)
        self.start = np.searchsorted(cols[self._order], np.arange(columns + 1)).astype(np.int32)
        self._constant = constant
        # where the numbers go, in block order: -weight, share_weight, -limit
        first = sum(len(p[0]) for p in parts[:3 + layout.has_hub])
        self._weight = slice(first, first + len(layout.pair_cell))
        self._share = slice(self._weight.stop + accounts, self._weight.stop + accounts + limits)
        self._limit = slice(self._share.stop, self._share.stop + limits)

    @property
    def nnz(self) -> int:
        return len(self.index)

    def assemble(self, values: LinearValues) -> Matrices:
        """The LP of the cost phase (or the elastic program) with these numbers."""
        layout, b = self.layout, self.blocks
        entries = self._constant.copy()
        entries[self._weight] = -values.weight
        entries[self._share] = values.share_weight
        entries[self._limit] = -values.limit
        cost = np.zeros(b.columns)
        col_lower = np.zeros(b.columns)
        col_upper = np.full(b.columns, INF)
        col_lower[b.column_slice("collateral")] = -INF
        if layout.n_moves == 0:
            col_upper[b.move] = 0.0  # the one move slot of a problem where nothing may move
        if self.elastic:
            cost[b.column_slice("shortfall")] = values.account_scale
            cost[b.column_slice("excess")] = values.limit_scale
        else:
            cost[layout.account_cells] = values.carry
            cost[b.move:b.move + layout.n_moves] = values.move
        row_lower = np.zeros(b.rows)
        row_upper = np.zeros(b.rows)
        row_lower[b.row_slice("balance")] = row_upper[b.row_slice("balance")] = values.holdings
        row_lower[b.row_slice("coverage")] = values.required
        row_upper[b.row_slice("coverage")] = INF
        row_lower[b.row_slice("concentration")] = -INF
        return Matrices(blocks=b, start=self.start, index=self.index, value=entries[self._order], cost=cost,
                        col_lower=col_lower, col_upper=col_upper, row_lower=row_lower, row_upper=row_upper)
