"""``allocator rebalance``: what a scheduled job runs with today's holdings and prices (docs/backtest.md).

Today is the problem as written: its prices, its holdings, its ``as_of`` (default: the last day of the market
files). The policy sees today exactly as it sees a day of a backtest (``DayState``, built by the same code), with
the price history of the market files up to today for its forecasts, and decides. No moves: no action. Otherwise
the plan: a policy that only transfers (``optimized``, ``waterfall``, ``pro_rata``) gets the single-period plan's
safe order (``plan.order``: withdrawals only as far as each account's floor allows, splits, and the temporary
funding when no safe order exists); a policy that also trades (``all_stable``, ``isolated``) keeps its own order
(withdraw, trade, deposit), each step replayed and flagged ``needs_funding`` when it takes an account below its
floor (``min(collateral today, requirement)``). An account the plan leaves below its requirement (a book no move
can cover: the optimized policy then acts as the waterfall) is in ``shortfalls``, and ``covered`` is false.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from allocator.analysis.backtest.api import policies_of, settings_of
from allocator.analysis.backtest.books import Holdings
from allocator.analysis.backtest.history import MarketHistory
from allocator.analysis.backtest.moves import Trade, trade_rate
from allocator.analysis.backtest.settings import BacktestSettings
from allocator.analysis.backtest.simulation import Context, collateral_at, day_state
from allocator.analysis.stress.market_data import last_date
from allocator.inputs.problem import Problem
from allocator.plan.ledger import Ledger
from allocator.plan.order import order
from allocator.plan.transfers import Transfer
from allocator.results.reportable import Row
from allocator.results.result import Funding, Shortfall, Step


class TradeStep(Row):
    step: int
    kind: str = "trade"
    location: str
    sell: str
    buy: str
    quantity: float
    value: float
    cost: float


class AccountLine(Row):
    account: str
    requirement: float
    collateral: float
    coverage: float | None
    collateral_after: float
    coverage_after: float | None


class RebalancePlan(Row):
    """The decision of one policy today, and the plan that carries it out."""

    policy: str
    as_of: str
    action: bool
    reason: str = ""
    safe: bool = True
    accounts: list[AccountLine]
    steps: list[Step | TradeStep] = []
    funding: list[Funding] = []
    transfer_cost: float = 0.0
    trading_cost: float = 0.0
    covered: bool = Field(default=True, description="every account at or above its requirement after the plan (or "
                                                   "today, with no action)")
    shortfalls: list[Shortfall] = Field(default_factory=list, description="each account still below its "
                                        "requirement after the plan, and by how much (currency)")
    notes: list[str] = []

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> RebalancePlan:
        data = json.loads(text)
        data["steps"] = [TradeStep(**s) if s.get("kind") == "trade" else Step(**s) for s in data.get("steps", [])]
        return cls.model_validate(data)

    @property
    def accounts_frame(self) -> pd.DataFrame:
        return pd.DataFrame([a.model_dump() for a in self.accounts])

    @property
    def steps_frame(self) -> pd.DataFrame:
        return pd.DataFrame([s.model_dump(by_alias=True) for s in self.steps])


def rebalance(problem: Problem, policy: str | Any = "optimized", *,
              settings: BacktestSettings | Mapping[str, Any] | None = None,
              proxies: Mapping[str, str] | None = None, **params: Any) -> RebalancePlan:
    """Decide today's moves for ``problem`` by ``policy`` (a name, with ``params``, or a Policy object)."""
    chosen = settings_of(settings, proxies)
    chosen.check(problem)
    (decider,) = policies_of([{"policy": policy, **params} if isinstance(policy, str) else policy])
    today = _today(problem)
    history = MarketHistory.from_market(problem, today, today, chosen.proxies)
    context = Context.of(problem, history, chosen)
    holdings = Holdings.of(problem, context.venues.account_location, context.cash)
    state, judged = day_state(context, holdings, history.end, None)
    state = replace(state, first=False)  # today is not the start of anything: the policy acts on its triggers
    moves = decider.decide(state)
    notes = list(history.notes())
    if problem.as_of is None or pd.Timestamp(problem.as_of) != pd.Timestamp(today):
        notes.append(f"forecasts from the market files up to {today} (the problem's as_of is "
                     f"{problem.as_of or 'not given'})")
    before = judged[0]
    after_holdings = holdings.copy()
    costs = after_holdings.apply(moves.steps, state.price, context.router, chosen.trade_fee_bps, decider.name) \
        if moves else None
    after = collateral_at(context, after_holdings, history.end) if moves else before
    lines = [AccountLine(account=a.id, requirement=a.requirement, collateral=float(before[k]),
                         coverage=_ratio(before[k], a.requirement), collateral_after=float(after[k]),
                         coverage_after=_ratio(after[k], a.requirement)) for k, a in enumerate(state.accounts)]
    short = _shortfalls(lines)
    if not moves:
        return RebalancePlan(policy=decider.name, as_of=today, action=False, accounts=lines, covered=not short,
                             shortfalls=short, notes=notes)
    steps, funding = _plan(problem, moves.steps, state.price, chosen)
    assert costs is not None
    return RebalancePlan(policy=decider.name, as_of=today, action=True, reason=moves.note,
                         safe=not funding and not any(getattr(s, "needs_funding", False) for s in steps),
                         accounts=lines, steps=steps, funding=funding, transfer_cost=costs.transfer,
                         trading_cost=costs.trading, covered=not short, shortfalls=short, notes=notes)


def _today(problem: Problem) -> str:
    latest = last_date("BTC")
    if problem.as_of is None:
        return latest.date().isoformat() if latest is not None else pd.Timestamp.today().date().isoformat()
    day = pd.Timestamp(problem.as_of)
    return (min(day, latest) if latest is not None else day).date().isoformat()


def _shortfalls(lines: list[AccountLine]) -> list[Shortfall]:
    """Each account whose collateral after the plan is below its requirement (beyond 1e-9 of it)."""
    return [Shortfall(account=line.account, amount=line.requirement - line.collateral_after) for line in lines
            if line.requirement - line.collateral_after > 1e-9 * max(line.requirement, 1.0)]


def _ratio(collateral: float, requirement: float) -> float | None:
    return float(collateral / requirement) if requirement > 0 else None


def _plan(problem: Problem, steps: tuple[Any, ...], price: np.ndarray,
          settings: BacktestSettings) -> tuple[list[Step | TradeStep], list[Funding]]:
    """The steps in a safe order (transfers only), or in the policy's order with each step's safety replayed."""
    transfers = [s for s in steps if isinstance(s, Transfer)]
    if len(transfers) == len(steps):
        ordered = order(Ledger(problem), [Transfer(t.asset, t.source, t.destination, t.quantity) for t in transfers])
        return list(ordered.steps), list(ordered.funding)
    ledger = Ledger(problem)
    assets = problem.asset_ids
    out: list[Step | TradeStep] = []
    funding: list[Funding] = []
    pending = list(steps)
    while pending:
        ready = [s for s in pending if _held(ledger, s)]
        safe = [s for s in ready if not _breaks_floor(ledger, s)]
        step = (safe or ready or pending)[0]  # forced (needs funding) when nothing else can run
        pending.remove(step)
        number = len(out) + 1
        if isinstance(step, Trade):
            value = step.quantity * float(price[assets.index(step.sell)])
            rate = trade_rate(problem, step.location, step.sell, step.buy, settings.trade_fee_bps)
            bought = value * (1.0 - rate) / float(price[assets.index(step.buy)])
            ledger.quantity[(step.sell, step.location)] -= step.quantity
            ledger.quantity[(step.buy, step.location)] += bought
            out.append(TradeStep(step=number, location=step.location, sell=step.sell, buy=step.buy,
                                 quantity=step.quantity, value=value, cost=value * rate))
            continue
        rate = 0.0 if problem.route_rates is None else problem.route_rates[(step.source, step.destination, step.asset)]
        value = step.quantity * ledger.price[step.asset]
        short = not safe
        ledger.apply(step.asset, step.source, step.destination, step.quantity)
        out.append(Step(step=number, asset=step.asset, from_=step.source, to=step.destination, quantity=step.quantity,
                        value=value, cost=value * rate, needs_funding=short))
        if short and ledger.is_account(step.source) and ledger.deficit(step.source) > 0:
            # what the account lacks below its floor after the step: the bridge the desk must fund first (as
            # plan.order reports for a transfer-only plan)
            funding.append(Funding(step=number, account=step.source, amount=ledger.deficit(step.source)))
    return out, funding


def _held(ledger: Ledger, step: Transfer | Trade) -> bool:
    asset, where = (step.sell, step.location) if isinstance(step, Trade) else (step.asset, step.source)
    return ledger.quantity[(asset, where)] >= step.quantity * (1 - 1e-9)


def _breaks_floor(ledger: Ledger, step: Transfer | Trade) -> bool:
    """A withdrawal that would take its account below its floor."""
    if isinstance(step, Trade) or not ledger.is_account(step.source):
        return False
    weight = ledger.weights[step.source].get(step.asset, 0.0)
    after = ledger.collateral[step.source] - weight * ledger.price[step.asset] * step.quantity
    return after < ledger.floor[step.source] - ledger.floor_tolerance[step.source]
