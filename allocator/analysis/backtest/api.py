"""``allocator.backtest``: rebalancing policies lived day by day through real price history (docs/backtest.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
from pydantic import ValidationError

from allocator.analysis.backtest.history import MarketHistory
from allocator.analysis.backtest.metrics import summarise
from allocator.analysis.backtest.policies import DEFAULT_POLICIES, Policy, make_policy
from allocator.analysis.backtest.result import BacktestResult
from allocator.analysis.backtest.settings import BacktestSettings
from allocator.analysis.backtest.simulation import ACCOUNT_COLUMNS, TREASURY_COLUMNS, Context, Run, simulate
from allocator.errors import InputError, InputIssue
from allocator.inputs.issues import issues_from_pydantic
from allocator.inputs.problem import Problem

PolicyLike = str | Policy | Mapping[str, Any]


def backtest(problem: Problem, start: str | date | None = None, end: str | date | None = None,
             policies: Sequence[PolicyLike] | None = None, *, history: MarketHistory | None = None,
             settings: BacktestSettings | Mapping[str, Any] | None = None, proxies: Mapping[str, str] | None = None,
             progress: Callable[[int], None] | None = None, record_holdings: bool = False) -> BacktestResult:
    """Run every policy of ``policies`` (names, Policy objects, or ``{"policy": name, **parameters}``; default:
    the six shipped) over ``start``..``end`` of the market files (or of ``history``), each from the problem's
    holdings. ``progress(n)`` is called as days are done (``days x policies`` in all). InputError lists every bad
    input at once."""
    settings = settings_of(settings, proxies)
    chosen = policies_of(policies)
    settings.check(problem)
    if history is None:
        if start is None or end is None:
            raise InputError([InputIssue("start" if start is None else "end", "is required with the market files",
                                         "missing_field")])
        history = MarketHistory.from_market(problem, start, end, settings.proxies)
    else:
        history = _aligned(problem, history).window(start, end)
    problem = _at_start(problem, history)
    context = Context.of(problem, history, settings)
    runs: list[Run] = [simulate(context, policy, progress, record_holdings) for policy in chosen]
    daily = pd.DataFrame([row for run in runs for row in run.accounts], columns=ACCOUNT_COLUMNS)
    treasury = pd.DataFrame([row for run in runs for row in run.treasury], columns=TREASURY_COLUMNS)
    start_value = float(sum(h.quantity * a.price for h in problem.holdings for a in problem.assets if a.id == h.asset))
    extra = {policy.name: {**{key: getattr(policy, key) for key in ("fallbacks", "solves") if hasattr(policy, key)},
                           **_compilations(policy), "start_value": start_value} for policy in chosen}
    summary = summarise(daily, treasury, [policy.name for policy in chosen], extra)
    notes = history.notes() + [note for run in runs for note in run.notes]
    meta = {"start": history.day(history.start), "end": history.day(history.end), "currency": problem.currency,
            "days": history.end - history.start + 1, "policies": [_describe(policy) for policy in chosen],
            "settings": settings.model_dump()}
    holdings = None
    if record_holdings:
        holdings = pd.DataFrame([(day, name, asset, location, float(units[i, j]))
                                 for run in runs for day, name, units in run.holdings
                                 for i, asset in enumerate(problem.asset_ids)
                                 for j, location in enumerate(problem.locations) if units[i, j] != 0],
                                columns=["date", "policy", "asset", "location", "quantity"])
    return BacktestResult(daily, treasury, summary, notes, meta, holdings)


def settings_of(settings: BacktestSettings | Mapping[str, Any] | None,
              proxies: Mapping[str, str] | None) -> BacktestSettings:
    try:
        chosen = settings if isinstance(settings, BacktestSettings) else BacktestSettings.model_validate(
            dict(settings or {}))
    except ValidationError as error:
        raise InputError([InputIssue(f"settings.{i.location}", i.message, i.code)
                          for i in issues_from_pydantic(error)]) from None
    if proxies:
        chosen = chosen.model_copy(update={"proxies": {**chosen.proxies, **proxies}})
    return chosen


def policies_of(policies: Sequence[PolicyLike] | None) -> list[Policy]:
    out: list[Policy] = []
    issues = []
    for i, item in enumerate(DEFAULT_POLICIES if policies is None else policies):
        try:
            if isinstance(item, str):
                out.append(make_policy(item))
            elif isinstance(item, Mapping):
                params = dict(item)
                out.append(make_policy(str(params.pop("policy", "")), **params))
            elif isinstance(item, Policy):
                out.append(item)
            else:
                issues.append(InputIssue(f"policies[{i}]", f"{type(item).__name__} is not a policy name, a Policy or "
                                         "a table with 'policy'", "bad_policy"))
        except InputError as error:
            issues += [InputIssue(f"policies[{i}]: {x.location}", x.message, x.code) for x in error.issues]
    names = [policy.name for policy in out]
    issues += [InputIssue("policies", f"two policies are named {name!r}: give one a label", "duplicate_id")
               for name in sorted({n for n in names if names.count(n) > 1})]
    if not out and not issues:
        issues.append(InputIssue("policies", "no policy to run", "empty"))
    if issues:
        raise InputError(issues)
    return out


def _aligned(problem: Problem, history: MarketHistory) -> MarketHistory:
    """``history`` with its columns in the problem's asset order; InputError naming missing assets."""
    missing = [a for a in problem.asset_ids if a not in history.assets]
    if missing:
        raise InputError([InputIssue("history", f"no prices for {', '.join(missing)}", "missing_history")])
    order = [history.assets.index(a) for a in problem.asset_ids]
    return MarketHistory(history.dates, tuple(problem.asset_ids), history.close[:, order], history.low[:, order],
                         history.high[:, order], history.start, history.segments)


def _at_start(problem: Problem, history: MarketHistory) -> Problem:
    """The problem with the first day's prices (those of the file, unless a history says otherwise)."""
    first = history.close[history.start]
    if all(asset.price == float(p) for asset, p in zip(problem.assets, first, strict=True)):
        return problem
    assets = [{**asset.model_dump(by_alias=True), "price": float(p)} for asset, p in zip(problem.assets, first,
                                                                                          strict=True)]
    return problem.with_changes(assets=assets)


def _compilations(policy: Policy) -> dict[str, int]:
    """How often a policy's compiled program was compiled (the optimized ones: once per phase, never again)."""
    engine = getattr(policy, "engine", None)
    return {"compilations": int(engine.compilations)} if engine is not None else {}


def _describe(policy: Policy) -> dict[str, Any]:
    out: dict[str, Any] = {"name": policy.name, "kind": type(policy).__name__}
    for key in ("band", "every_days", "view", "forecast"):
        if hasattr(policy, key):
            value = getattr(policy, key)
            out[key] = str(value) if key == "band" else value
    return out
