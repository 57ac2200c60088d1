"""Correlation-aware limits of accounts with risk settings (see market.py and docs/risk.md).

* ``ParametricLimit``: the account's equity (collateral value plus positions) moves with returns; over the
  horizon its standard deviation is ``sigma_k = sqrt(tau/365) * || F' (v_k + e_k) ||`` (``v_k`` value posted, by
  market asset; ``e_k`` the positions' exposure; ``F = [B, diag(s)]``). Require
  ``collateral_k - z * sigma_k >= requirement_k``, written as
  ``|| [B' (v_k + e_k); s * (v_k + e_k)] || <= (collateral_k - requirement_k) / c_k`` with
  ``c_k = z sqrt(tau/365) / size_k``: the account's constants sit in the cone's head, so one parameter ``B'``
  serves every account, the posted values of all risk accounts form one (n, K_r) matrix and all cones form one
  ``SOC`` block (a per-account (n, n) parameter made the first compile 15 s at 100 assets x 10 accounts).
* ``StressLimit``: after each named scenario's returns ``r_s``, collateral revalued plus the positions' P&L
  still covers the requirement: ``sum_a (1 - h) (1 + r_sa) value_a + P&L_s >= requirement_k``; only the scenarios
  of each account's working set are rows (_scenarios.py).
* ``CvarLimit`` (Rockafellar-Uryasev, linear): with the loss of each Monte Carlo draw
  ``L_j = -(sum_a (1 - h) r_ja value_a + P&L_j)``, ``collateral_k - (t + sum_j max(0, L_j - t) / ((1 - a) N))
  >= requirement_k`` for some ``t``; at the optimum ``t`` is the VaR and the bracket the CVaR at level ``a``.

Rows are in the account's own scale, like coverage. The elastic program's shortfall relaxes them too. Hedges
(_hedges.py) add their notional to the exposure, their P&L to each stress row and CVaR draw, and their margin to the
requirement of every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.program._coverage import select
from allocator.program._hedge_parameters import at
from allocator.program._hedges import account_margin, margin, market_map, net
from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._parameters import Parameters
from allocator.program._variables import Variables


@dataclass(frozen=True)
class ParametricLimit:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        if not layout.has_cones or not len(layout.cone):
            return []
        cone, n = layout.cone, len(layout.market_assets)
        risky = layout.risk_accounts[cone]
        cells = np.concatenate([layout.market_cells(k) for k in risky])
        posted = select(cells, layout.n_cells) @ v.holding
        if p.hedges is not None:  # the hedges' notional in their underlying's row (_hedges.py)
            posted = posted + market_map(layout, risky) @ v.hedge_money
        posted = cp.reshape(posted, (n, len(risky)), order="F")  # (n, K_r)
        rows = p.risk_loadings @ posted + p.risk_offset[:, cone]
        if layout.has_specific:
            rows = cp.vstack([rows, cp.multiply(p.risk_specific[:, cone], posted) + p.risk_offset_specific[:, cone]])
        collateral = v.collateral[risky] if self.shortfall is None else v.collateral[risky] + self.shortfall[risky]
        heads = cp.multiply(p.risk_inverse[cone], collateral) - p.risk_head[cone]
        if p.hedges is not None:  # collateral is net of the hedges' margin (1 + b) m, the row asks for m: b m back
            heads = heads + margin(layout, v, p.hedges.cone, risky)
        return [Labelled("risk", cp.SOC(heads, rows, axis=0), tuple(f"risk[{layout.accounts[k]}]" for k in risky))]


@dataclass(frozen=True)
class StressLimit:
    """One row per slot of each risk account's working set of scenarios (_scenarios.py)."""

    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        out = []
        position = hedge_position = 0
        for j, k in enumerate(layout.risk_accounts[:len(p.stress_weight)]):
            mine = layout.pair_cell[layout.pair_account == k]
            value = p.stress_weight[j] @ (select(mine, layout.n_cells) @ v.holding) if len(mine) else \
                cp.Constant(np.zeros(p.slots))
            curved = layout.curve_rows(k)
            if len(curved):  # credit of curved pairs times min(1, 1 + r): f((1 + r) v) >= that for concave f
                value = value + p.stress_credit[position] @ v.credit[curved]
                position += 1
            if self.shortfall is not None:
                value = value + self.shortfall[k]
            hedged = at(layout, k)
            if p.hedges is not None and len(hedged):  # the hedges' P&L, and their margin in the requirement
                value = value + p.hedges.stress[hedge_position] @ net(v, hedged) \
                    - account_margin(v, p.hedges.risk, hedged)
                hedge_position += 1
            out.append(Labelled("stress", value >= p.stress_floor[j],
                                tuple(f"stress[{layout.accounts[k]},#{i}]" for i in range(p.slots))))
        return out


@dataclass(frozen=True)
class CvarLimit:
    shortfall: cp.Variable | None = None

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        out = []
        curved_position = hedge_position = 0
        for j, (k, draws) in enumerate(zip(layout.cvar_accounts, layout.cvar_draws, strict=True)):
            name = layout.accounts[k]
            threshold = cp.Variable(name=f"var_{name}")
            excess = cp.Variable(draws, name=f"cvar_excess_{name}", nonneg=True)
            mine = layout.pair_cell[layout.pair_account == k]
            loss = -(p.cvar_weight[j] @ (select(mine, layout.n_cells) @ v.holding)) - p.cvar_pnl[j]
            curved = layout.curve_rows(k)
            if len(curved):  # min(r, 0) times the credit: losses counted in full, gains of curved pairs ignored
                loss = loss - p.cvar_credit[curved_position] @ v.credit[curved]
                curved_position += 1
            hedged = at(layout, k)
            if p.hedges is not None and len(hedged):  # the hedges' P&L per draw, and their margin
                loss = loss - p.hedges.cvar[hedge_position] @ net(v, hedged)
                hedge_position += 1
            head = v.collateral[k] - threshold - p.cvar_tail[j] * cp.sum(excess)
            if p.hedges is not None and len(hedged):  # as the cone: b m back
                head = head + account_margin(v, p.hedges.buffer, hedged)
            if self.shortfall is not None:
                head = head + self.shortfall[k]
            out += [Labelled("cvar_excess", excess >= loss - threshold, tuple(f"cvar[{name}][{d}]" for d in
                                                                              range(draws))),
                    Labelled("cvar", head >= p.cvar_required[j], (f"cvar[{name}]",))]
        return out
