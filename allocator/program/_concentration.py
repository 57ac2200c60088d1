"""Concentration: one asset's haircut-adjusted value is at most a share of its account's collateral.

``(1 - h[a,k]) * value[a,k] <= c[a,k] * collateral[k]``; an ``excess`` variable relaxes it in the elastic program.
For an asset credited on a concave curve, ``1 - h`` is the curve's slope at zero, so its share is never
understated (the verification checks the exact share).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp

from allocator.program._coverage import select
from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._parameters import Parameters
from allocator.program._variables import Variables


def concentration_gap(layout: Layout, v: Variables, p: Parameters) -> cp.Expression:
    """(C,) share minus cap of every limit: non-positive when the limits hold."""
    pairs = layout.limit_pair
    # a curved pair's share at its slope at zero, an upper bound of its concave curve: never understated
    share = cp.multiply(p.share_weight, select(layout.pair_cell[pairs], layout.n_cells) @ v.holding)
    cap = cp.multiply(p.limit, select(layout.pair_account[pairs], len(layout.accounts)) @ v.collateral)
    if p.hedges is not None and len(p.hedges.limit_pairs):  # collateral is net of the hedges' margin: add it back
        assert v.hedge is not None
        limits, columns = p.hedges.limit_pairs.T
        back = cp.multiply(p.hedges.limit, select(columns, v.hedge.shape[0]) @ v.hedge)
        cap = cap + select(limits, len(pairs)).T @ back
    return share - cap


def concentration_labels(layout: Layout) -> tuple[str, ...]:
    return tuple(layout.limit_label(i) for i in range(len(layout.limit_pair)))


@dataclass(frozen=True)
class Concentration:
    excess: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        if len(layout.limit_pair) == 0:
            return []
        gap = concentration_gap(layout, v, p)
        bound = 0 if self.excess is None else self.excess
        return [Labelled("concentration", gap <= bound, concentration_labels(layout))]
