"""The day-by-day loop of one policy over a history (docs/backtest.md, "A day").

The first day is the problem as it stands (prices of the problem, holdings of the file): no market move, the
policy acts. Every later day: the income forgone overnight is counted (``carry_forgone``: what the inventory with
every exchange undone would earn held free, less what the inventory as held earns; per account, the single-period
objective's carry term for one day; for the treasury, their sum plus ``carry_exchanged``); the market moves it,
liquidates who falls and settles the variation margin (day.py), revaluing the units exchanged as it revalues the
units held (``exchange_pnl``, what the units given up gained less what the units received gained); the policy sees
the close (state.py) and its moves run at the close, paying their costs (books.py). One row per account and day,
and one per day for the whole treasury, record it all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from allocator.analysis.backtest.books import Bankrupt, Costs, Holdings
from allocator.analysis.backtest.day import MarketDay, market_day, nothing_seized
from allocator.analysis.backtest.forecasts import Forecasts
from allocator.analysis.backtest.history import MarketHistory
from allocator.analysis.backtest.moves import Router
from allocator.analysis.backtest.policies import Policy
from allocator.analysis.backtest.settings import BacktestSettings
from allocator.analysis.backtest.state import AccountView, DayState
from allocator.analysis.backtest.venue import Venues
from allocator.analysis.stress.liquidation import judge
from allocator.inputs.problem import Problem

DAYS_PER_YEAR = 365.0

ACCOUNT_COLUMNS = ["date", "policy", "account", "requirement", "collateral", "coverage", "coverage_after", "equity",
                   "ratio", "warning", "worst_coverage", "worst_ratio", "liquidated", "liquidation_row", "seized",
                   "liquidation_loss", "deficit", "pnl", "carry_forgone", "transfer_cost", "moves"]
TREASURY_COLUMNS = ["date", "policy", "value", "market_pnl", "pnl", "carry_forgone", "carry_exchanged",
                    "transfer_cost", "trading_cost", "liquidation_loss", "exchange_pnl", "moves", "moved_value",
                    "traded_value", "acted", "note"]


@dataclass
class Context:
    """Everything a backtest shares between its policies."""

    problem: Problem
    history: MarketHistory
    settings: BacktestSettings
    venues: Venues
    router: Router
    forecasts: Forecasts
    stable: tuple[str, ...]
    cash: str
    settlement: list[str]
    carry: np.ndarray  # (n, m) income forgone per unit of value posted, per year: carry - yield
    income: np.ndarray  # (n,) each asset's carry: income per unit of value held free, per year
    sizes: np.ndarray  # (T, P) every position's quantity from each close on (settings.positions)
    day_haircuts: dict[int, dict[int, dict[str, float]]] = field(default_factory=dict)

    @classmethod
    def of(cls, problem: Problem, history: MarketHistory, settings: BacktestSettings) -> Context:
        settlement = settings.settlement_assets(problem)
        carry = np.array([[asset.carry - account.yields.get(asset.id, 0.0) for account in problem.accounts]
                          for asset in problem.assets])
        quantity = np.array([p.quantity for p in problem.positions])
        sizes = np.tile(quantity, (len(history.dates), 1))
        if settings.positions == "notional" and len(quantity):
            underlying = [problem.asset_ids.index(p.underlying) for p in problem.positions]
            sizes = quantity * history.close[history.start, underlying] / history.close[:, underlying]
        return cls(problem, history, settings, Venues.of(problem, settings.penalties), Router(problem),
                   Forecasts(history), tuple(settings.stable(problem)), settings.cash_asset(problem), settlement,
                   carry, np.array([asset.carry for asset in problem.assets]), sizes)

    def haircuts(self, t: int) -> dict[int, dict[str, float]]:
        """The venues' volatility-model haircuts of day ``t`` (shared by every policy)."""
        if not self.venues.volatility:
            return {}
        if t not in self.day_haircuts:
            self.day_haircuts[t] = self.venues.volatility_haircuts(self.forecasts.volatility(t))
        return self.day_haircuts[t]


@dataclass
class Run:
    """One policy's rows."""

    accounts: list[tuple[object, ...]] = field(default_factory=list)
    treasury: list[tuple[object, ...]] = field(default_factory=list)
    holdings: list[tuple[str, str, np.ndarray]] = field(default_factory=list)  # (date, policy, units (n, L))
    notes: list[str] = field(default_factory=list)


def simulate(context: Context, policy: Policy, progress: Callable[[int], None] | None = None,
             record_holdings: bool = False) -> Run:
    """Run ``policy`` over the context's history (module docstring)."""
    history, venues, problem = context.history, context.venues, context.problem
    holdings = Holdings.of(problem, venues.account_location, context.cash)
    m = len(problem.accounts)
    reference = np.tile(history.close[history.start], (m, 1))
    settle_in = np.array([problem.asset_ids.index(a) for a in context.settlement])
    run, last_action = Run(), None
    for t in range(history.start, history.end + 1):
        date, close = history.day(t), history.close[t]
        carry, exchanged = np.zeros(m), 0.0
        quiet = MarketDay(0.0, np.zeros(m), np.full(m, np.nan), np.full(m, np.nan), np.zeros(m, dtype=bool),
                          [None] * m, *nothing_seized(m))
        try:
            if t > history.start:
                p0 = history.close[t - 1]
                carry, exchanged = overnight_carry(context, holdings, p0)
                quiet = market_day(holdings, venues, reference, p0, history.low[t], history.high[t], close,
                                   context.haircuts(t), settle_in, context.settings.restore_cost_bps,
                                   context.sizes[t - 1])
            state, judged = day_state(context, holdings, t, last_action)
            moves = policy.decide(state)
            costs = holdings.apply(moves.steps, close, context.router, context.settings.trade_fee_bps, policy.name)
        except Bankrupt as error:
            run.notes.append(f"{policy.name}: the desk is bankrupt on {date} ({error}); the run stops there")
            break
        if costs.steps:
            last_action = t
        after = collateral_at(context, holdings, t) if costs.steps else judged[0]
        _record(run, context, policy.name, date, holdings, close, state, judged, after, quiet, carry, exchanged,
                costs, moves.note)
        if record_holdings:
            run.holdings.append((date, policy.name, holdings.quantity.copy()))
        if progress is not None:
            progress(1)
    return run


def overnight_carry(context: Context, holdings: Holdings, price: np.ndarray) -> tuple[np.ndarray, float]:
    """The income forgone over one night at ``price`` (yesterday's close), with the units held overnight
    (docs/backtest.md, "Metrics"): per account, ``sum_a (carry_a - yield_ak) x price_a x posted_ak / 365`` (what
    its collateral would earn free less what it earns posted); and, for the treasury, the carry of what the desk
    exchanged, ``sum_a carry_a x price_a x exchanged_a / 365`` (what the units it gave up would earn free less what
    the units it got for them would). Their total is the income of the inventory with every exchange undone, held
    free, less the income of the inventory as held."""
    posted = (context.carry * (price[:, None] * holdings.posted)).sum(axis=0) / DAYS_PER_YEAR
    exchanged = float(context.income @ (price * holdings.exchanged)) / DAYS_PER_YEAR
    return posted, exchanged


def day_state(context: Context, holdings: Holdings, t: int, last_action: int | None) -> tuple[DayState, tuple]:
    """The day as the policy sees it, and (collateral, requirement, ratio, fallen) per account at the close."""
    venues, history, problem = context.venues, context.history, context.problem
    close = history.close[t]
    m = len(problem.accounts)
    book = venues.book(holdings.posted, holdings.elsewhere, np.tile(close, (m, 1)), context.haircuts(t),
                       context.sizes[t])
    valuation = venues.value(book, close[None, :])
    own = book.terms_at(close)[0]
    views, ratios, fallen = [], np.zeros(m), np.zeros(m, dtype=bool)
    for k, account in enumerate(problem.accounts):
        rule = venues.rules[k]
        ratio, down = judge(rule, book, k, valuation, close[None, :])
        ratios[k], fallen[k] = ratio[0], down[0]
        views.append(AccountView(account.id, k, problem.locations[venues.account_location[k]], rule.kind,
                                 rule.threshold, float(venues.warning[k]), float(valuation.requirement[0, k]),
                                 float(valuation.collateral[0, k]), float(valuation.requirement_m[0, k]),
                                 float(valuation.equity[0, k]), float(ratio[0]), own[k], context.settlement[k]))
    quantity = holdings.quantity.copy()
    quantity.setflags(write=False)
    positions = tuple(p.model_copy(update={"quantity": float(q)}) for p, q in zip(problem.positions,
                                                                                    context.sizes[t], strict=True))
    state = DayState(history.day(t), t, t == history.start, None if last_action is None else t - last_action,
                     problem, close, quantity, tuple(views), history.until(t), context.router, context.settings,
                     context.stable, context.forecasts, positions)
    return state, (valuation.collateral[0], valuation.requirement[0], ratios, fallen)


def collateral_at(context: Context, holdings: Holdings, t: int) -> np.ndarray:
    close = context.history.close[t]
    reference = np.tile(close, (len(holdings.account_location), 1))
    book = context.venues.book(holdings.posted, holdings.elsewhere, reference, context.haircuts(t), context.sizes[t])
    return context.venues.value(book, close[None, :]).collateral[0]


def _record(run: Run, context: Context, policy: str, date: str, holdings: Holdings, close: np.ndarray,
            state: DayState, judged: tuple, after: np.ndarray, quiet: MarketDay, carry: np.ndarray,
            exchanged: float, costs: Costs, note: str) -> None:
    collateral, requirement, ratio, fallen = judged
    for k, view in enumerate(state.accounts):
        req = float(requirement[k])
        run.accounts.append((
            date, policy, view.id, req, float(after[k]), view.collateral / req if req > 0 else np.nan,
            float(after[k]) / req if req > 0 else np.nan, view.equity, float(ratio[k]),
            bool(not fallen[k] and ratio[k] < view.warning),
            float(quiet.worst_coverage[k]) if req > 0 else np.nan, float(quiet.worst_ratio[k]),
            bool(quiet.liquidated[k]), quiet.row[k],
            float(quiet.seized[k]), float(quiet.penalty[k] + quiet.restore[k]), float(quiet.deficit[k]),
            float(quiet.pnl[k]), float(carry[k]), float(costs.by_account.get(k, 0.0)), int(costs.touched.get(k, 0))))
    run.treasury.append((
        date, policy, holdings.value(close), quiet.market_pnl, float(quiet.pnl.sum()),
        float(carry.sum()) + exchanged, exchanged, costs.transfer, costs.trading,
        float((quiet.penalty + quiet.restore).sum()), quiet.exchange_pnl, costs.steps, costs.moved, costs.traded,
        costs.steps > 0, note))
