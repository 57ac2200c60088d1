"""Collateral value and coverage: each account's haircut-adjusted collateral covers its buffered requirement.

``collateral[k] = sum_a (1 - h[a,k]) * value[a,k]`` over eligible assets; ``collateral[k] >= R[k] * (1 + b[k])``.
Both rows, and the concentration rows, are divided by the account's own scale (_scaling.py). A pair with a
concave collateral curve (_credit.py) is credited through its own ``credit`` variable, bounded by chords.
With ``elastic`` set, a non-negative shortfall variable may make up the difference (infeasibility diagnosis).
With hedges, ``collateral`` is net of their buffered margin (_hedges.py), so that the coverage row stays a single
variable against a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.program._hedges import margin
from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._parameters import Parameters
from allocator.program._variables import Variables


def select(rows: np.ndarray, n_columns: int) -> sp.csr_matrix:
    """A 0/1 matrix picking ``rows`` out of a vector of length ``n_columns``."""
    return sp.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=(len(rows), n_columns))


@dataclass(frozen=True)
class CollateralValue:
    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        labels = tuple(f"collateral[{k}]" for k in layout.accounts)
        value: cp.Expression | float = 0.0
        if len(layout.pair_asset):
            posted = cp.multiply(p.weight, select(layout.pair_cell, layout.n_cells) @ v.holding)
            value = layout.pair_sum @ posted
            if len(layout.curve_pairs):  # curved pairs: weight 0 above, their credit variable here
                value = value + layout.pair_sum[:, layout.curve_pairs] @ v.credit
        if p.hedges is not None:  # net of the hedges' buffered margin (_hedges.py)
            value = value - margin(layout, v, p.hedges.coverage)
        return [Labelled("collateral", v.collateral == value, labels)]


@dataclass(frozen=True)
class Chords:
    """``credit_p <= c_pj + s_pj * value_p`` for every chord ``j`` of a curved pair: never above its curve."""

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        if not len(layout.curve_pairs):
            return []
        n, lines = len(layout.curve_pairs), p.chord_slope.shape[1]
        value = select(layout.pair_cell[layout.curve_pairs], layout.n_cells) @ v.holding
        spread = np.ones((1, lines))
        bound = p.chord_intercept + cp.multiply(p.chord_slope, cp.reshape(value, (n, 1), order="F") @ spread)
        return [Labelled("chords", cp.reshape(v.credit, (n, 1), order="F") @ spread <= bound,
                         tuple(f"chords[{layout.accounts[layout.pair_account[q]]},{layout.assets[layout.pair_asset[q]]}]"
                               for q in layout.curve_pairs))]


@dataclass(frozen=True)
class Coverage:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        labels = tuple(f"coverage[{k}]" for k in layout.accounts)
        covered = v.collateral if self.shortfall is None else v.collateral + self.shortfall
        return [Labelled("coverage", covered >= p.required, labels)]
