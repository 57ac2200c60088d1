"""The linear path's holdings as HiGHS sees them: what is left of each cell after a period's departures and sales.

The program (_families.py) has, for every live cell and period ``t``, the holding ``x_t`` at the end of the period,
a ``balance`` row (``x_t = x_{t-1} - out_t - sold_t + bought_t + arrived_t``) and an ``available`` row
(``x_{t-1} - out_t - sold_t >= 0``). HiGHS gets the same program with the column of ``x_{t-1}`` (``t >= 2``)
standing for ``w_t = x_{t-1} - out_t - sold_t``, what is left of the cell once period ``t``'s departures and sales
have gone: ``x_{t-1} = w_t + out_t + sold_t`` is substituted into every row and into the cost. The ``available``
row of period ``t`` becomes ``w_t >= 0``, a column bound (_pwl._singletons), and the balance rows keep their
count and about their density: 59,002 rows to 39,591 at 100 x 10 x 48 (a floor row of a single holding, a column
bound before, now has that holding's departures and sales too), an equivalent program. The last period's
holdings (read by the end rows) and period 1's ``available`` rows (today's holdings are data) stay as they are.

HiGHS's dual simplex ran about a fifth faster on the smaller basis, the first solve after presolve as well as
every re-solve after cuts and openings, which run without presolve (docs/performance.md). The implied column
bounds (_bounds.py) stay valid for the new columns: ``0 <= w_t <= x_{t-1}``. Nothing else changes meaning: the
cost of a column is unchanged in value (``c' x = c' P z`` for ``x = P z``), the duals are those of an equivalent
program, so pricing closed moves (_pricing.py) and the bound's Lagrangian correction stay exact, and the solution
is mapped back (``Leftover.holdings``) before the program's variables receive it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.transition._program import TransitionProgram


@dataclass(frozen=True)
class Leftover:
    """``x = z + lift @ z``: the program's columns ``x`` from HiGHS's ``z`` (only the substituted holdings
    differ)."""

    lift: sp.csr_matrix  # (columns, columns): row of x_{t-1} has the entries of out_t and sold_t

    def holdings(self, z: np.ndarray) -> np.ndarray:
        """The program's column values from HiGHS's."""
        return z + self.lift @ z


def leftover(program: TransitionProgram, data: dict[str, Any], offsets: dict[int, int], lower: np.ndarray
             ) -> tuple[dict[str, Any], Leftover | None]:
    """``data`` (a compiled ``pwl`` program: ``A``, ``b``, ``c``, ``lower`` its rows' lower bounds) with the
    holdings substituted as the module says, and the map back; ``data`` itself and None when its ``available``
    rows are not where and what the program writes (every equality row first, then the ``available`` rows, live
    cell fastest, each ``-x_{t-1} + out_t + sold_t <= 0`` with ``x_{t-1}`` a free column of its own)."""
    periods, hold = program.periods, program.variables.hold
    L, T = len(periods.live_cells), periods.periods
    if L == 0 or T < 2 or hold.shape != (L, T):
        return data, None
    matrix = data["A"].tocsr()
    equalities = int(np.isfinite(lower).sum())
    if not np.isfinite(lower[:equalities]).all() or matrix.shape[0] < equalities + L * T:
        return data, None
    rows = equalities + L + np.arange(L * (T - 1))  # available rows of periods 2..T, live cell fastest
    target = offsets[hold.id] + np.arange(L * (T - 1))  # the column of x_{t-1} in each
    available = matrix[rows].tocoo()
    own = available.col == target[available.row]
    upper = np.asarray(data["b"], dtype=float)[rows]
    if (np.bincount(available.row[own], minlength=len(rows)) != 1).any() or (available.data[own] != -1.0).any() \
            or (upper != 0.0).any() or np.isfinite(lower[rows]).any():
        return data, None
    others = ~own
    n = matrix.shape[1]
    # the change of variables is exact only if no substituted column is in another's definition (then its inverse is
    # ``z = x - lift @ x``) and the compiled program leaves those columns free (only _bounds.py bounds them, by
    # bounds every ``w_t`` meets as well)
    bounded = [np.asarray(data[name], dtype=float)[target] for name in ("lower_bounds", "upper_bounds")
               if data.get(name) is not None]
    if np.isin(available.col[others], target).any() or any(np.isfinite(b).any() for b in bounded):
        return data, None
    lift = sp.csr_matrix((available.data[others], (target[available.row[others]], available.col[others])),
                         shape=(n, n))
    substituted = (matrix + matrix @ lift).tocsr()
    substituted.eliminate_zeros()  # out_t and sold_t cancel exactly in the balance and floor rows
    cost = np.asarray(data["c"], dtype=float)
    return {**data, "A": substituted, "c": cost + lift.T @ cost}, Leftover(lift)
