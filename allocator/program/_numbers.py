"""The numbers of a problem as arrays aligned with its :class:`~allocator.program._layout.Layout`, in currency
and units.

These are exactly the data a what-if may change without recompiling: prices, inventory, haircut values,
concentration limits, requirements, buffers, carry and yields, move costs, and the positions' P&L since their
last mark (``pnl``, market.marked_pnl), which enters every row of an account through what its collateral must
cover: ``required`` (coverage) and ``net_requirement`` (every risk row), both
:func:`~allocator.inputs.market.net_of_pnl`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import chain, repeat

import numpy as np

from allocator.inputs.market import marked_pnl, net_of_pnl
from allocator.inputs.problem import Problem
from allocator.program._layout import Layout
from allocator.venues.collateral.curve import Curve

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, eq=False)
class Numbers:
    price: np.ndarray  # (A,) currency per unit
    quantity: np.ndarray  # (cells,) units held today
    haircut: np.ndarray  # (P,) per eligible pair
    limit: np.ndarray  # (C,) concentration share per limit
    requirement: np.ndarray  # (K,) currency, as given or derived by the rulebook (before any P&L)
    pnl: np.ndarray  # (K,) currency: the account's positions' P&L since their last mark (0 when never re-marked)
    buffer: np.ndarray  # (K,)
    carry_rate: np.ndarray  # (A*K,) cost per unit of value posted at an account over the horizon, account-major
    move_rate: np.ndarray  # (M,) cost per unit of value moved
    exposure: np.ndarray  # (K, A) currency per unit return of each asset, from the account's positions
    factor: np.ndarray  # (n, m) F with F F' = annual covariance of the market assets ([B, diag(s)], see market.py)
    loadings: np.ndarray  # (n, r) B, the common part of F
    specific: np.ndarray  # (n,) s, the specific volatilities (zero without a factor model)
    risk_z: np.ndarray  # (K,) z of each account's parametric limit (0 without one)
    risk_root_horizon: np.ndarray  # (K,) sqrt(horizon / 365) of the limit (0 without one)
    stress_returns: np.ndarray  # (S, A) the stress scenarios' returns
    stress_pnl: np.ndarray  # (S, K) the positions' P&L in each stress scenario (options fully repriced)
    cvar_returns: list[np.ndarray]  # per CVaR account: (N, A) Monte Carlo returns (zero for non-market assets)
    cvar_pnl: list[np.ndarray]  # per CVaR account: (N,) its positions' P&L in each draw (options repriced)
    cvar_level: np.ndarray  # (K_c,) the confidence of each CVaR limit
    portfolio_z: float  # z of the portfolio limit (0 without one)
    portfolio_root_horizon: float  # its sqrt(horizon / 365)
    curves: dict[int, Curve]  # eligible pair -> its concave collateral curve (_credit.py); others are (1 - h) v
    # hedges (program/_hedges.py, docs/hedging.md); empty without [[hedges]]
    hedge_funding: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (H,) funding_rate * horizon / 365
    hedge_fee: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (H,) fee per unit of notional traded
    hedge_max: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (H,) largest |notional|, currency
    hedge_rate_long: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (H,) margin per unit of long notional
    hedge_rate_short: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (H,) ... of short notional
    delta_limit: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (D,) largest |delta| of each band
    hedge_requirement: np.ndarray | None = None  # (K,) the hedges' margin per account (hedged(); None: no hedge)

    @property
    def risk_scale(self) -> np.ndarray:
        """(K,) z * sqrt(horizon / 365): sigma of the equity per unit of ||F' (value + exposure)||, times z."""
        return self.risk_z * self.risk_root_horizon

    @property
    def portfolio_scale(self) -> float:
        return self.portfolio_z * self.portfolio_root_horizon

    @property
    def required(self) -> np.ndarray:
        """(K,) collateral the coverage row asks for: ``max(requirement * (1 + buffer) - pnl, 0)``, plus the
        buffered margin of the hedges of a ``hedged`` copy."""
        out = net_of_pnl(self.requirement * (1.0 + self.buffer), self.pnl)
        return out if self.hedge_requirement is None else out + (1.0 + self.buffer) * self.hedge_requirement

    @property
    def requirement_slope(self) -> tuple[np.ndarray, np.ndarray]:
        """(K,) each twice: how far the coverage row's right-hand side (``required``) and the risk rows'
        (``net_requirement``) move per currency of extra requirement: ``1 + buffer`` and 1 while the positions'
        P&L leaves something to cover (a requirement that just reaches the P&L counts: an extra unit moves them),
        0 where it covers more (the rows then ask for 0 whatever the requirement)."""
        coverage = np.where(self.requirement * (1.0 + self.buffer) >= self.pnl, 1.0 + self.buffer, 0.0)
        return coverage, np.where(self.requirement >= self.pnl, 1.0, 0.0)

    @property
    def net_requirement(self) -> np.ndarray:
        """(K,) what collateral must cover in every risk row (parametric, stress, CVaR, portfolio):
        ``max(requirement - pnl, 0)`` (the requirement itself when nothing was re-marked), plus the hedges' margin
        of a ``hedged`` copy."""
        out = net_of_pnl(self.requirement, self.pnl)
        return out if self.hedge_requirement is None else out + self.hedge_requirement

    @property
    def venue_requirement(self) -> np.ndarray:
        """(K,) the requirement with the hedges' margin (of a ``hedged`` copy): what the venue requires."""
        return self.requirement if self.hedge_requirement is None else self.requirement + self.hedge_requirement

    def hedged(self, layout: Layout, notional: np.ndarray) -> Numbers:
        """These numbers with the hedges traded at ``notional`` (H,) (currency, signed): their margin in each
        account's requirement, their delta in its exposure, their P&L in every stress scenario and CVaR draw. The
        numpy side of every hedge term of the program (program/_hedges.py); without hedges, these numbers."""
        if not layout.n_hedges:
            return self
        exposure = self.exposure.copy()
        np.add.at(exposure, (layout.hedge_account, layout.hedge_asset), notional)
        margin = self.hedge_rate_long * np.maximum(notional, 0.0) + self.hedge_rate_short * np.maximum(-notional, 0.0)
        stress_pnl = self.stress_pnl + self.stress_returns[:, layout.hedge_asset] @ (
            notional[:, None] * (layout.hedge_account[:, None] == np.arange(len(layout.accounts))[None, :]))
        cvar_pnl = [pnl + draws[:, layout.hedge_asset[mine]] @ notional[mine]
                    for k, pnl, draws in zip(layout.cvar_accounts, self.cvar_pnl, self.cvar_returns, strict=True)
                    for mine in [layout.hedge_account == k]]
        return replace(self, exposure=exposure, stress_pnl=stress_pnl, cvar_pnl=cvar_pnl,
                       hedge_requirement=np.bincount(layout.hedge_account, weights=margin,
                                                     minlength=len(layout.accounts)))

    def cell_price(self, layout: Layout) -> np.ndarray:
        return np.repeat(self.price, layout.n_locations)

    def value(self, layout: Layout, quantity: np.ndarray | None = None) -> np.ndarray:
        """Value in currency of a cell quantity vector (today's holdings by default)."""
        return self.cell_price(layout) * (self.quantity if quantity is None else quantity)

    @classmethod
    def from_problem(cls, problem: Problem, layout: Layout) -> Numbers:
        asset_index = {a: i for i, a in enumerate(layout.assets)}
        location_index = {name: i for i, name in enumerate(layout.locations)}
        holdings = problem.holdings
        quantity = np.bincount(
            layout.cell(np.array([asset_index[h.asset] for h in holdings], dtype=int),
                        np.array([location_index[h.location] for h in holdings], dtype=int)),
            weights=np.array([h.quantity for h in holdings], dtype=float), minlength=layout.n_cells)
        accounts, terms = problem.accounts, problem.terms
        carry = np.array([asset.carry for asset in problem.assets])
        yields = np.zeros((len(accounts), layout.n_assets))
        for row, account in enumerate(accounts):  # a yield on an asset the problem does not hold is ignored
            if account.yields:
                count = len(account.yields)
                where = np.fromiter(map(asset_index.get, account.yields, repeat(-1)), dtype=int, count=count)
                rate = np.fromiter(account.yields.values(), dtype=float, count=count)
                known = where >= 0
                yields[row, where[known]] = rate[known]
        carry_rate = ((carry[None, :] - yields) * problem.horizon_days / DAYS_PER_YEAR).ravel()
        if problem.routes is None:
            move_rate = np.zeros(layout.n_moves)
        else:
            route_cost = np.array([route.cost_bps / 1e4 for route in problem.routes])
            move_rate = route_cost[layout.move_route]
        price = np.array([asset.price for asset in problem.assets])
        exposure = np.zeros((len(accounts), layout.n_assets))
        account_index = {k: i for i, k in enumerate(layout.accounts)}
        marked = marked_pnl(problem.positions, {a.id: a.price for a in problem.assets}, problem.as_of)
        stress = np.zeros((len(problem.stress_scenarios), layout.n_assets))
        for s, scenario in enumerate(problem.stress_scenarios):
            for asset, move in scenario.returns.items():
                stress[s, asset_index[asset]] = move
        stress_pnl = np.zeros((len(problem.stress_scenarios), len(accounts)))
        for position in problem.positions:
            a, k = asset_index[position.underlying], account_index[position.account]
            exposure[k, a] += position.quantity * position.delta(price[a], problem.as_of) * price[a]
            for s in range(len(problem.stress_scenarios)):
                stress_pnl[s, k] += position.pnl(price[a], stress[s, a], problem.as_of)
        return cls(
            price=price,
            quantity=quantity,
            haircut=np.fromiter(chain.from_iterable(terms[account.id].eligible.values() for account in accounts),
                                dtype=float),
            limit=np.fromiter(chain.from_iterable(account.concentration.values() for account in accounts),
                              dtype=float),
            requirement=np.array([terms[account.id].requirement for account in accounts]),
            pnl=np.array([marked.get(k, 0.0) for k in layout.accounts]),
            buffer=np.array([account.buffer for account in accounts]),
            carry_rate=carry_rate,
            move_rate=move_rate,
            exposure=exposure,
            factor=problem.market.factor() if problem.market else np.zeros((0, 0)),
            loadings=problem.market.parts[0] if problem.market else np.zeros((0, 0)),
            specific=problem.market.parts[1] if problem.market else np.zeros(0),
            risk_z=np.array([a.risk.z if a.risk else 0.0 for a in accounts]),
            risk_root_horizon=np.array([np.sqrt(a.risk.horizon_days / DAYS_PER_YEAR) if a.risk else 0.0
                                        for a in accounts]),
            curves=dict(zip(layout.curve_pairs.tolist(),  # the layout's curved pairs, in the same pair order
                            [curve for account in accounts for curves in [terms[account.id].curves] if curves
                             for a in terms[account.id].eligible for curve in [curves.get(a)] if curve is not None],
                            strict=True)),
            portfolio_z=problem.portfolio.z if problem.portfolio else 0.0,
            portfolio_root_horizon=(np.sqrt(problem.portfolio.horizon_days / DAYS_PER_YEAR)
                                    if problem.portfolio else 0.0),
            stress_returns=stress,
            stress_pnl=stress_pnl,
            **_cvar(problem, layout, price, asset_index),  # type: ignore[arg-type]
            **_hedges(problem),  # type: ignore[arg-type]
        )


def _cvar(problem: Problem, layout: Layout, price: np.ndarray, asset_index: dict[str, int]) -> dict[str, object]:
    returns, pnl, level = [], [], []
    for k in layout.cvar_accounts:
        account = problem.accounts[k]
        assert account.risk is not None and account.risk.cvar_confidence is not None and problem.market
        draws = np.zeros((account.risk.cvar_scenarios, layout.n_assets))
        draws[:, layout.market_assets] = account.risk.draws(problem.market.factor())
        returns.append(draws)
        pnl.append(np.array([sum(p.pnl(price[asset_index[p.underlying]], row[asset_index[p.underlying]],
                                       problem.as_of) for p in problem.positions if p.account == account.id)
                             for row in draws]))
        level.append(account.risk.cvar_confidence)
    return {"cvar_returns": returns, "cvar_pnl": pnl, "cvar_level": np.array(level)}


def _hedges(problem: Problem) -> dict[str, np.ndarray]:
    """The hedges' numbers (docs/hedging.md): funding and fee rates, sizes, margin rates, the delta bands."""
    rates = [problem.terms[h.account].hedge_rates[h.instrument] for h in problem.hedges]
    return {"hedge_funding": np.array([h.funding_rate * problem.horizon_days / DAYS_PER_YEAR for h in problem.hedges]),
            "hedge_fee": np.array([h.fee_bps / 1e4 for h in problem.hedges]),
            "hedge_max": np.array([h.max_notional for h in problem.hedges]),
            "hedge_rate_long": np.array([long for long, _ in rates]),
            "hedge_rate_short": np.array([short for _, short in rates]),
            "delta_limit": np.array([limit for a in problem.accounts for limit in a.max_net_delta.values()]
                                    + list(problem.max_net_delta.values()))}
