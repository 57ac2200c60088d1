"""Sensitivities of the cost optimum, read from the duals of the cost program, in currency.

* shadow price of each account's requirement: objective increase per currency of extra requirement,
  ``λ_k * r * (1 + b_k) / a_k`` from the coverage row's dual ``λ_k`` (r: the rate scale, a_k: the account scale);
* marginal value of one more unit of each asset at each location: objective decrease per unit,
  ``μ_c * r * p[a]`` from the balance row's dual ``μ_c`` (its right-hand side is ``p q0 / S``);
* binding constraints: coverage and concentration rows whose dual is positive, by label;
* ``lagrangian``: the Lagrangian at the current primal and dual values, for first-order estimates of any
  change of parameter values (``incremental_cost``).

All are local, first-order figures: exact while the optimal basis does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.layout import Layout
from allocator.numbers import Numbers
from allocator.program.model import Program
from allocator.result import Binding, MarginalValue
from allocator.scaling import Scale

#: Duals below this (program units, costs of order one) are read as zero.
DUAL_FLOOR = 1e-9


@dataclass(frozen=True)
class Sensitivity:
    shadow_price: np.ndarray  # (K,)
    marginal_value: np.ndarray  # (cells,) currency per unit
    binding: list[Binding]

    @classmethod
    def read(cls, program: Program, numbers: Numbers, scale: Scale) -> Sensitivity:
        layout = program.layout
        coverage = program.dual("coverage")
        balance = program.dual("balance")
        row_scale = {"coverage": scale.accounts,  # the rows are normalised by their account's scale
                     "concentration": scale.accounts[layout.pair_account[layout.limit_pair]]}
        binding = [Binding(label=label, shadow_price=float(dual * scale.rate / size))
                   for family in ("coverage", "concentration") if program.family(family) is not None
                   for label, dual, size in zip(program.family(family).labels,  # type: ignore[union-attr]
                                                program.dual(family), row_scale[family], strict=True)
                   if dual > DUAL_FLOOR]
        marginal = balance * scale.rate * numbers.cell_price(layout) if balance.size else np.zeros(layout.n_cells)
        return cls(shadow_price=coverage * scale.rate * (1.0 + numbers.buffer) / scale.accounts,
                   marginal_value=marginal, binding=binding)

    def marginal_rows(self, layout: Layout) -> list[MarginalValue]:
        return [MarginalValue(asset=layout.assets[c // layout.n_locations],
                              location=layout.locations[c % layout.n_locations], value=float(self.marginal_value[c]))
                for c in np.flatnonzero(np.abs(self.marginal_value) > 0)]


def lagrangian(program: Program) -> float:
    """Objective plus dual-weighted constraint residuals at the current variable, dual and parameter values
    (cvxpy's convention: each constraint's ``expr`` is ``<= 0`` or ``== 0``, its dual multiplies it)."""
    total = float(np.asarray(program.cost.value))
    for labelled in program.constraints:
        dual = labelled.constraint.dual_value
        if dual is not None:
            total += float(np.sum(np.asarray(dual) * np.asarray(labelled.constraint.expr.value)))
    return total
