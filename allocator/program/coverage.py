"""Collateral value and coverage: each account's haircut-adjusted collateral covers its buffered requirement.

``collateral[k] = sum_a (1 - h[a,k]) * value[a,k]`` over eligible assets; ``collateral[k] >= R[k] * (1 + b[k])``.
Both rows, and the concentration rows, are divided by the account's own scale (scaling.py).
With ``elastic`` set, a non-negative shortfall variable may make up the difference (infeasibility diagnosis).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.layout import Layout
from allocator.program.labelled import Labelled
from allocator.program.parameters import Parameters
from allocator.program.variables import Variables


def select(rows: np.ndarray, n_columns: int) -> sp.csr_matrix:
    """A 0/1 matrix picking ``rows`` out of a vector of length ``n_columns``."""
    return sp.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=(len(rows), n_columns))


@dataclass(frozen=True)
class CollateralValue:
    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        labels = tuple(f"collateral[{k}]" for k in layout.accounts)
        if len(layout.pair_asset) == 0:
            return [Labelled("collateral", v.collateral == 0, labels)]
        posted = cp.multiply(p.weight, select(layout.pair_cell, layout.n_cells) @ v.holding)
        return [Labelled("collateral", v.collateral == layout.pair_sum @ posted, labels)]


@dataclass(frozen=True)
class Coverage:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        labels = tuple(f"coverage[{k}]" for k in layout.accounts)
        covered = v.collateral if self.shortfall is None else v.collateral + self.shortfall
        return [Labelled("coverage", covered >= p.required, labels)]
