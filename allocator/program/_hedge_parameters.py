"""The hedges' numbers as cvxpy Parameters, scaled like the rest of the program (docs/hedging.md).

The variable is ``x = [l; s]``, the long and short parts ``l, s >= 0`` of each hedge's notional, stacked, in units
of its account's scale (``n = (l - s) a S``, _hedges.py); one variable and one parameter per use for both parts keep
cvxpy's compile short. Every coefficient that multiplies it is formed here in numpy (a rate times an account's buffer
and scale, a cone's constant times a rate), so the program stays DPP: parameters times variables only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.program._layout import Layout
from allocator.program._lp.values import HedgeValues, hedge_limit_pairs
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale

#: z * sqrt(tau / 365) below this counts as this (as parameters.MIN_RISK_SCALE).
MIN_RISK_SCALE = 1e-6


def at(layout: Layout, account: int) -> np.ndarray:
    """Positions in the hedge list of the hedges at ``account``."""
    return np.flatnonzero(layout.hedge_account == account)


@dataclass(frozen=True, eq=False)
class HedgeParameters:
    """Coefficients of the stacked variable ``x = [l; s]`` (2H) are stacked the same way: ``[long; short]``."""

    scale: cp.Parameter  # (H,) the account scale a of each hedge's account: notional in money-scale units per unit
    size: cp.Parameter  # (H,) max_notional / (a S)
    cost: cp.Parameter  # (2H,) (funding + fee) a / rate scale for a long unit, (fee - funding) a / rate for a short
    coverage: cp.Parameter  # (2H,) margin rate * (1 + buffer): taken off the account's collateral
    risk: cp.Parameter  # (2H,) margin rate, for the stress rows (no buffer; they read holdings)
    buffer: cp.Parameter  # (2H,) margin rate * buffer: given back to the collateral in the CVaR row
    cone: cp.Parameter  # (2H,) the cone head's account constant times margin rate * buffer
    portfolio: cp.Parameter  # (2H,) the portfolio cone head's constant times margin rate * buffer * a
    floor: cp.Parameter  # (2H,) the margin rate times a, for the portfolio's stress rows (money units)
    limit_pairs: np.ndarray  # (C_h, 2) (concentration limit, column of x) at the same account, long and short
    limit: cp.Parameter  # (C_h,) the limit's share times margin rate * (1 + buffer): given back to its cap
    stress: list[cp.Parameter]  # per risk account with hedges: (slots, H_k) return of each hedge's underlying
    cvar: list[cp.Parameter]  # per CVaR account with hedges: (N, H_k) draw return of each hedge's underlying
    portfolio_stress: cp.Parameter  # (S, H) each scenario's return of each hedge's underlying, times a
    delta_base: cp.Parameter  # (D,) the band's delta that no variable moves, / S
    delta_bound: cp.Parameter  # (D,) max_net_delta / S

    @classmethod
    def create(cls, layout: Layout, slots: int) -> HedgeParameters:
        h = layout.n_hedges
        pairs = hedge_limit_pairs(layout)

        def vector(name: str, size: int = 2 * h, **kind: bool) -> cp.Parameter:
            return cp.Parameter(max(size, 1), name=f"hedge_{name}", **kind)

        return cls(
            scale=vector("scale", h, nonneg=True), size=vector("size", h, nonneg=True), cost=vector("cost"),
            coverage=vector("coverage"), risk=vector("risk"), buffer=vector("buffer"), cone=vector("cone"),
            portfolio=vector("portfolio"), floor=vector("floor"),
            limit_pairs=pairs, limit=vector("limit", len(pairs)),
            stress=[cp.Parameter((slots, len(at(layout, k))), name=f"hedge_stress_{j}")
                    for j, k in enumerate(layout.risk_accounts) if slots and len(at(layout, k))],
            cvar=[cp.Parameter((draws, len(at(layout, k))), name=f"hedge_cvar_{j}")
                  for j, (k, draws) in enumerate(zip(layout.cvar_accounts, layout.cvar_draws, strict=True))
                  if len(at(layout, k))],
            portfolio_stress=cp.Parameter((max(len(layout.stress), 1), max(h, 1)), name="hedge_portfolio_stress"),
            delta_base=vector("delta_base", len(layout.delta_owner)),
            delta_bound=vector("delta_bound", len(layout.delta_owner), nonneg=True),
        )

    def assign(self, layout: Layout, numbers: Numbers, scale: Scale, inverse: np.ndarray,
               portfolio_inverse: float, limit: np.ndarray, working: list[list[int]]) -> None:
        """Set every value. ``inverse`` (K,): each cone account's head constant (Parameters.risk_inverse, 0 for
        others); ``portfolio_inverse``: the portfolio cone's; ``limit`` (C,): the concentration shares as the
        program uses them (Parameters.limit); ``working``: each risk account's stress slots."""
        size = scale.accounts[layout.hedge_account]
        buffer = numbers.buffer[layout.hedge_account]
        rates = np.concatenate([numbers.hedge_rate_long, numbers.hedge_rate_short])

        def stacked(factor: np.ndarray) -> np.ndarray:
            return rates * np.concatenate([factor, factor])

        linear = HedgeValues.of(layout, numbers, scale, limit)  # the linear rows' numbers, as the linear path's
        self.scale.value = linear.scale
        self.size.value = linear.size
        self.cost.value = linear.cost
        self.coverage.value = linear.coverage
        self.risk.value = stacked(np.ones(size.shape))
        self.buffer.value = stacked(buffer)
        self.cone.value = stacked(inverse[layout.hedge_account] * buffer)
        self.portfolio.value = stacked(portfolio_inverse * size * buffer)
        self.floor.value = stacked(size)
        self.limit.value = _fill(linear.limit, self.limit)
        self.assign_stress(layout, numbers, scale, working)
        position = 0
        for j, k in enumerate(layout.cvar_accounts):
            mine = at(layout, k)
            if len(mine):
                self.cvar[position].value = numbers.cvar_returns[j][:, layout.hedge_asset[mine]]
                position += 1
        returns = numbers.stress_returns[:, layout.hedge_asset] * size[None, :]  # money units
        self.portfolio_stress.value = returns if returns.size else np.zeros(self.portfolio_stress.shape)
        self.delta_bound.value = _fill(numbers.delta_limit / scale.money, self.delta_bound)
        self.delta_base.value = _fill(delta_base(layout, numbers) / scale.money, self.delta_base)

    def assign_stress(self, layout: Layout, numbers: Numbers, scale: Scale, working: list[list[int]]) -> None:
        """The hedges' returns in each risk account's stress slots (its working set; a free slot gets zeros)."""
        position = 0
        for j, k in enumerate(layout.risk_accounts):
            mine = at(layout, k)
            if not len(mine) or position >= len(self.stress):
                continue
            values = np.zeros(self.stress[position].shape)
            for slot, s in enumerate(working[j]):
                values[slot] = numbers.stress_returns[s, layout.hedge_asset[mine]]
            self.stress[position].value = values
            position += 1


def delta_base(layout: Layout, numbers: Numbers) -> np.ndarray:
    """(D,) the part of each band's delta (currency) that no variable moves: its members' positions' exposure to
    the underlying; for the treasury also the whole inventory of it (moves never change how much the desk holds)."""
    out = np.zeros(len(layout.delta_owner))
    for d, (owner, asset) in enumerate(zip(layout.delta_owner, layout.delta_asset, strict=True)):
        out[d] = float((layout.delta_members[d] @ numbers.exposure[:, asset])[0])
        if owner < 0:
            out[d] += float(numbers.price[asset] * numbers.quantity[asset * layout.n_locations:
                                                                 (asset + 1) * layout.n_locations].sum())
    return out


def _fill(values: np.ndarray, parameter: cp.Parameter) -> np.ndarray:
    return values if values.size else np.zeros(parameter.shape)
