"""``allocator.stress``: revalue an allocation on historical episodes and Monte Carlo draws, and find who is
liquidated, by whose rule, at what cost, and what the liquidations' sales do next (docs/stress.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from allocator.analysis.stress.book import Book, Holdings, with_hedges
from allocator.analysis.stress.cascade import Outcome, run, settle
from allocator.analysis.stress.episodes import load_episodes
from allocator.analysis.stress.liquidation import Rule, rules
from allocator.analysis.stress.liquidity import liquidity
from allocator.analysis.stress.market_data import last_date, market_file
from allocator.analysis.stress.montecarlo import WINDOW_DAYS
from allocator.analysis.stress.report import (
    AccountRow,
    EpisodeRow,
    MoveRow,
    StressReport,
    SummaryRow,
)
from allocator.analysis.stress.returns import Move, episode_moves, proxy_issues, resolve
from allocator.analysis.stress.revalue import revalue
from allocator.analysis.stress.simulate import monte_carlo
from allocator.errors import InputError, InputIssue
from allocator.inputs.market import net_of_pnl
from allocator.inputs.problem import Problem
from allocator.io.data_files import market_folder
from allocator.results.result import Result
from allocator.solve._liquidation import liquidation_moves


def stress(problem: Problem, holdings: Holdings | None = "current", episodes: Sequence[str] | None = None,
           draws: int = 0, seed: int = 0, *, intraday: bool = False, cascade: bool = True,
           proxies: Mapping[str, str] | None = None, moves: Mapping[str, Mapping[str, float]] | None = None,
           window_days: int = WINDOW_DAYS) -> StressReport:
    """Stress ``holdings`` of ``problem`` ("current", a Result's targets, or (asset, location) -> units).

    ``episodes``: names in models/stress-episodes.toml (None: all of them; [] none); ``intraday``: move to each
    asset's lowest low in the window instead of the last close; ``moves``: scenarios of your own, name -> {asset:
    relative move} (assets left out stay put), reported like episodes; ``draws``: Monte Carlo draws of one day's
    moves (Student-t fitted to the ``window_days`` to the valuation date), seeded by ``seed``; ``cascade``: sell what
    liquidations seize into the market and iterate; ``proxies``: asset -> ticker (or "constant") for assets without
    data, on top of the problem's ``[stress] proxies``. Raises InputError listing every bad input at once."""
    rules_file = load_episodes()
    issues: list[InputIssue] = []

    def checked(check, *args):  # type: ignore[no-untyped-def]
        try:
            return check(*args)
        except InputError as error:
            issues.extend(error.issues)
            return None

    problem = checked(with_hedges, problem, holdings) or problem  # a result's hedges are stressed with its targets
    chosen = checked(rules_file.select, list(episodes) if episodes is not None else None) or []
    checked(_check_counts, draws, seed, window_days)
    merged, penalties = checked(_settings, problem, proxies) or ({}, {})
    taken = set(episodes) if episodes is not None else {episode.name for episode in rules_file.episodes}
    given = checked(_given, problem, moves or {}, taken) or []
    book = checked(Book.of, problem, holdings)
    if issues:
        raise InputError(issues)
    account_rules = rules(problem, penalties)
    assets = problem.asset_ids
    series = {a: resolve(a, lambda t: market_file(t) is not None, merged, rules_file).ticker for a in assets}
    end = _valuation_end(problem, {t for t in series.values() if t is not None})
    market = liquidity(problem, series, end)
    notes = [f"{row.asset}: no ADV (give the asset's adv): liquidation sales do not move its price"
             for row in market.assets if row.adv is None]
    today = settle(book, account_rules, revalue(book, book.price[None, :]), book.price[None, :])
    notes += [f"{account} is below its liquidation line already today ({rule.kind}: {today.ratio[0, k]:.4g})"
              for k, (account, rule) in enumerate(zip(book.accounts, account_rules, strict=True))
              if today.condemned[0, k]]
    label = "result" if isinstance(holdings, Result) else ("current" if holdings in (None, "current") else "given")
    report: dict[str, object] = {"currency": problem.currency, "holdings": label, "intraday": intraday,
                                 "cascade": cascade, "episodes": [EpisodeRow(**e.model_dump()) for e in chosen],
                                 "liquidity": list(market.assets)}
    scenarios = [(e.name, "intraday" if intraday else "close", episode_moves(assets, e, intraday, merged, rules_file))
                 for e in chosen] + given
    if scenarios:
        shocked = book.price * (1.0 + np.array([[m.move for m in row] for _, _, row in scenarios]))
        outcome = run(book, account_rules, market, shocked, cascade)
        distance = liquidation_moves(problem, book.quantity)
        names = [name for name, _, _ in scenarios]
        final = outcome.price / book.price - 1.0
        report["moves"] = [MoveRow(scenario=name, after_cascade=float(final[r, i]), **vars(move))
                           for r, (name, _, row) in enumerate(scenarios) for i, move in enumerate(row)]
        report["accounts"] = _account_rows(problem, book, account_rules, outcome, names, distance)
        report["summary"] = [_summary(book, account_rules, outcome, r, name, variant)
                             for r, (name, variant, _) in enumerate(scenarios)]
        notes += [f"{name}: {move.asset} {move.note}" for name, _, row in scenarios for move in row
                  if move.source == "missing"]
    if draws:
        report.update(monte_carlo(book, account_rules, market, merged, rules_file, end, draws, seed, cascade,
                                  window_days))
    report["notes"] = notes
    return StressReport.model_validate(report)


def _check_counts(draws: int, seed: int, window_days: int) -> None:
    issues = []
    for name, value, low, high in (("draws", draws, 0, 1_000_000), ("seed", seed, 0, 2**63 - 1),
                                   ("window_days", window_days, 30, 100_000)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            issues.append(InputIssue(name, f"{value!r} is not a whole number in [{low}, {high}]", f"bad_{name}"))
    if issues:
        raise InputError(issues)


def _given(problem: Problem, moves: Mapping[str, Mapping[str, float]],
           episodes: set[str]) -> list[tuple[str, str, list[Move]]]:
    """The caller's own scenarios as moves of every asset (0 where not named); InputError for unknown assets, a move
    that is not a number above -1, or a name that is also an episode's."""
    issues, out = [], []
    for name, table in moves.items():
        where = f"moves.{name}"
        if name in episodes:
            issues.append(InputIssue(where, f"{name!r} is also an episode's name", "duplicate_id"))
        if not isinstance(table, Mapping):
            issues.append(InputIssue(where, "is not a table of asset -> relative move", "not_a_table"))
            continue
        for asset, move in table.items():
            if asset not in problem.asset_ids:
                issues.append(InputIssue(f"{where}.{asset}", f"unknown asset {asset!r}", "unknown_asset"))
            if isinstance(move, bool) or not isinstance(move, int | float) or not -1.0 < move < float("inf"):
                issues.append(InputIssue(f"{where}.{asset}", f"{move!r} is not a relative move above -1",
                                         "out_of_range"))
        out.append((name, "given", [Move(a, float(table.get(a, 0.0)), "given", None, None, None, None, None)
                                    for a in problem.asset_ids]))
    if issues:
        raise InputError(issues)
    return out


def _settings(problem: Problem, proxies: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, float]]:
    """The proxies (the problem's, then the argument's) and penalties, checked against the problem."""
    settings = problem.stress
    merged = {**(settings.proxies if settings else {}), **(proxies or {})}
    penalties = dict(settings.liquidation_penalty) if settings else {}
    issues = proxy_issues(problem, merged, "stress.proxies")
    issues += [InputIssue(f"stress.liquidation_penalty.{account}", f"unknown account {account!r}", "unknown_account")
               for account in penalties if account not in problem.account_ids]
    if issues:
        raise InputError(issues)
    return merged, penalties


def _valuation_end(problem: Problem, tickers: set[str]) -> pd.Timestamp:
    """The day whose market the stress starts from (ADVs, volatilities, the Monte Carlo window): the problem's
    ``as_of``, at most the last day of the series it uses (of all market files when it uses none)."""
    days = [day for day in map(last_date, tickers or set(_all_tickers())) if day is not None]
    latest = max(days) if days else pd.Timestamp.today().normalize()
    return min(pd.Timestamp(problem.as_of), latest) if problem.as_of else latest


def _all_tickers() -> list[str]:
    return [path.name.removesuffix("_1d.csv").removesuffix("-USD") for path in market_folder().glob("*_1d.csv")]


def _account_rows(problem: Problem, book: Book, account_rules: list[Rule], outcome: Outcome, names: list[str],
                  distance: dict[str, dict[str, float | str]]) -> list[AccountRow]:
    today = revalue(book, book.price[None, :])
    rows = []
    for r, name in enumerate(names):
        state = outcome.state
        for k, account in enumerate(problem.accounts):
            pnl_total = float(state.pnl[r, k])
            requirement = float(state.requirement[r, k])
            required = float(net_of_pnl(requirement * (1.0 + account.buffer), pnl_total))
            health = float(outcome.settlement.ratio[r, k])
            far = distance.get(account.id, {})
            rows.append(AccountRow(
                scenario=name, account=account.id, mode=problem.terms[account.id].mode,
                rule=account_rules[k].kind, collateral_value_before=float(today.value[0, k]),
                collateral_value_after=float(state.value[r, k]), collateral_before=float(today.collateral[0, k]),
                collateral_after=float(state.collateral[r, k]), pnl=pnl_total - float(today.pnl[0, k]),
                requirement_before=float(today.requirement[0, k]), requirement_after=requirement,
                required_after=required, shortfall=max(required - float(state.collateral[r, k]), 0.0),
                maintenance_after=float(state.requirement_m[r, k]), equity_after=float(state.equity[r, k]),
                health=health if np.isfinite(health) else None, threshold=account_rules[k].threshold,
                liquidated=bool(outcome.round[r, k]), round=int(outcome.round[r, k]) or None,
                seized=float(outcome.settlement.seized[r, k]), liquidation_loss=float(outcome.settlement.loss[r, k]),
                liquidation_move=_number(far.get("liquidation_move")),
                market_liquidation_move=_number(far.get("market_liquidation_move"))))
    return rows


def _number(value: float | str | None) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _summary(book: Book, account_rules: list[Rule], outcome: Outcome, r: int, name: str, variant: str) -> SummaryRow:
    accounts = book.accounts
    fell = [accounts[k] for k in np.flatnonzero(outcome.round[r])]
    later = [accounts[k] for k in np.flatnonzero(outcome.round[r] >= 2)]
    ratio = outcome.settlement.ratio[r]
    relative = np.array([ratio[k] / rule.threshold if rule.threshold > 0 else ratio[k]
                         for k, rule in enumerate(account_rules)])
    finite = np.isfinite(relative)
    worst = int(np.argmin(np.where(finite, relative, np.inf))) if finite.any() else None
    liquidation = float(outcome.settlement.loss[r].sum())
    total = float(outcome.total_loss[r])
    return SummaryRow(scenario=name, variant=variant, liquidated=len(fell), accounts_liquidated=fell,
                      cascade_accounts=later, rounds=int(outcome.rounds[r]),
                      worst_account=accounts[worst] if worst is not None else None,
                      worst_health=float(relative[worst]) if worst is not None else None,
                      treasury_before=outcome.before, treasury_after=float(outcome.after[r]),
                      market_loss=total - liquidation, liquidation_loss=liquidation,
                      cascade_loss=float(outcome.cascade_loss[r]), total_loss=total)
