"""Correlation-aware limits of accounts with risk settings (see market.py and docs/risk.md).

* ``ParametricLimit``: the account's equity (collateral value plus positions) moves with returns; over the
  horizon its standard deviation is ``sigma_k = sqrt(tau/365) * || F' (v_k + e_k) ||`` (``v_k`` value posted, by
  market asset; ``e_k`` the positions' exposure). Require ``collateral_k - z * sigma_k >= requirement_k``: one
  second-order cone per account, all merged into one ``SOC`` (one cone block compiles far faster than many).
* ``StressLimit``: after each named scenario's returns ``r_s``, collateral revalued plus the positions' P&L
  still covers the requirement: ``sum_a (1 - h) (1 + r_sa) value_a + e_k . r_s >= requirement_k``.
* ``CvarLimit`` (Rockafellar-Uryasev, linear): with the loss of each Monte Carlo draw
  ``L_j = -(sum_a (1 - h) r_ja value_a + P&L_j)``, ``collateral_k - (t + sum_j max(0, L_j - t) / ((1 - a) N))
  >= requirement_k`` for some ``t``; at the optimum ``t`` is the VaR and the bracket the CVaR at level ``a``.

Rows are in the account's own scale, like coverage. The elastic program's shortfall relaxes them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp

from allocator.layout import Layout
from allocator.program.coverage import select
from allocator.program.labelled import Labelled
from allocator.program.parameters import Parameters
from allocator.program.variables import Variables


@dataclass(frozen=True)
class ParametricLimit:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        if not layout.has_cones:
            return []
        rows, heads = [], []
        for j, k in enumerate(layout.risk_accounts):
            posted = select(layout.market_cells(k), layout.n_cells) @ v.holding
            rows.append(p.risk_factor[j] @ posted + p.exposure[j])  # exposure: factor times exposure, pre-multiplied
            head = v.collateral[k] - p.risk_required[j]
            heads.append(head if self.shortfall is None else head + self.shortfall[k])
        cone = cp.SOC(cp.hstack(heads), cp.vstack(rows), axis=1)
        return [Labelled("risk", cone, tuple(f"risk[{layout.accounts[k]}]" for k in layout.risk_accounts))]


@dataclass(frozen=True)
class StressLimit:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        if not len(layout.stress) or not len(layout.risk_accounts) or not len(layout.pair_asset):
            return []
        accounts = layout.risk_accounts
        pick = select(accounts, len(layout.accounts))
        out = []
        for s, name in enumerate(layout.stress):
            value = pick @ (layout.pair_sum @ cp.multiply(p.stress_weight[s], select(layout.pair_cell, layout.n_cells)
                                                          @ v.holding)) + p.stress_pnl[s]
            if self.shortfall is not None:
                value = value + pick @ self.shortfall
            out.append(Labelled("stress", value >= p.risk_required,
                                tuple(f"stress[{layout.accounts[k]},{name}]" for k in accounts)))
        return out


@dataclass(frozen=True)
class CvarLimit:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        out = []
        for j, (k, draws) in enumerate(zip(layout.cvar_accounts, layout.cvar_draws, strict=True)):
            name = layout.accounts[k]
            threshold = cp.Variable(name=f"var_{name}")
            excess = cp.Variable(draws, name=f"cvar_excess_{name}", nonneg=True)
            mine = layout.pair_cell[layout.pair_account == k]
            loss = -(p.cvar_weight[j] @ (select(mine, layout.n_cells) @ v.holding)) - p.cvar_pnl[j]
            head = v.collateral[k] - threshold - p.cvar_tail[j] * cp.sum(excess)
            if self.shortfall is not None:
                head = head + self.shortfall[k]
            out += [Labelled("cvar_excess", excess >= loss - threshold, tuple(f"cvar[{name}][{d}]" for d in
                                                                              range(draws))),
                    Labelled("cvar", head >= p.cvar_required[j], (f"cvar[{name}]",))]
        return out
