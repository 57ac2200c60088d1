"""Sensitivities of the cost optimum, read from the duals of the cost program, in currency.

* shadow price of each account's requirement: objective increase per currency of extra requirement,
  ``λ_k * r * (1 + b_k) / a_k`` from the coverage row's dual ``λ_k`` (r: the rate scale, a_k: the account scale);
* marginal value of one more unit of each asset at each location: objective decrease per unit,
  ``μ_c * r * p[a]`` from the balance row's dual ``μ_c`` (its right-hand side is ``p q0 / S``);
* binding constraints: coverage, concentration, risk, stress, CVaR and portfolio rows whose dual is positive, by
  label (a stress row by the scenario in its slot), each with its shadow price in the same convention as the
  accounts': objective increase per currency of extra requirement of the row's account (a coverage row asks for
  ``requirement * (1 + b_k)``, so its price carries the ``1 + b_k``; risk, stress and CVaR rows ask for the
  requirement itself), so that an account's rows add up to its shadow price; a concentration row per currency of
  tightening its limit, a portfolio row per currency of the treasury-wide requirement; hedges at their size or
  delta bands at their bound (``hedge[acct,instrument]``, ``delta[acct,BTC]:long``; per currency of notional or
  delta). Positive: more costs more; one convention everywhere (docs/cli.md, "Shadow prices");
* ``lagrangian``: the Lagrangian at the current primal and dual values, for first-order estimates of any
  change of parameter values (``incremental_cost``); the parametric risk cones are left out of it (their
  first-order change is not counted: the exact re-solve is).

All are local, first-order figures: exact while the optimal basis does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.program._layout import Layout
from allocator.program._model import Program
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale
from allocator.results.result import Binding, MarginalValue

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
        coverage = program.dual("coverage") * (1.0 + numbers.buffer)  # per currency of requirement, not of required
        risky = layout.risk_accounts  # the risk rows ask for the requirement without the buffer
        cone = risky[layout.cone]
        risk = program.dual("risk") * np.asarray(program.parameters.risk_inverse.value)[layout.cone] \
            if program.family("risk") is not None else np.zeros(0)  # the cone's head is scaled by risk_inverse
        coverage[cone[:len(risk)]] += risk
        stress = [c.dual() for c in program.constraints if c.family == "stress"]  # one per risk account
        for j, dual in enumerate(stress):
            coverage[risky[j]] += dual.sum()
        for j, labelled in enumerate(c for c in program.constraints if c.family == "cvar"):
            coverage[layout.cvar_accounts[j]] += labelled.dual()[0]
        balance = program.dual("balance")
        binding = [Binding(label=label, shadow_price=float(dual * scale.rate / size))
                   for family, duals, sizes in (
                       ("coverage", program.dual("coverage"), scale.accounts / (1.0 + numbers.buffer)),
                       ("concentration", program.dual("concentration"),
                        scale.accounts[layout.pair_account[layout.limit_pair]]),
                       ("risk", risk, scale.accounts[cone]))
                   if program.family(family) is not None
                   for label, dual, size in zip(program.labels(family), duals, sizes, strict=True)
                   if dual > DUAL_FLOOR]
        binding += [Binding(label=f"stress[{layout.accounts[risky[j]]},{layout.stress[s]}]",
                            shadow_price=float(dual[slot] * scale.rate / scale.accounts[risky[j]]))
                    for j, dual in enumerate(stress) for slot, s in enumerate(program.working[j])
                    if dual[slot] > DUAL_FLOOR]
        portfolio = program.dual("portfolio") * float(program.parameters.portfolio_inverse.value or 0.0)
        binding += [Binding(label=label, shadow_price=float(dual * scale.rate))
                    for label, dual in zip(program.labels("portfolio") + program.labels("portfolio_stress"),
                                           np.concatenate([portfolio, program.dual("portfolio_stress")]),
                                           strict=True) if dual > DUAL_FLOOR]
        binding += [Binding(label=labelled.labels[0], shadow_price=float(labelled.dual()[0] * scale.rate
                                                                         / scale.accounts[layout.cvar_accounts[j]]))
                    for j, labelled in enumerate(c for c in program.constraints if c.family == "cvar")
                    if labelled.dual()[0] > DUAL_FLOOR]
        # a hedge's size row is in its account's units (program/_hedges.py: per currency of max_notional, divide by
        # the account's scale, as coverage does); the delta rows are in money-scale units
        binding += [Binding(label=label, shadow_price=float(dual * scale.rate / scale.accounts[account]))
                    for label, dual, account in zip(program.labels("hedge"), program.dual("hedge"),
                                                    layout.hedge_account, strict=True) if dual > DUAL_FLOOR]
        binding += [Binding(label=label, shadow_price=float(dual * scale.rate))
                    for label, dual in zip(program.labels("delta"), program.dual("delta"), strict=True)
                    if dual > DUAL_FLOOR]
        marginal = balance * scale.rate * numbers.cell_price(layout) if balance.size else np.zeros(layout.n_cells)
        return cls(shadow_price=coverage * scale.rate / scale.accounts,
                   marginal_value=marginal, binding=binding)

    def marginal_rows(self, layout: Layout) -> list[MarginalValue]:
        locations, assets, values = layout.n_locations, layout.assets, self.marginal_value.tolist()
        return [MarginalValue(asset=assets[c // locations], location=layout.locations[c % locations], value=values[c])
                for c in np.flatnonzero(np.abs(self.marginal_value) > 0).tolist()]


def lagrangian(program: Program) -> float:
    """Objective plus dual-weighted constraint residuals at the current variable, dual and parameter values
    (cvxpy's convention: each constraint's ``expr`` is ``<= 0`` or ``== 0``, its dual multiplies it)."""
    total = float(np.asarray(program.cost.value))
    for labelled in program.constraints:
        dual = labelled.constraint.dual_value
        if dual is not None and not isinstance(labelled.constraint, cp.constraints.SOC):
            total += float(np.sum(np.asarray(dual) * np.asarray(labelled.constraint.expr.value)))
    return total
