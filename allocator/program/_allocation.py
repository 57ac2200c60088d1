"""An allocation evaluated in plain numpy and in currency: collateral, concentration, risk (parametric, stress,
CVaR, portfolio) and costs, from today's quantities and the units moved.

The numpy twin of the program's terms (program/*.py build the same quantities as cvxpy expressions): the
verification (solve/_verify.py), the plan's ledger and risk floors (plan/) and the result read an allocation through
it, so each definition is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from allocator.program._credit import credit, stressed_credit
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.program._scenarios import stressed_collateral

#: Absolute tolerance of the checks, as a share of the money scale (1e-9 of a $100M book is $0.10).
TOLERANCE = 1e-9
#: Coverage is checked to floating-point rounding only (1e-12 of the money scale; $0.0001 on $100M).
ROUNDING = 1e-12


@dataclass(frozen=True, eq=False)
class Allocation:
    """Holdings after the moves and the moves themselves, in units, re-derived and checked; the hedges traded.

    With hedges, read it through ``numbers.hedged(layout, allocation.hedge)``: their margin, exposure and P&L are
    in those numbers, so every method below sees the hedged account."""

    quantity: np.ndarray  # (cells,)
    moved: np.ndarray  # (M,)
    hedge: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (H,) signed notional of each hedge, currency

    def collateral(self, layout: Layout, numbers: Numbers) -> np.ndarray:
        """(K,) collateral in currency, exact (curved pairs by their curve, _credit.py)."""
        return np.bincount(layout.pair_account, weights=self.credited(layout, numbers), minlength=len(layout.accounts))

    def credited(self, layout: Layout, numbers: Numbers) -> np.ndarray:
        """(P,) credit in currency of every eligible pair."""
        return credit(numbers, numbers.price[layout.pair_asset] * self.quantity[layout.pair_cell])

    def limit_excess(self, layout: Layout, numbers: Numbers) -> np.ndarray:
        """(C,) currency by which each concentration limit is exceeded (negative where it holds)."""
        pairs = layout.limit_pair
        share = self.credited(layout, numbers)[pairs]
        return share - numbers.limit * self.collateral(layout, numbers)[layout.pair_account[pairs]]

    def risk(self, layout: Layout, numbers: Numbers) -> tuple[np.ndarray, np.ndarray]:
        """(K,) sigma of each account's equity over its horizon (currency; NaN without a limit), and (S, K) its
        collateral after each stress scenario plus the positions' P&L (NaN where it does not apply)."""
        accounts = len(layout.accounts)
        sigma = np.full(accounts, np.nan)
        stressed = np.full((len(layout.stress), accounts), np.nan)
        for j, k in enumerate(layout.risk_accounts):
            if len(layout.market_assets) and j in layout.cone:
                sigma[k] = self.account_sigma(layout, numbers, k)
        if len(layout.stress) and len(layout.risk_accounts):
            every = stressed_collateral(layout, numbers, numbers.value(layout, self.quantity))
            stressed[:, layout.risk_accounts] = every[:, layout.risk_accounts]
        return sigma, stressed

    def account_sigma(self, layout: Layout, numbers: Numbers, k: int) -> float:
        """Sigma of account ``k``'s equity over its horizon (currency): its posted market assets and its positions'
        exposure through the market's factor, times sqrt(horizon / 365). Meaningful for a parametric account."""
        value = numbers.price[layout.market_assets] * self.quantity[layout.market_cells(k)]
        exposure = numbers.exposure[k, layout.market_assets]
        return float(np.linalg.norm(numbers.factor.T @ (value + exposure))) * float(numbers.risk_root_horizon[k])

    def account_stressed(self, layout: Layout, numbers: Numbers, k: int) -> np.ndarray:
        """(S,) account ``k``'s collateral after each stress scenario plus its positions' P&L (currency)."""
        return stressed_collateral(layout, numbers, numbers.value(layout, self.quantity), accounts=[k])[:, k]

    def cvar(self, layout: Layout, numbers: Numbers) -> np.ndarray:
        """(K,) CVaR of each CVaR account's loss over its Monte Carlo draws (currency; NaN elsewhere): the mean of
        the worst ``(1 - a) N`` losses, the last one counted in part (the Rockafellar-Uryasev minimum)."""
        out = np.full(len(layout.accounts), np.nan)
        for j, k in enumerate(layout.cvar_accounts):
            out[k] = self.account_cvar(layout, numbers, j)
        return out

    def account_cvar(self, layout: Layout, numbers: Numbers, j: int) -> float:
        """CVaR of the loss of the ``j``-th CVaR account (``layout.cvar_accounts[j]``), in currency."""
        k = int(layout.cvar_accounts[j])
        value = numbers.value(layout, self.quantity)
        now = self.collateral(layout, numbers)[k]
        moved = stressed_credit(layout, numbers, value, k, numbers.cvar_returns[j])
        loss = now - moved - numbers.cvar_pnl[j]  # exact: curved pairs revalued on their curve
        return tail_mean(loss, float(numbers.cvar_level[j]))

    def portfolio(self, layout: Layout, numbers: Numbers) -> tuple[float, np.ndarray]:
        """Treasury-wide sigma (currency) over the portfolio horizon, and (S,) the total collateral after each
        stress scenario plus all positions' P&L (program/_portfolio.py)."""
        market = layout.market_assets
        value = numbers.value(layout, self.quantity)
        posted = value[layout.market_account_cells].sum(axis=0) if len(market) else np.zeros(0)
        exposure = numbers.exposure[:, market].sum(axis=0)
        sigma = float(np.linalg.norm(numbers.factor.T @ (posted + exposure))) * numbers.portfolio_root_horizon
        stressed = sum((stressed_credit(layout, numbers, value, k, numbers.stress_returns)
                        for k in range(len(layout.accounts))), np.zeros(len(layout.stress)))
        return sigma, stressed + numbers.stress_pnl.sum(axis=1)

    def carry_cost(self, layout: Layout, numbers: Numbers) -> float:
        return float(numbers.carry_rate @ numbers.value(layout, self.quantity)[layout.account_cells])

    def move_value(self, layout: Layout, numbers: Numbers) -> np.ndarray:
        return self.moved * numbers.price[layout.move_asset]

    def transfer_cost(self, layout: Layout, numbers: Numbers) -> float:
        return float(numbers.move_rate @ self.move_value(layout, numbers))

    def hedge_funding(self, numbers: Numbers) -> np.ndarray:
        """(H,) funding each hedge pays over the horizon (currency; negative: received)."""
        return numbers.hedge_funding * self.hedge if self.hedge.size else np.zeros(0)

    def hedge_fees(self, numbers: Numbers) -> np.ndarray:
        """(H,) fee on each hedge's traded notional (currency)."""
        return numbers.hedge_fee * np.abs(self.hedge) if self.hedge.size else np.zeros(0)

    def hedge_cost(self, numbers: Numbers) -> float:
        """Funding plus fees of every hedge: money the desk pays over the horizon (program/_hedges.py)."""
        return float(self.hedge_funding(numbers).sum() + self.hedge_fees(numbers).sum())

    def deltas(self, layout: Layout, numbers: Numbers) -> np.ndarray:
        """(D,) each delta band's delta (currency): read through hedged numbers, the hedges are in the exposure."""
        value = numbers.value(layout, self.quantity)
        out = np.zeros(len(layout.delta_owner))
        for d, (owner, asset) in enumerate(zip(layout.delta_owner, layout.delta_asset, strict=True)):
            out[d] = float((layout.delta_members[d] @ numbers.exposure[:, asset])[0])
            cells = np.arange(asset * layout.n_locations, (asset + 1) * layout.n_locations)
            if owner >= 0:
                cells = layout.cell(asset, layout.account_location[layout.delta_members[d].indices])
            out[d] += float(value[cells].sum())
        return out



def tail_mean(loss: np.ndarray, level: float) -> float:
    """CVaR at ``level`` of equally likely losses: mean of the worst ``(1 - level) N``, fractional part included."""
    worst = np.sort(loss)[::-1]
    tail = (1.0 - level) * len(loss)
    whole = int(np.floor(tail))
    total = worst[:whole].sum() + (tail - whole) * (worst[whole] if whole < len(worst) else 0.0)
    return float(total / tail)
