"""The hedges' numbers as cvxpy Parameters, scaled like the rest of the program (docs/hedging.md).

The variables are the long and short parts ``l, s >= 0`` of each hedge's notional, in units of its account's
scale (``n = (l - s) a S``, hedges.py). Every coefficient that multiplies them is formed here in numpy (a rate times
an account's buffer and scale, a cone's constant times a rate), so the program stays DPP: parameters times variables
only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.program.layout import Layout
from allocator.program.numbers import Numbers
from allocator.program.scaling import Scale

#: z * sqrt(tau / 365) below this counts as this (as parameters.MIN_RISK_SCALE).
MIN_RISK_SCALE = 1e-6


def at(layout: Layout, account: int) -> np.ndarray:
    """Positions in the hedge list of the hedges at ``account``."""
    return np.flatnonzero(layout.hedge_account == account)


@dataclass(frozen=True, eq=False)
class HedgeParameters:
    scale: cp.Parameter  # (H,) the account scale a of each hedge's account: notional in money-scale units per unit
    cost_long: cp.Parameter  # (H,) (funding + fee) * a / rate scale: cost of a unit of long notional
    cost_short: cp.Parameter  # (H,) (fee - funding) * a / rate scale
    size: cp.Parameter  # (H,) max_notional / (a S)
    coverage_long: cp.Parameter  # (H,) margin rate * (1 + buffer): taken off the account's collateral
    coverage_short: cp.Parameter
    risk_long: cp.Parameter  # (H,) margin rate, for the stress rows (no buffer; they read holdings)
    risk_short: cp.Parameter
    buffer_long: cp.Parameter  # (H,) margin rate * buffer: given back to the collateral in the CVaR row
    buffer_short: cp.Parameter
    cone_long: cp.Parameter  # (H,) the cone head's account constant times margin rate * buffer
    cone_short: cp.Parameter
    portfolio_long: cp.Parameter  # (H,) the portfolio cone head's constant times margin rate * buffer * a
    portfolio_short: cp.Parameter
    limit_pairs: np.ndarray  # (C_h, 2) (concentration limit, hedge) at the same account
    limit_long: cp.Parameter  # (C_h,) the limit's share times margin rate * (1 + buffer): given back to its cap
    limit_short: cp.Parameter
    floor_long: cp.Parameter  # (H,) the margin rate times a, for the portfolio's stress rows (money units)
    floor_short: cp.Parameter
    stress: list[cp.Parameter]  # per risk account with hedges: (slots, H_k) return of each hedge's underlying
    cvar: list[cp.Parameter]  # per CVaR account with hedges: (N, H_k) draw return of each hedge's underlying
    portfolio_stress: cp.Parameter  # (S, H) each scenario's return of each hedge's underlying, times a
    delta_base: cp.Parameter  # (D,) the band's delta that no variable moves, / S
    delta_bound: cp.Parameter  # (D,) max_net_delta / S

    @classmethod
    def create(cls, layout: Layout, slots: int) -> HedgeParameters:
        h = layout.n_hedges
        pairs = np.array([(i, j) for i, pair in enumerate(layout.limit_pair) for j in range(h)
                          if layout.hedge_account[j] == layout.pair_account[pair]], dtype=int).reshape(-1, 2)

        def vector(name: str, size: int = h, **kind: bool) -> cp.Parameter:
            return cp.Parameter(max(size, 1), name=f"hedge_{name}", **kind)

        return cls(
            scale=vector("scale", nonneg=True), size=vector("size", nonneg=True),
            cost_long=vector("cost_long"), cost_short=vector("cost_short"),
            coverage_long=vector("coverage_long"), coverage_short=vector("coverage_short"),
            risk_long=vector("risk_long"), risk_short=vector("risk_short"),
            buffer_long=vector("buffer_long"), buffer_short=vector("buffer_short"),
            limit_pairs=pairs, limit_long=vector("limit_long", len(pairs)),
            limit_short=vector("limit_short", len(pairs)),
            cone_long=vector("cone_long"), cone_short=vector("cone_short"),
            portfolio_long=vector("portfolio_long"), portfolio_short=vector("portfolio_short"),
            floor_long=vector("floor_long"), floor_short=vector("floor_short"),
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
        buffered = 1.0 + numbers.buffer[layout.hedge_account]
        self.scale.value = size
        self.cost_long.value = (numbers.hedge_funding + numbers.hedge_fee) * size / scale.rate
        self.cost_short.value = (numbers.hedge_fee - numbers.hedge_funding) * size / scale.rate
        self.size.value = numbers.hedge_max / (scale.money * size)
        buffer = numbers.buffer[layout.hedge_account]
        for long, short, factor in ((self.coverage_long, self.coverage_short, buffered),
                                    (self.risk_long, self.risk_short, np.ones(size.shape)),
                                    (self.buffer_long, self.buffer_short, buffer),
                                    (self.cone_long, self.cone_short, inverse[layout.hedge_account] * buffer),
                                    (self.portfolio_long, self.portfolio_short, portfolio_inverse * size * buffer),
                                    (self.floor_long, self.floor_short, size)):
            long.value = numbers.hedge_rate_long * factor
            short.value = numbers.hedge_rate_short * factor
        limits, hedges = self.limit_pairs.T
        share = limit[limits] * buffered[hedges] if len(self.limit_pairs) else np.zeros(0)
        self.limit_long.value = _fill(share * numbers.hedge_rate_long[hedges], self.limit_long)
        self.limit_short.value = _fill(share * numbers.hedge_rate_short[hedges], self.limit_short)
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
