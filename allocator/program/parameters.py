"""Every number a what-if may change, as cvxpy Parameters in scaled units (compile once, re-solve often).

Products of two data items (``requirement * (1 + buffer)``, ``1 - haircut``, ``price * quantity``) are formed
here in numpy before they become parameter values, so the program stays DPP.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.arrays import Numbers
from allocator.layout import Layout
from allocator.scaling import Scale


@dataclass(frozen=True, eq=False)
class Parameters:
    holdings: cp.Parameter  # (cells,) value held today
    weight: cp.Parameter  # (P,) (1 - haircut) / account scale
    required: cp.Parameter  # (K,) requirement * (1 + buffer) / account scale, plus the coverage margin
    limit: cp.Parameter  # (C,) concentration share, less the limit margin
    carry: cp.Parameter  # (A*K,) carry cost rate of value at each account
    move: cp.Parameter  # (M,) cost rate of value moved
    account_scale: cp.Parameter  # (K,) weights of the elastic program's shortfalls (in money-scale units)
    limit_scale: cp.Parameter  # (C,) the same for concentration excesses
    risk_factor: list[cp.Parameter]  # per risk account: z * sqrt(tau / 365) * F' / account scale, (n, n)
    exposure: list[cp.Parameter]  # per risk account: risk_factor @ (positions' exposure / S), (n,): DPP needs it
                                  # pre-multiplied, a parameter times a parameter is not allowed
    risk_required: cp.Parameter  # (K_r,) requirement (no buffer) / account scale, plus the coverage margin
    stress_weight: list[cp.Parameter]  # per stress scenario: (1 - h) (1 + r) / account scale per pair, (P,)
    stress_pnl: list[cp.Parameter]  # per stress scenario: positions' P&L / account scale per risk account, (K_r,)
    cvar_weight: list[cp.Parameter]  # per CVaR account: (N, P_k) (1 - h) * return per draw and eligible pair
    cvar_pnl: list[cp.Parameter]  # per CVaR account: (N,) positions' P&L per draw / account scale
    cvar_tail: cp.Parameter  # (K_c,) 1 / ((1 - confidence) N)
    cvar_required: cp.Parameter  # (K_c,) requirement / account scale, plus the coverage margin

    @classmethod
    def create(cls, layout: Layout) -> Parameters:
        def vector(size: int, name: str, **kind: bool) -> cp.Parameter:
            return cp.Parameter(max(size, 1), name=name, **kind)

        n, risky = len(layout.market_assets), len(layout.risk_accounts)

        return cls(
            holdings=vector(layout.n_cells, "holdings", nonneg=True),
            weight=vector(len(layout.pair_asset), "weight", nonneg=True),
            required=vector(len(layout.accounts), "required", nonneg=True),
            limit=vector(len(layout.limit_pair), "limit", nonneg=True),
            carry=vector(layout.n_assets * len(layout.accounts), "carry"),
            move=vector(layout.n_moves, "move", nonneg=True),
            account_scale=vector(len(layout.accounts), "account_scale", nonneg=True),
            limit_scale=vector(len(layout.limit_pair), "limit_scale", nonneg=True),
            risk_factor=[cp.Parameter((n, n), name=f"risk_factor_{j}") for j in range(risky)] if n else [],
            exposure=[cp.Parameter(n, name=f"exposure_{j}") for j in range(risky)] if n else [],
            risk_required=vector(risky, "risk_required", nonneg=True),
            stress_weight=[vector(len(layout.pair_asset), f"stress_weight_{s}") for s in range(len(layout.stress))],
            stress_pnl=[vector(risky, f"stress_pnl_{s}") for s in range(len(layout.stress))],
            cvar_weight=[cp.Parameter((draws, int(np.sum(layout.pair_account == k))), name=f"cvar_weight_{j}")
                         for j, (k, draws) in enumerate(zip(layout.cvar_accounts, layout.cvar_draws, strict=True))],
            cvar_pnl=[cp.Parameter(draws, name=f"cvar_pnl_{j}") for j, draws in enumerate(layout.cvar_draws)],
            cvar_tail=vector(len(layout.cvar_accounts), "cvar_tail", nonneg=True),
            cvar_required=vector(len(layout.cvar_accounts), "cvar_required", nonneg=True),
        )

    def assign(self, layout: Layout, numbers: Numbers, scale: Scale, coverage_margin: float,
               limit_margin: float) -> None:
        """Set every value. ``coverage_margin`` (scaled) is added to each positive requirement and
        ``limit_margin`` (relative) taken off each concentration share (see solve/solvers.SolverProfile)."""
        def put(parameter: cp.Parameter, values: np.ndarray) -> None:
            parameter.value = values if values.size else np.zeros(parameter.shape)

        account = scale.accounts  # each account's rows are normalised by its own scale (see scaling.py)
        put(self.holdings, numbers.value(layout) / scale.money)
        put(self.weight, (1.0 - numbers.haircut) / account[layout.pair_account])
        put(self.required, numbers.required / (scale.money * account) + coverage_margin * (numbers.required > 0))
        put(self.account_scale, account)
        put(self.limit_scale, account[layout.pair_account[layout.limit_pair]])
        put(self.limit, numbers.limit * (1.0 - limit_margin))
        put(self.carry, numbers.carry_rate / scale.rate)
        put(self.move, numbers.move_rate / scale.rate)
        self._assign_risk(layout, numbers, scale, coverage_margin)
        self._assign_cvar(layout, numbers, scale, coverage_margin)

    @staticmethod
    def _requirement(numbers: Numbers, scale: Scale, accounts: np.ndarray, margin: float) -> np.ndarray:
        """The requirement (no buffer) of these accounts in their own scale, plus the margin: the right-hand side
        of every risk row."""
        return numbers.requirement[accounts] / (scale.money * scale.accounts[accounts]) + margin

    def _assign_cvar(self, layout: Layout, numbers: Numbers, scale: Scale, margin: float) -> None:
        accounts = layout.cvar_accounts
        if not len(accounts):
            return
        size = scale.accounts[accounts]
        self.cvar_required.value = self._requirement(numbers, scale, accounts, margin)
        self.cvar_tail.value = 1.0 / ((1.0 - numbers.cvar_level) * np.array(layout.cvar_draws))
        for j, k in enumerate(accounts):
            mine = layout.pair_account == k
            weight = (1.0 - numbers.haircut[mine]) / size[j]
            self.cvar_weight[j].value = numbers.cvar_returns[j][:, layout.pair_asset[mine]] * weight
            self.cvar_pnl[j].value = numbers.cvar_pnl[j] / (scale.money * size[j])

    def _assign_risk(self, layout: Layout, numbers: Numbers, scale: Scale, margin: float) -> None:
        risky = layout.risk_accounts
        if not len(risky):
            return
        size = scale.accounts[risky]
        self.risk_required.value = self._requirement(numbers, scale, risky, margin)
        market = layout.market_assets
        for j, k in enumerate(risky):
            if self.risk_factor:
                factor = numbers.risk_scale[k] * numbers.factor.T / size[j]
                self.risk_factor[j].value = factor
                self.exposure[j].value = factor @ (numbers.exposure[k, market] / scale.money)
        weight = (1.0 - numbers.haircut) / scale.accounts[layout.pair_account]
        for s in range(len(layout.stress)):
            returns = numbers.stress_returns[s]
            self.stress_weight[s].value = weight * (1.0 + returns[layout.pair_asset])
            self.stress_pnl[s].value = numbers.stress_pnl[s, risky] / (scale.money * size)
