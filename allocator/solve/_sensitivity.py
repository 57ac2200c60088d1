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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale
from allocator.results.marginal import MarginalValues
from allocator.results.result import Binding

if TYPE_CHECKING:  # the cvxpy program: the linear path reads its duals without it (and without cvxpy)
    from allocator.program._model import Program

#: Duals below this (program units, costs of order one) are read as zero.
DUAL_FLOOR = 1e-9


@dataclass(frozen=True)
class Units:
    """Currency per program unit of the rows' duals, the one place both solve paths undo the scaling (scaling.py):
    rows in an account's units (``a_k S``) are worth ``r / a_k`` per unit, rows in money-scale units ``r``."""

    account: np.ndarray  # (K,) rows in an account's units, per currency of their right-hand side
    coverage: np.ndarray  # (K,) coverage rows, per currency of requirement: ``1 + b_k`` each, net of P&L
    risk: np.ndarray  # (K,) rows asking for the requirement net of P&L (risk, stress, CVaR), per currency of it
    concentration: np.ndarray  # (limits,) per currency of tightening the limit, in its account's units
    hedge: np.ndarray  # (H,) hedge-size rows, in their account's units: per currency of max_notional
    money: float  # rows in money-scale units (portfolio, delta bands)

    @classmethod
    def of(cls, layout: Layout, numbers: Numbers, scale: Scale) -> Units:
        account = scale.rate / scale.accounts
        coverage, risk = numbers.requirement_slope  # 0 where the P&L covers more than the requirement
        return cls(account=account, coverage=account * coverage, risk=account * risk,
                   concentration=account[layout.pair_account[layout.limit_pair]],
                   hedge=account[layout.hedge_account], money=float(scale.rate))


def priced(duals: np.ndarray, unit: np.ndarray | float, label: Callable[[int], str]) -> list[Binding]:
    """The binding rows of one family: every row ``i`` whose dual (program units) is above DUAL_FLOOR and whose
    right-hand side moves with what it is priced per (``unit`` above 0: not a requirement the P&L covers), named
    ``label(i)`` (asked only for those), with its shadow price in currency, ``dual * unit`` (per row, or one)."""
    units = np.broadcast_to(np.asarray(unit, dtype=float), np.shape(duals))
    return [Binding(label=label(int(i)), shadow_price=float(duals[i] * units[i]))
            for i in np.flatnonzero((np.asarray(duals) > DUAL_FLOOR) & (units > 0))]


@dataclass(frozen=True)
class Sensitivity:
    shadow_price: np.ndarray  # (K,)
    marginal_value: np.ndarray  # (cells,) currency per unit
    binding: list[Binding]

    @classmethod
    def of(cls, layout: Layout, numbers: Numbers, scale: Scale, requirement: np.ndarray, balance: np.ndarray,
           binding: list[Binding]) -> Sensitivity:
        """From each account's duals per currency of requirement in program units (its coverage dual times its
        ``Units.coverage`` slope plus its risk rows' times theirs), the balance rows' duals (program units) and
        the binding rows already priced."""
        marginal = balance * scale.rate * numbers.cell_price(layout) if balance.size else np.zeros(layout.n_cells)
        return cls(shadow_price=requirement * Units.of(layout, numbers, scale).account, marginal_value=marginal,
                   binding=binding)

    @classmethod
    def read(cls, program: Program, numbers: Numbers, scale: Scale) -> Sensitivity:
        layout = program.layout
        units = Units.of(layout, numbers, scale)
        slope, net = numbers.requirement_slope  # per currency of requirement, not of required
        coverage = program.dual("coverage") * slope
        risky = layout.risk_accounts  # the risk rows ask for the requirement without the buffer
        cone = risky[layout.cone]
        risk = program.dual("risk") * np.asarray(program.parameters.risk_inverse.value)[layout.cone] \
            if program.family("risk") is not None else np.zeros(0)  # the cone's head is scaled by risk_inverse
        coverage[cone[:len(risk)]] += risk * net[cone[:len(risk)]]
        stress = [c.dual() for c in program.constraints if c.family == "stress"]  # one per risk account
        for j, dual in enumerate(stress):
            coverage[risky[j]] += dual.sum() * net[risky[j]]
        for j, labelled in enumerate(c for c in program.constraints if c.family == "cvar"):
            coverage[layout.cvar_accounts[j]] += labelled.dual()[0] * net[layout.cvar_accounts[j]]
        binding = priced(program.dual("coverage"), units.coverage, program.labels("coverage").__getitem__)
        binding += priced(program.dual("concentration"), units.concentration,
                          program.labels("concentration").__getitem__)
        binding += priced(risk, units.risk[cone[:len(risk)]], program.labels("risk").__getitem__)
        binding += [Binding(label=f"stress[{layout.accounts[risky[j]]},{layout.stress[s]}]",
                            shadow_price=float(dual[slot] * units.risk[risky[j]]))
                    for j, dual in enumerate(stress) for slot, s in enumerate(program.working[j])
                    if dual[slot] > DUAL_FLOOR and units.risk[risky[j]] > 0]  # as ``priced`` keeps rows
        portfolio = program.dual("portfolio") * float(program.parameters.portfolio_inverse.value or 0.0)
        binding += priced(np.concatenate([portfolio, program.dual("portfolio_stress")]), units.money,
                          (program.labels("portfolio") + program.labels("portfolio_stress")).__getitem__)
        binding += [Binding(label=labelled.labels[0],
                            shadow_price=float(labelled.dual()[0] * units.risk[layout.cvar_accounts[j]]))
                    for j, labelled in enumerate(c for c in program.constraints if c.family == "cvar")
                    if labelled.dual()[0] > DUAL_FLOOR and units.risk[layout.cvar_accounts[j]] > 0]
        binding += priced(program.dual("hedge"), units.hedge, program.labels("hedge").__getitem__)
        binding += priced(program.dual("delta"), units.money, program.labels("delta").__getitem__)
        return cls.of(layout, numbers, scale, coverage, program.dual("balance"), binding)

    def marginal_rows(self, layout: Layout) -> MarginalValues:
        """The non-zero marginal values, one row per cell, as columns (rows are made only when read)."""
        cells = np.flatnonzero(np.abs(self.marginal_value) > 0)
        return MarginalValues.of_cells(layout.assets, layout.locations, cells, self.marginal_value[cells])


def lagrangian(program: Program) -> float:
    """Objective plus dual-weighted constraint residuals at the current variable, dual and parameter values
    (cvxpy's convention: each constraint's ``expr`` is ``<= 0`` or ``== 0``, its dual multiplies it)."""
    import cvxpy as cp

    total = float(np.asarray(program.cost.value))
    for labelled in program.constraints:
        dual = labelled.constraint.dual_value
        if dual is not None and not isinstance(labelled.constraint, cp.constraints.SOC):
            total += float(np.sum(np.asarray(dual) * np.asarray(labelled.constraint.expr.value)))
    return total
