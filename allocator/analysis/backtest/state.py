"""What a policy sees on a day: the close of that day and everything before it, nothing after.

:class:`DayState` holds the day's close prices, the holdings after the market's moves and the liquidations of the
day, every account as its venue sees it at the close (:class:`AccountView`), the price history up to the day
(``history``), the routes (``router``) and forecasts of tomorrow's haircuts made from the prices up to today
(``forecast_haircuts``). The same object is built by the backtest for each day and by ``allocator rebalance`` for
today, so what is backtested is what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from allocator.analysis.backtest.forecasts import Forecasts
from allocator.analysis.backtest.history import MarketHistory
from allocator.analysis.backtest.moves import Draft, Router
from allocator.analysis.backtest.settings import BacktestSettings
from allocator.analysis.stress.revalue import credited
from allocator.inputs.market import Position
from allocator.inputs.problem import Problem
from allocator.venues.forecast import Method
from allocator.venues.rulebooks import load_rulebook
from allocator.venues.terms import AccountTerms


@dataclass(frozen=True, eq=False)
class AccountView:
    """One account at the day's close, as its venue sees it. ``coverage`` is ``collateral / requirement`` on the
    account's own basis (inf without a requirement); ``ratio`` its liquidation rule's ratio (health factor,
    uniMMR, or equity over maintenance) with the rule's ``threshold`` and ``warning`` lines."""

    id: str
    index: int
    location: str
    rule: str
    threshold: float
    warning: float
    requirement: float
    collateral: float
    maintenance: float
    equity: float
    ratio: float
    terms: AccountTerms  # at the close: eligible haircuts, curves, requirement
    settlement: str  # the asset its variation margin is paid in

    @property
    def coverage(self) -> float:
        return self.collateral / self.requirement if self.requirement > 0 else float("inf")


@dataclass(frozen=True, eq=False)
class DayState:
    """A day of the backtest (or today, for ``allocator rebalance``) as a policy sees it (module docstring)."""

    date: str
    index: int  # the day's position in ``history``
    first: bool  # the first day of the run: a policy may set up its allocation
    days_since_action: int | None  # days since the policy last moved anything (None: never)
    problem: Problem  # the problem on the scale of the history (prices of the first day)
    price: np.ndarray  # (n,) the day's close
    quantity: np.ndarray  # (n, L) units after the day's market moves and liquidations (read-only)
    accounts: tuple[AccountView, ...]
    history: MarketHistory  # up to the day, included
    router: Router
    settings: BacktestSettings
    stablecoins: tuple[str, ...]
    forecasts: Forecasts
    positions: tuple[Position, ...] = ()  # the positions as held today (resized: settings.positions)

    @property
    def assets(self) -> list[str]:
        return self.problem.asset_ids

    @property
    def locations(self) -> list[str]:
        return self.problem.locations

    @property
    def treasury(self) -> list[str]:
        """Locations that are not accounts, in problem order."""
        accounts = set(self.problem.account_ids)
        return [location for location in self.locations if location not in accounts]

    def forecast_haircuts(self, method: Method, **params: Any) -> dict[str, float]:
        """Per asset, the haircut for tomorrow forecast from the prices up to today (``venues.forecast``:
        ``predictive_haircuts(closes, method, **params)``; NaN while the forecaster warms up)."""
        return self.forecasts.haircuts(self.index, method, **params)

    def terms(self, k: int, haircuts: Mapping[str, float] | None = None) -> AccountTerms:
        """Account ``k``'s terms at the close, with ``haircuts`` (asset -> haircut) replacing those of eligible
        assets credited at a flat haircut (assets on a collateral curve keep it)."""
        terms = self.accounts[k].terms
        if not haircuts:
            return terms
        changed = {a: float(haircuts[a]) for a in terms.eligible if a in haircuts and a not in terms.curves
                   and np.isfinite(haircuts[a])}
        return replace(terms, eligible={**terms.eligible, **changed})

    def credit(self, k: int, units: np.ndarray | None = None, haircuts: Mapping[str, float] | None = None) -> float:
        """Collateral credit of ``units`` (n,) at account ``k`` (default: what it holds) at the close."""
        column = self.quantity[:, self.locations.index(self.accounts[k].location)] if units is None else units
        return float(credited(self.terms(k, haircuts), column, self.price[None, :], self.assets)[0])

    def coverage(self, k: int, haircuts: Mapping[str, float] | None = None) -> float:
        """``credit / requirement`` of account ``k`` (with ``haircuts``: in a policy's own view)."""
        requirement = self.accounts[k].requirement
        return self.credit(k, haircuts=haircuts) / requirement if requirement > 0 else float("inf")

    def initial_margin(self, k: int) -> float:
        """Account ``k``'s initial line: the sum of its positions' initial margins, each on its own (no netting:
        a pool per position), by its rulebook at the close; its requirement without a rulebook or positions."""
        account = self.problem.accounts[k]
        mine = [p for p in self.positions if p.account == account.id]
        if account.rulebook is None or not mine or account.requirement is not None:
            return self.accounts[k].requirement
        book = load_rulebook(account.rulebook)
        prices = dict(zip(self.assets, map(float, self.price), strict=True))
        return float(sum(book.initial_margin([p], prices, self.problem.as_of) for p in mine))

    def draft(self) -> Draft:
        """A working copy of the holdings to build steps on."""
        return Draft(self.quantity.copy(), self.price, self.router, self.problem, self.settings.trade_fee_bps)
