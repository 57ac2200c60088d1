"""The market's part of a day: intraday judgement, liquidations and their restoration, variation margin.

On day ``t`` (yesterday's close ``p0``, today's ``low``, ``high`` and ``close``), before any policy acts:

1. every account is valued with yesterday's holdings at three rows of prices, the day's lows, its highs and its
   close (every asset at its own low together, then at its high together: the stress test's intraday
   convention, which for a long book is the worst case and the high row catches short positions), its positions'
   P&L counted since yesterday's close, and judged by its venue's rule (stress.liquidation.judge). An account that
   falls at any row is liquidated at its worst row (the lowest ratio to its threshold), once that day;
2. a liquidation (stress.liquidation.seize) sells a share of the account's collateral, pro rata by value: a loan's
   venue repays part of the debt plus its penalty; a position account's positions are closed, their loss settled
   from the collateral and a fee of ``penalty x notional`` charged. The penalty is lost. The treasury then
   **restores** the account at once, at the liquidation's prices: it re-borrows the debt repaid (cash into the
   treasury: the collateral seized is exchanged for that cash, ``Holdings.exchanged``) or re-opens the same
   positions, pays ``restore_cost_bps`` of that amount, and pays any position loss the collateral could not cover
   (a deficit). So every account keeps its positions and debts and the policies stay comparable; what the
   liquidation cost is the penalty plus the restore cost (``liquidation_loss``). The margin a position account's
   liquidation settles is paid at the liquidation's price of the settlement asset, where the baseline (never
   liquidated) settles the day's at the close: those units are exchanged at the row for the ones the baseline
   pays at the close (``Holdings.exchanged``);
3. at the close, every position's P&L since it was last settled (yesterday's close, or its liquidation) is settled
   into its account (variation margin), in the account's settlement asset: a gain adds units, a loss takes them
   (the settlement asset first, then the account's other collateral pro rata by value, the venue's auto-exchange;
   beyond its collateral, the treasury pays).

The units are revalued along the path ``p0 -> low -> high -> close`` (``market_pnl``), so a liquidation at the low
sells units at the low; the units exchanged since the start (``Holdings.exchanged``, a loan's liquidation adding
to them at its row) are revalued along the same path (``exchange_pnl``: what the units given up gained less what
the units received for them gained, a cost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.analysis.backtest.books import Holdings
from allocator.analysis.backtest.venue import Venues
from allocator.analysis.stress.liquidation import judge, seize

ROWS = ("low", "high", "close")


@dataclass
class MarketDay:
    """What the market did to one policy's holdings on one day; per-account arrays are (m,)."""

    market_pnl: float
    pnl: np.ndarray  # variation margin settled (liquidation and close)
    worst_ratio: np.ndarray  # the rule's ratio at the worst row
    worst_coverage: np.ndarray  # (collateral + P&L) / requirement at the worst row
    liquidated: np.ndarray  # bool
    row: list[str | None]  # the row of each liquidation
    seized: np.ndarray  # value the venue sold
    penalty: np.ndarray  # the penalty paid
    restore: np.ndarray  # the restore cost paid
    deficit: np.ndarray  # position loss beyond the collateral, paid by the treasury
    exchange_pnl: float = 0.0  # the revaluation of the units exchanged (Holdings.exchanged) along the same path


def nothing_seized(accounts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seized, penalty, restore and deficit of a day without a liquidation."""
    return np.zeros(accounts), np.zeros(accounts), np.zeros(accounts), np.zeros(accounts)


def market_day(holdings: Holdings, venues: Venues, reference: np.ndarray, p0: np.ndarray, low: np.ndarray,
               high: np.ndarray, close: np.ndarray, haircuts: dict[int, dict[str, float]],
               settlement: np.ndarray, restore_bps: float, sizes: np.ndarray | None = None) -> MarketDay:
    """Run the market's part of the day on ``holdings`` (changed in place) and ``reference`` ((m, n), each
    account's prices at its last settlement, set to the close at the end); see the module docstring."""
    rows = np.vstack([low, high, close])
    book = venues.book(holdings.posted, holdings.elsewhere, reference, haircuts, sizes)
    valuation = venues.value(book, rows)
    accounts = len(venues.rules)
    ratio, fallen = np.zeros((3, accounts)), np.zeros((3, accounts), dtype=bool)
    for k, rule in enumerate(venues.rules):
        ratio[:, k], fallen[:, k] = judge(rule, book, k, valuation, rows)
    threshold = np.array([rule.threshold if rule.threshold > 0 else 1.0 for rule in venues.rules])
    relative = np.where(np.isnan(ratio), np.inf, ratio / threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(valuation.requirement > 0, (valuation.collateral + valuation.pnl) /
                            np.where(valuation.requirement > 0, valuation.requirement, 1.0), np.inf)
    worst = np.where(fallen.any(axis=0), np.argmin(np.where(fallen, relative, np.inf), axis=0),
                     np.argmin(relative, axis=0))
    out = MarketDay(0.0, np.zeros(accounts), ratio[worst, np.arange(accounts)], coverage.min(axis=0),
                    np.asarray(fallen.any(axis=0)), [None] * accounts,
                    *nothing_seized(accounts))
    last = p0
    for r in range(3):
        out.market_pnl += float((rows[r] - last) @ holdings.quantity.sum(axis=1))
        out.exchange_pnl += float((rows[r] - last) @ holdings.exchanged)
        last = rows[r]
        for k in map(int, np.flatnonzero(out.liquidated & (worst == r))):
            _liquidate(holdings, venues, book, valuation, ratio, reference, rows, r, k, int(settlement[k]),
                       restore_bps, out)
    for k in map(int, np.flatnonzero(out.pnl)):  # a liquidation's variation margin, as the baseline settles it
        holdings.exchanged[int(settlement[k])] += out.pnl[k] / close[int(settlement[k])]
    pnl = venues.pnl(reference, close, sizes)
    for k in map(int, np.flatnonzero(pnl)):
        _settle(holdings, int(venues.account_location[k]), float(pnl[k]), close, int(settlement[k]))
        out.pnl[k] += pnl[k]
    reference[:] = close
    return out


def _liquidate(holdings: Holdings, venues: Venues, book, valuation, ratio: np.ndarray,  # type: ignore[no-untyped-def]
               reference: np.ndarray, rows: np.ndarray, r: int, k: int, settle_in: int, restore_bps: float,
               out: MarketDay) -> None:
    rule, price, where = venues.rules[k], rows[r], int(venues.account_location[k])
    taken = seize(rule, book, k, valuation.rows(np.array([r])), rows[r:r + 1], ratio[r:r + 1, k])
    seized, penalty, covered, share = (float(x[0]) for x in (taken.seized, taken.loss, taken.covered, taken.share))
    # the collateral seized is given up for what it covers: a loan's debt, re-borrowed in cash (the carry of both
    # counts from now on), or a position account's loss, in the settlement asset (its fee: for nothing)
    received = holdings.cash if rule.loan else settle_in
    holdings.exchanged += share * holdings.quantity[:, where]
    holdings.exchanged[received] -= covered / price[received]
    holdings.quantity[:, where] *= 1.0 - share
    if rule.loan:
        holdings.receive(covered, price)  # the debt repaid, borrowed again
        restore = restore_bps / 1e4 * covered
    else:
        pnl = float(valuation.pnl[r, k])
        if pnl >= 0:
            holdings.quantity[settle_in, where] += pnl / price[settle_in]
        else:
            out.deficit[k] = max(-pnl - covered, 0.0)
            holdings.pay(out.deficit[k], price)  # what pays it is exchanged for the settlement asset owed
            holdings.exchanged[settle_in] -= out.deficit[k] / price[settle_in]
        # The baseline settles the day's variation margin at the close (it is never liquidated); settled here, at the
        # liquidation's price of the settlement asset, it is that asset's units given up (a loss) or received (a
        # gain) now against those the baseline pays or gets at the close (market_day): an exchange.
        holdings.exchanged[settle_in] -= pnl / price[settle_in]
        out.pnl[k] += pnl
        reference[k] = price  # closed and re-opened at the liquidation's prices
        restore = restore_bps / 1e4 * float(valuation.notional[r, k])
    holdings.pay(restore, price)
    out.row[k] = ROWS[r]
    out.seized[k], out.penalty[k], out.restore[k] = seized, penalty, restore


def _settle(holdings: Holdings, where: int, pnl: float, price: np.ndarray, settle_in: int) -> None:
    """Variation margin ``pnl`` into (or out of) the account at location ``where``. A loss paid in other units than
    the settlement asset's (the venue's auto-exchange, the treasury's pro rata) exchanges them for it
    (``Holdings.exchanged``); the settlement asset's own units are the hedge's P&L, not an exchange."""
    if pnl > 0:
        holdings.quantity[settle_in, where] += pnl / price[settle_in]
        return
    before = holdings.quantity.sum(axis=1)
    left = holdings.take(where, -pnl, price, settle_in)
    if left > 0:
        holdings.pay(left, price, given=False)
    holdings.exchanged += before - holdings.quantity.sum(axis=1)
    holdings.exchanged[settle_in] -= -pnl / price[settle_in]
