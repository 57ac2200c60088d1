"""The single-period LP as one sparse matrix with row and column bounds, assembled from index arrays.

The same program as the cvxpy one (program/_model.py), in the same scaled units, so that values and duals mean
the same: columns are the holdings ``x`` (cells), the moves ``g`` (move slots), each account's collateral ``c``
(in its own scale), the hedges' long and short parts ``h = [l; s]`` (in their account's scale, program/_hedges.py),
and for the elastic diagnosis the shortfalls ``s`` (accounts) and excesses ``e`` (limits). Rows, in this order:

=============  =====================================================  =====================
block          row                                                    bounds
=============  =====================================================  =====================
balance        ``x - I g``                                            ``= x0``
hub            ``H g`` (only with the virtual hub)                    ``= 0``
collateral     ``c - sum_p w_p x_p + sum_j (1 + b) rate_j h_j``       ``= 0``
coverage       ``c (+ s)``                                            ``>= required``
concentration  ``w_i x_i - limit_i c_k - sum_j back_ij h_j (- e_i)``  ``<= 0``
hedge_limit    ``l_j + s_j`` (one per hedge)                          ``<= size_j``
=============  =====================================================  =====================

The collateral is net of the hedges' buffered margin and a concentration cap gives back its share of it
(``back = limit_i (1 + b) rate_j``), as in the cvxpy program (program/_hedges.py). Non-negativity is a column bound,
so the reduced costs of ``x`` and ``g`` are the duals of the cvxpy program's ``holding``/``move`` rows. The
structure (the sparsity pattern in HiGHS's column-wise order) is computed once per layout; ``assemble`` only
fills in the numbers, so a re-solve costs a few vector operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.program._layout import Layout
from allocator.program._lp.values import LinearValues, hedge_limit_pairs

INF = np.inf
#: An LP as ``HighsLP.load_arrays`` takes it: cost, column bounds, row bounds, column starts, row indices, values.
LoadArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _numbers(n: int) -> np.ndarray:
    """Placeholders for ``n`` entries whose numbers ``assemble`` fills in."""
    return np.full(n, np.nan)


@dataclass(frozen=True, eq=False)
class Blocks:
    """Where each block of columns and rows starts (``stop`` of the last is the count)."""

    holding: int
    move: int
    collateral: int
    hedge: int  # 2H columns ``[l; s]``
    shortfall: int  # elastic only: equal to ``columns`` otherwise
    excess: int
    columns: int
    balance: int
    hub: int
    collateral_rows: int
    coverage: int
    concentration: int
    hedge_limit: int  # H rows ``l + s <= size``
    rows: int

    def column_slice(self, name: str) -> slice:
        order = ["holding", "move", "collateral", "hedge", "shortfall", "excess", "columns"]
        return slice(getattr(self, name), getattr(self, order[order.index(name) + 1]))

    def row_slice(self, name: str) -> slice:
        order = ["balance", "hub", "collateral_rows", "coverage", "concentration", "hedge_limit", "rows"]
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


@dataclass(frozen=True, eq=False)
class Restriction:
    """The LP on the ``keep`` columns only (a mask; every row kept): which columns and matrix entries those are.
    A structure's sparsity pattern is the same for all its numbers, so one restriction serves every assembled
    LP of it (the re-solves of a what-if with the same useful columns); only the numbers are gathered again."""

    keep: np.ndarray
    kept: np.ndarray  # (kept,) the columns
    start: np.ndarray  # (kept + 1,) their column starts in the smaller matrix
    entries: np.ndarray  # (nnz kept,) where their entries sit in the whole matrix
    index: np.ndarray  # (nnz kept,) their rows

    @classmethod
    def of(cls, m: Matrices, keep: np.ndarray) -> Restriction:
        kept = np.flatnonzero(keep)
        counts = np.diff(m.start)[kept]
        start = np.concatenate([[0], np.cumsum(counts)])
        entries = np.repeat(m.start[kept] - start[:-1], counts) + np.arange(start[-1])
        return cls(keep=keep, kept=kept, start=start, entries=entries, index=m.index[entries])

    def arrays(self, m: Matrices) -> LoadArrays:
        """``m`` on these columns as ``HighsLP.load_arrays`` takes it: cost, column and row bounds, the
        column-wise matrix (starts with one entry per column and the end)."""
        kept = self.kept
        return (m.cost[kept], m.col_lower[kept], m.col_upper[kept], m.row_lower, m.row_upper, self.start,
                self.index, m.value[self.entries])


class Structure:
    """The sparsity pattern of a layout's LP (cost and moves phases, or the elastic program): built once."""

    def __init__(self, layout: Layout, elastic: bool = False) -> None:
        self.layout, self.elastic = layout, elastic
        cells, slots, accounts = layout.n_cells, layout.n_move_slots, len(layout.accounts)
        limits, hedges = len(layout.limit_pair), layout.n_hedges
        hub_rows = layout.n_assets if layout.has_hub else 0
        collateral = cells + slots
        hedge = collateral + accounts
        shortfall = hedge + 2 * hedges
        excess = shortfall + (accounts if elastic else 0)
        columns = excess + (limits if elastic else 0)
        hub = cells
        collateral_rows = hub + hub_rows
        coverage = collateral_rows + accounts
        concentration = coverage + accounts
        hedge_limit = concentration + limits
        self.blocks = Blocks(holding=0, move=cells, collateral=collateral, hedge=hedge, shortfall=shortfall,
                             excess=excess, columns=columns, balance=0, hub=hub, collateral_rows=collateral_rows,
                             coverage=coverage, concentration=concentration, hedge_limit=hedge_limit,
                             rows=hedge_limit + hedges)
        b = self.blocks
        incidence = layout.incidence.tocoo()
        hub_balance = layout.hub_balance.tocoo() if layout.has_hub else sp.coo_matrix((0, 0))
        account_of_limit = layout.pair_account[layout.limit_pair]
        k, c, j = np.arange(accounts), np.arange(limits), np.arange(hedges)
        back_limit, back_column = hedge_limit_pairs(layout).T
        # entries by block, each (rows, columns, constant values: NaN where a number goes, assemble)
        parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
            "balance": (np.arange(cells), np.arange(cells), np.ones(cells)),  # x
            "balance_moves": (incidence.row, b.move + incidence.col, -incidence.data),  # -I g
            "hub": (b.hub + hub_balance.row, b.move + hub_balance.col, hub_balance.data),
            "collateral": (b.collateral_rows + k, b.collateral + k, np.ones(accounts)),  # c
            "weight": (b.collateral_rows + layout.pair_account, layout.pair_cell, _numbers(len(layout.pair_cell))),
            "margin": (b.collateral_rows + np.tile(layout.hedge_account, 2), b.hedge + np.arange(2 * hedges),
                       _numbers(2 * hedges)),  # (1 + b) rate h
            "coverage": (b.coverage + k, b.collateral + k, np.ones(accounts)),  # c
            "share": (b.concentration + c, layout.pair_cell[layout.limit_pair], _numbers(limits)),  # w_i x_i
            "limit": (b.concentration + c, b.collateral + account_of_limit, _numbers(limits)),  # -limit_i c_k
            "back": (b.concentration + back_limit, b.hedge + back_column, _numbers(len(back_limit))),  # -back h
            "hedge_limit": (np.tile(b.hedge_limit + j, 2), b.hedge + np.arange(2 * hedges), np.ones(2 * hedges)),
        }
        if elastic:
            parts["shortfall"] = (b.coverage + k, b.shortfall + k, np.ones(accounts))
            parts["excess"] = (b.concentration + c, b.excess + c, -np.ones(limits))
        rows = np.concatenate([p[0] for p in parts.values()]).astype(np.int64)
        cols = np.concatenate([p[1] for p in parts.values()]).astype(np.int64)
        constant = np.concatenate([p[2] for p in parts.values()])
        order = np.lexsort((rows, cols))  # column-wise, rows ascending within a column
        self.index = rows[order].astype(np.int32)
        self.start = np.searchsorted(cols[order], np.arange(columns + 1)).astype(np.int32)
        self._constant = constant[order]  # in HiGHS's order; assemble fills in the numbers where each block went
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        offsets = np.cumsum([0] + [len(p[0]) for p in parts.values()])
        self._at = {name: position[int(offsets[i]):int(offsets[i + 1])] for i, name in enumerate(parts)}

    @property
    def nnz(self) -> int:
        return len(self.index)

    def assemble(self, values: LinearValues) -> Matrices:
        """The LP of the cost phase (or the elastic program) with these numbers."""
        layout, b = self.layout, self.blocks
        entries = self._constant.copy()
        entries[self._at["weight"]] = -values.weight
        entries[self._at["share"]] = values.share_weight
        entries[self._at["limit"]] = -values.limit
        hedges = values.hedges
        if hedges is not None:
            entries[self._at["margin"]] = hedges.coverage
            entries[self._at["back"]] = -hedges.limit
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
            if hedges is not None:
                cost[b.column_slice("hedge")] = hedges.cost  # funding and fees (program/_hedges.py)
        row_lower = np.zeros(b.rows)
        row_upper = np.zeros(b.rows)
        row_lower[b.row_slice("balance")] = row_upper[b.row_slice("balance")] = values.holdings
        row_lower[b.row_slice("coverage")] = values.required
        row_upper[b.row_slice("coverage")] = INF
        row_lower[b.row_slice("concentration")] = -INF
        row_lower[b.row_slice("hedge_limit")] = -INF
        if hedges is not None:
            row_upper[b.row_slice("hedge_limit")] = hedges.size
        return Matrices(blocks=b, start=self.start, index=self.index, value=entries, cost=cost,
                        col_lower=col_lower, col_upper=col_upper, row_lower=row_lower, row_upper=row_upper)
