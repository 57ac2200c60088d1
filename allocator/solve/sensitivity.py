"""Sensitivities of the cost optimum, read from the duals of the cost program, in currency.

* shadow price of each account's requirement: objective increase per currency of extra requirement,
  ``λ_k * r * (1 + b_k) / a_k`` from the coverage row's dual ``λ_k`` (r: the rate scale, a_k: the account scale);
* marginal value of one more unit of each asset at each location: objective decrease per unit,
  ``μ_c * r * p[a]`` from the balance row's dual ``μ_c`` (its right-hand side is ``p q0 / S``);
* binding constraints: coverage and concentration rows whose dual is positive, by label;
* ``lagrangian``: the Lagrangian at the current primal and dual values, for first-order estimates of any
  change of parameter values (``incremental_cost``); the parametric risk cones are left out of it (their
  first-order change is not counted: the exact re-solve is).

All are local, first-order figures: exact while the optimal basis does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.arrays import Numbers
from allocator.layout import Layout
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
        coverage = program.dual("coverage") * (1.0 + numbers.buffer)
        risky = layout.risk_accounts  # the risk rows ask for the requirement without the buffer
        if program.family("risk") is not None:
            coverage[risky] += program.dual("risk")
        for labelled in (c for c in program.constraints if c.family == "stress"):
            coverage[risky] += labelled.dual()
        for j, labelled in enumerate(c for c in program.constraints if c.family == "cvar"):
            coverage[layout.cvar_accounts[j]] += labelled.dual()[0]
        balance = program.dual("balance")
        risk_scale = scale.accounts[layout.risk_accounts]
        row_scale = {"coverage": scale.accounts, "risk": risk_scale, "stress": risk_scale,  # rows in account units
                     "concentration": scale.accounts[layout.pair_account[layout.limit_pair]]}
        binding = [Binding(label=label, shadow_price=float(dual * scale.rate / size))
                   for labelled in program.constraints if labelled.family in row_scale
                   for label, dual, size in zip(labelled.labels, labelled.dual(), row_scale[labelled.family],
                                                strict=True)
                   if dual > DUAL_FLOOR]
        binding += [Binding(label=labelled.labels[0], shadow_price=float(labelled.dual()[0] * scale.rate
                                                                         / scale.accounts[layout.cvar_accounts[j]]))
                    for j, labelled in enumerate(c for c in program.constraints if c.family == "cvar")
                    if labelled.dual()[0] > DUAL_FLOOR]
        marginal = balance * scale.rate * numbers.cell_price(layout) if balance.size else np.zeros(layout.n_cells)
        return cls(shadow_price=coverage * scale.rate / scale.accounts,
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
        if dual is not None and not isinstance(labelled.constraint, cp.constraints.SOC):
            total += float(np.sum(np.asarray(dual) * np.asarray(labelled.constraint.expr.value)))
    return total
