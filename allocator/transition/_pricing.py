"""Solving the linear path's program on a subset of its move columns, and proving the answer optimal for all.

The move columns outside a guess (_coarse.py) are *closed*: upper bound zero, half of the program's columns at
100 x 10 x 48 (HiGHS's presolve drops them from the first solve). After a solve, every closed column is priced
against the duals: HiGHS's reduced cost ``d = c - A' y`` (the program's rows; tangent cuts never touch a move).
Columns with ``d < -PRICE`` could lower the cost: their bounds are restored (HiGHS keeps its basis) and the dual
simplex goes on; with bounded columns it stays dual feasible by putting them at their bounds, so an opening costs
a few thousand iterations at most, not a new solve. When no closed column prices negative, the restricted optimum
is optimal for the whole program. (Removing the closed columns from HiGHS's program and adding them back with
``addCols`` instead took more iterations in every later round: measured, rejected.)

The bound is certified whatever is left closed: for any duals ``y`` of the rows, the program's optimum is at least
the restricted optimum plus ``sum over closed columns of min(0, d) * upper`` (Lagrangian duality, the closed
columns relaxed to their bounds ``[0, upper]``), so ``correction`` is added to the lower bound; it is zero or tiny
(reduced costs within ``PRICE``) once pricing is done.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocator.solve._highs import HighsLP

#: A closed column is opened when its reduced cost is below minus this (scaled cost units): the HiGHS profile's own
#: dual feasibility tolerance, so that a closed column is priced out exactly as strictly as HiGHS prices an open one
#: (and the correction for what stays closed is at most this times its bounds).
PRICE = 1e-9


@dataclass(eq=False)
class Columns:
    """The program's columns as loaded into HiGHS (all of them, in the program's order) and which are closed."""

    matrix: sp.csc_matrix  # (rows, columns) the whole program's rows
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    closed: np.ndarray  # (closed,) indices of the closed columns
    transposed: sp.csr_matrix  # (closed, rows) their columns of the matrix, transposed
    opened: int = 0  # columns opened so far

    @classmethod
    def load(cls, lp: HighsLP, matrix: sp.csc_matrix, cost: np.ndarray, col_lower: np.ndarray,
             col_upper: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray,
             closed: np.ndarray | None = None) -> tuple[Columns, float]:
        """Load the program into ``lp`` with the ``closed`` columns' upper bounds at zero; the columns and the
        seconds taken."""
        closed = np.zeros(0, dtype=int) if closed is None else np.unique(closed)
        upper = col_upper.copy()
        upper[closed] = 0.0
        setup = lp.load_arrays(cost, col_lower, upper, row_lower, row_upper, matrix.indptr, matrix.indices,
                               matrix.data)
        return cls(matrix=matrix, cost=cost, col_lower=col_lower, col_upper=col_upper,
                   closed=closed, transposed=matrix[:, closed].T.tocsr()), setup

    def reduced(self, row_dual: np.ndarray) -> np.ndarray:
        """(closed,) reduced costs under the duals of the program's rows (cuts appended after them are ignored:
        they have no entry in a move column)."""
        return self.cost[self.closed] - self.transposed @ row_dual[:self.matrix.shape[0]]

    def correction(self, row_dual: np.ndarray) -> float:
        """What the closed columns could at most take off the restricted optimum (<= 0, scaled cost units)."""
        if not len(self.closed):
            return 0.0
        return float(np.minimum(self.reduced(row_dual), 0.0) @ self.col_upper[self.closed])

    def open(self, lp: HighsLP, row_dual: np.ndarray | None = None, price: float = PRICE) -> int:
        """Open the closed columns that price below ``-price`` under ``row_dual`` (all of them when None), those
        with room above zero; the number opened."""
        if not len(self.closed):
            return 0
        which = np.ones(len(self.closed), dtype=bool) if row_dual is None else self.reduced(row_dual) < -price
        which &= self.col_upper[self.closed] > 0
        count = int(which.sum())
        if count:
            new = np.asarray(self.closed[which], dtype=np.int32)
            lp.highs.changeColsBounds(count, new, self.col_lower[new], self.col_upper[new])
            self.closed, self.transposed = self.closed[~which], self.transposed[~which]
            self.opened += count
        return count

    def rebound(self, lp: HighsLP, col_lower: np.ndarray, col_upper: np.ndarray) -> None:
        """New column bounds for the whole program (the open columns' changed in HiGHS, the closed ones kept)."""
        shut = np.zeros(len(col_lower), dtype=bool)
        shut[self.closed] = True
        changed = np.flatnonzero(((col_lower != self.col_lower) | (col_upper != self.col_upper)) & ~shut)
        self.col_lower, self.col_upper = col_lower, col_upper
        if len(changed):
            index = np.asarray(changed, dtype=np.int32)
            lp.highs.changeColsBounds(len(index), index, col_lower[changed], col_upper[changed])
