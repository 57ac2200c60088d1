"""Replaying a multi-period plan step by step from the problem alone, trades and delays included.

``validate_transition(problem, plan)`` returns every violation found (an empty list means valid). It reads the
problem's routes, venues, assets and schedule, not the program's arrays, so it is an independent check of
what the engine returns (the engine runs it on every plan). Per period, in the timing of docs/transition.md:

1. every transfer departs and every trade sells from the holdings at the start of the period (``overdraw``);
   each transfer uses a route that carries its asset (``route``), starts at the period's start and lands
   ``delay_hours`` later (``timing``), no later than the end of the last period once rounded up to whole periods
   (``late``); route capacities and withdrawal limits per period hold (``capacity``, ``withdrawal``);
2. no account is below its floor ``min(collateral today, requirement)`` after the departures, nor after the
   trades (``floor``);
3. each trade is at a venue trading both assets (``venue``); per venue the value bought plus every leg's fees,
   half spreads and impact is at most the value sold (``conservation``); per asset the value traded is within
   ``participation * adv * period_hours / 24`` (``participation``);
4. bought value and arrivals due are added at the period's end.

At the end every account meets its buffered requirement (``coverage``), concentration limits
(``concentration``), liquidation limits (``liquidation``) and, with ``risk`` settings, every stress scenario
(``stress``) and its parametric limit (``risk``); given a result, the holdings equal its targets (``target``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from allocator.inputs.market import marked_pnl, net_of_pnl
from allocator.inputs.problem import Problem
from allocator.plan.ledger import Ledger
from allocator.program._allocation import ROUNDING
from allocator.transition._result import TransitionResult, TransitionStep
from allocator.transition._verify import AMOUNT, LIMIT


@dataclass(frozen=True)
class TransitionViolation:
    step: int  # 0 for a period-level or end-state check
    period: int  # 0 for the end state
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"step {self.step}" if self.step else (f"period {self.period}" if self.period else "end")
        return f"{where}: {self.message}"


def _sigma(problem: Problem) -> dict[str, float]:
    vol = {a.id: a.volatility or 0.0 for a in problem.assets}
    if problem.market is not None:
        vol.update(zip(problem.market.assets, map(float, problem.market.moments[0]), strict=True))
    return {a: v / math.sqrt(365.0) for a, v in vol.items()}


def validate_transition(problem: Problem, plan: TransitionResult | Sequence[TransitionStep]
                        ) -> list[TransitionViolation]:
    schedule = problem.schedule
    if schedule is None:
        return [TransitionViolation(0, 0, "schedule", "the problem has no [schedule]")]
    steps = plan.steps if isinstance(plan, TransitionResult) else list(plan)
    hours, periods = schedule.period_hours, schedule.periods
    assets = {a.id: a for a in problem.assets}
    price = {a: asset.price for a, asset in assets.items()}
    sigma = _sigma(problem)
    terms = problem.terms
    ledger = Ledger(problem)  # the single-period plan's replay: holdings, collateral (curves too) and floors
    weights = ledger.weights

    def collateral(account: str) -> float:
        return ledger.collateral[account]

    floor = ledger.floor  # plan.ledger.account_floor: min(collateral today, requirement net of P&L)
    money = max(ledger.money_scale, 1.0)
    amount = AMOUNT * money
    size = {k: min(max(t.required, collateral(k)), money) for k, t in terms.items()}
    tolerance = {k: ROUNDING * money for k in floor}  # floors are exact (transition/_floors.py)
    routes = {(r.from_, r.to): r for r in problem.routes} if problem.routes is not None else None
    venues = {v.location: v for v in problem.venues}
    locations = set(problem.locations)
    out: list[TransitionViolation] = []
    arrivals: defaultdict[int, list[tuple[str, str, float]]] = defaultdict(list)
    by_period: defaultdict[int, list[TransitionStep]] = defaultdict(list)
    for step in steps:
        if not 1 <= step.period <= periods:
            out.append(TransitionViolation(step.step, step.period, "timing", f"period {step.period} is outside "
                                           f"1..{periods}"))
        elif step.asset not in price or (step.asset_to is not None and step.asset_to not in price):
            out.append(TransitionViolation(step.step, step.period, "route", "unknown asset"))
        elif not (math.isfinite(step.value) and step.value > 0 and math.isfinite(step.quantity)):
            out.append(TransitionViolation(step.step, step.period, "quantity", f"value {step.value!r} is not a "
                                           "positive number"))
        else:
            by_period[step.period].append(step)

    for t in range(1, periods + 1):
        start = (t - 1) * hours
        flow: defaultdict[str, float] = defaultdict(float)
        leaving: defaultdict[str, float] = defaultdict(float)
        legs: defaultdict[str, defaultdict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
        bought: list[tuple[str, str, float]] = []

        def take(step: TransitionStep, asset: str, location: str, value: float, t: int = t) -> None:
            there = ledger.available(asset, location) * price[asset]
            if value > there + amount:
                out.append(TransitionViolation(step.step, t, "overdraw", f"takes {value:,.2f} of {asset} from "
                                               f"{location!r}, which holds {there:,.2f} at the start of the "
                                               "period"))
            ledger.withdraw(asset, location, value / price[asset])

        period_steps = by_period.get(t, [])
        for step in (s for s in period_steps if s.kind == "transfer"):
            value = step.quantity * price[step.asset]
            if routes is None:
                delay = 0.0
                ok = step.from_ in locations and step.to in locations and step.from_ != step.to
                route = None
            else:
                route = routes.get((step.from_, step.to))
                ok = route is not None and route.carries(step.asset)
                delay = route.delay_hours if route is not None else 0.0
            if not ok:
                out.append(TransitionViolation(step.step, t, "route", f"no route carries {step.asset} from "
                                               f"{step.from_!r} to {step.to!r}"))
            if abs(step.start_hours - start) > 1e-9 or abs(step.arrival_hours - start - delay) > 1e-9:
                out.append(TransitionViolation(step.step, t, "timing", f"starts at {step.start_hours:g} h and lands "
                                               f"at {step.arrival_hours:g} h; expected {start:g} h and "
                                               f"{start + delay:g} h"))
            lag = max(math.ceil(delay / hours - 1e-12), 1) - 1
            if t + lag > periods:
                out.append(TransitionViolation(step.step, t, "late", f"lands after the last period "
                                               f"({start + delay:g} h)"))
            take(step, step.asset, step.from_, value)
            if route is not None and route.capacity is not None:
                flow[f"{step.from_}->{step.to}"] += value
                if flow[f"{step.from_}->{step.to}"] > route.capacity + amount:
                    out.append(TransitionViolation(step.step, t, "capacity", f"route {step.from_}->{step.to} "
                                                   f"carries {flow[f'{step.from_}->{step.to}']:,.2f} in period {t}, "
                                                   f"above its capacity {route.capacity:,.2f}"))
            limit = schedule.withdrawal_limits.get(step.from_)
            leaving[step.from_] += value
            if limit is not None and leaving[step.from_] > limit + amount:
                out.append(TransitionViolation(step.step, t, "withdrawal", f"{leaving[step.from_]:,.2f} leaves "
                                               f"{step.from_!r} in period {t}, above its limit {limit:,.2f}"))
            arrivals[t + lag].append((step.asset, step.to, value))
        _floors(out, t, "after the departures", weights, collateral, floor, tolerance)

        traded: defaultdict[str, float] = defaultdict(float)
        for step in (s for s in period_steps if s.kind == "trade"):
            venue = venues.get(step.venue or "")
            if venue is None or step.asset not in venue.assets or step.asset_to not in venue.assets \
                    or step.from_ != venue.location or step.to != venue.location:
                out.append(TransitionViolation(step.step, t, "venue", f"no venue at {step.venue!r} trades "
                                               f"{step.asset} for {step.asset_to}"))
                continue
            if abs(step.start_hours - start) > 1e-9 or abs(step.arrival_hours - start - hours) > 1e-9:
                out.append(TransitionViolation(step.step, t, "timing", "a trade runs over its whole period"))
            sold = step.quantity * price[step.asset]
            got = (step.quantity_to or 0.0) * price[step.asset_to or step.asset]
            take(step, step.asset, venue.location, sold)
            legs[venue.location][step.asset][0] += sold
            legs[venue.location][step.asset_to or step.asset][1] += got
            traded[step.asset] += sold
            traded[step.asset_to or step.asset] += got
            bought.append((step.asset_to or step.asset, venue.location, got))
        for asset, value in traded.items():
            adv = assets[asset].adv
            cap = schedule.participation * (adv or 0.0) * hours / 24.0
            if value > cap + amount:
                out.append(TransitionViolation(0, t, "participation", f"{value:,.2f} of {asset} traded in period "
                                               f"{t}, above participation x ADV = {cap:,.2f}"))
        for location, per_asset in legs.items():
            fee = venues[location].fee_bps / 1e4
            cost = 0.0
            for asset, (sold, got) in per_asset.items():
                a = assets[asset]
                k = a.impact * sigma[asset] / math.sqrt(a.adv) if a.adv else 0.0
                for value in (sold, got):
                    cost += (fee + a.spread_bps / 2e4) * value + k * value ** 1.5
            surplus = sum(s for s, _ in per_asset.values()) - sum(g for _, g in per_asset.values()) - cost
            if surplus < -amount:
                out.append(TransitionViolation(0, t, "conservation", f"venue {location!r} buys "
                                               f"{-surplus:,.2f} more than its sales pay for after costs"))
        for asset, location, value in bought:
            ledger.deposit(asset, location, value / price[asset])
        _floors(out, t, "after the trades", weights, collateral, floor, tolerance)
        for asset, location, value in arrivals.pop(t, []):
            ledger.deposit(asset, location, value / price[asset])

    held = defaultdict(float, {(a, loc): q * price[a] for (a, loc), q in ledger.quantity.items()})  # currency

    marked = marked_pnl(problem.positions, price, problem.as_of)  # positions' P&L since their last mark
    for account in problem.accounts:
        have, required = collateral(account.id), net_of_pnl(terms[account.id].required, marked.get(account.id, 0.0))
        if have < required - ROUNDING * money - AMOUNT * size[account.id]:
            out.append(TransitionViolation(0, 0, "coverage", f"{account.id} ends at {have:,.2f}, below its "
                                           f"buffered requirement {required:,.2f}"))
        for asset in terms[account.id].eligible:
            adv = assets[asset].adv
            if schedule.liquidation_days is not None and adv is not None:
                cap = schedule.participation * adv * schedule.liquidation_days
                if held[(asset, account.id)] > cap + amount:
                    out.append(TransitionViolation(0, 0, "liquidation", f"{account.id} holds "
                                                   f"{held[(asset, account.id)]:,.2f} of {asset}, more than can be "
                                                   f"sold in {schedule.liquidation_days:g} days ({cap:,.2f})"))
        for asset, limit in account.concentration.items():
            posted = weights[account.id][asset] * held[(asset, account.id)]
            if posted > limit * have + LIMIT * max(have, 1.0) + AMOUNT * size[account.id]:
                out.append(TransitionViolation(0, 0, "concentration", f"{account.id} holds {posted:,.2f} of "
                                               f"{asset}, above {limit:g} of its collateral {have:,.2f}"))
    out += _risk(problem, held, collateral, ROUNDING * money + amount)
    if isinstance(plan, TransitionResult):
        for target in plan.targets:
            have = held[(target.asset, target.location)]
            if abs(have - target.value) > amount:
                out.append(TransitionViolation(0, 0, "target", f"{target.asset} at {target.location!r}: the plan "
                                               f"ends at {have:,.2f}, the target is {target.value:,.2f}"))
    return out


def _floors(out: list[TransitionViolation], t: int, when: str, weights: dict[str, dict[str, float]],
            collateral: object, floor: dict[str, float], tolerance: dict[str, float]) -> None:
    for account in weights:
        have = collateral(account)  # type: ignore[operator]
        if have < floor[account] - tolerance[account]:
            out.append(TransitionViolation(0, t, "floor", f"{account} falls to {have:,.2f} {when} of period {t}, "
                                           f"below its floor {floor[account]:,.2f}"))


def _risk(problem: Problem, held: defaultdict[tuple[str, str], float], collateral: Callable[[str], float],
          tolerance: float) -> list[TransitionViolation]:
    """The end state's risk limits (transition/_risk.py), from the problem: after each stress scenario the
    collateral revalued plus the positions' P&L covers the requirement; collateral less z sigma does too."""
    out: list[TransitionViolation] = []
    price = {a.id: a.price for a in problem.assets}
    market = problem.market
    marked = marked_pnl(problem.positions, price, problem.as_of)
    for account in problem.accounts:
        if account.risk is None or market is None:
            continue
        terms = problem.terms[account.id]
        requirement = net_of_pnl(terms.requirement, marked.get(account.id, 0.0))  # as the program's risk rows
        positions = [p for p in problem.positions if p.account == account.id]
        for scenario in problem.stress_scenarios:
            moved = sum(float(terms.curves[a].value(max((1.0 + scenario.returns.get(a, 0.0)) * held[(a, account.id)],
                                                        0.0))) if a in terms.curves  # the curve's exact credit
                        else (1.0 - h) * (1.0 + scenario.returns.get(a, 0.0)) * held[(a, account.id)]
                        for a, h in terms.eligible.items())
            pnl = sum(p.pnl(price[p.underlying], scenario.returns.get(p.underlying, 0.0), problem.as_of)
                      for p in positions)
            if moved + pnl < requirement - tolerance:
                out.append(TransitionViolation(0, 0, "stress", f"{account.id} ends at {moved + pnl:,.2f} after "
                                               f"scenario {scenario.name!r}, below its requirement "
                                               f"{requirement:,.2f}"))
        if account.risk.parametric:
            value = np.array([held[(a, account.id)] for a in market.assets])
            exposure = np.array([sum(p.quantity * p.delta(price[a], problem.as_of) * price[a]
                                     for p in positions if p.underlying == a) for a in market.assets])
            sigma = float(np.linalg.norm(market.factor().T @ (value + exposure))) \
                * math.sqrt(account.risk.horizon_days / 365.0)
            have = collateral(account.id)
            if have - account.risk.z * sigma < requirement - tolerance:
                out.append(TransitionViolation(0, 0, "risk", f"{account.id} ends at collateral {have:,.2f} less "
                                               f"z sigma {account.risk.z * sigma:,.2f}, below its requirement "
                                               f"{requirement:,.2f}"))
    return out
