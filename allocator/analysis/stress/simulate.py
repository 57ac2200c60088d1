"""Monte Carlo stress: one day's moves drawn from the Student-t model (montecarlo.py), each revalued with
liquidations and cascades like an episode, summarised per draw and per account."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from allocator.analysis.stress.book import Book
from allocator.analysis.stress.cascade import run
from allocator.analysis.stress.episodes import EpisodeFile
from allocator.analysis.stress.liquidation import Rule
from allocator.analysis.stress.liquidity import Liquidity
from allocator.analysis.stress.montecarlo import covered, fit
from allocator.analysis.stress.report import DrawAccountRow, DrawRow, MonteCarloInfo
from allocator.analysis.stress.returns import resolve
from allocator.errors import InputError, InputIssue


def monte_carlo(book: Book, account_rules: list[Rule], market: Liquidity, proxies: Mapping[str, str],
                rules_file: EpisodeFile, end: pd.Timestamp, draws: int, seed: int, cascade: bool,
                window_days: int) -> dict[str, object]:
    """The report's ``monte_carlo``, ``draws`` and ``draw_accounts``. An asset follows its own series when its file
    spans the fitting window, else its proxy's (returns.resolve); with neither it is held at today's price."""
    assets, accounts = book.assets, book.accounts
    resolved = [resolve(a, lambda t: covered(t, end, window_days), proxies, rules_file) for a in assets]
    tickers = list(dict.fromkeys(r.ticker for r in resolved if r.ticker is not None))
    if not tickers:
        raise InputError([InputIssue("draws", "no asset of the problem (nor a proxy) has price data over the "
                                     f"{window_days} days to {end.date()}: nothing to fit", "no_history")])
    model = fit(tickers, end, window_days)
    sample = model.draw(draws, seed)
    moves = np.zeros((draws, len(assets)))
    for i, how in enumerate(resolved):
        if how.ticker is not None:
            moves[:, i] = sample[:, tickers.index(how.ticker)]
    outcome = run(book, account_rules, market, book.price * (1.0 + moves), cascade)
    total, penalty, rounds = outcome.total_loss, outcome.settlement.loss.sum(axis=1), outcome.rounds
    cascade_loss = outcome.cascade_loss
    rows = []
    for d in range(draws):
        fell, later = np.flatnonzero(outcome.round[d]), np.flatnonzero(outcome.round[d] >= 2)
        rows.append(DrawRow(draw=d, liquidated=len(fell), accounts_liquidated=[accounts[k] for k in fell],
                            cascade_accounts=[accounts[k] for k in later], rounds=int(rounds[d]),
                            market_loss=float(total[d] - penalty[d]), liquidation_loss=float(penalty[d]),
                            cascade_loss=float(cascade_loss[d]), total_loss=float(total[d])))
    per_account = [DrawAccountRow(account=account, probability_liquidated=float(np.mean(outcome.round[:, k] > 0)),
                                  probability_in_cascade=float(np.mean(outcome.round[:, k] >= 2)),
                                  expected_liquidation_loss=float(outcome.settlement.loss[:, k].mean()),
                                  expected_seized=float(outcome.settlement.seized[:, k].mean()))
                   for k, account in enumerate(accounts)]
    var_95, var_99 = (float(np.quantile(total, q)) for q in (0.95, 0.99))
    info = MonteCarloInfo(draws=draws, seed=seed, degrees_of_freedom=model.nu, window_start=model.start,
                          window_end=model.end, observations=model.observations,
                          series={a: how.ticker for a, how in zip(assets, resolved, strict=True)},
                          probability_any_liquidation=float(np.mean(rounds > 0)),
                          probability_cascade=float(np.mean(rounds >= 2)),
                          mean_total_loss=float(total.mean()), var_95=var_95, var_99=var_99,
                          expected_shortfall_99=float(total[total >= var_99].mean()))
    return {"monte_carlo": info, "draws": rows, "draw_accounts": per_account}
