"""The summary of a backtest: one row per policy, from its daily rows (docs/backtest.md, "Metrics").

Money (currency, over the whole run):

* ``carry_forgone``: the income the desk gives up, every night after the first day at yesterday's close with the
  units held overnight: what the inventory with every exchange undone (the units the policy's trades and the
  venues' liquidations of loans sold put back, those they bought taken out) would earn held free at each asset's
  carry, less what the inventory as held earns (free units their carry, posted ones the account's yield). It is
  the posting part, ``sum over accounts k and assets a of (carry_a - yield_ak) x price_a x units_ak / 365`` (the
  single-period objective's carry term, docs/formulation.md, for one day), plus ``carry_exchanged``,
  ``sum over assets a of carry_a x price_a x exchanged_a / 365`` (``exchanged_a``: units of ``a`` sold minus bought
  since the start). Negative where an account pays more than the asset earns free, or an exchange earns more;
* ``transfer_cost``: every transfer's route ``cost_bps`` times its value; ``trading_cost``: every trade's fee and
  half spreads; ``liquidation_loss``: every liquidation's penalty plus the cost of restoring the account;
* ``exchange_pnl``: the market's effect of the exchanges, every day after the first along the day's path of prices
  (yesterday's close, low, high, close) with the units exchanged at each point: ``sum over assets a of
  exchanged_a x (price_a(now) - price_a(before))``, what the units given up would have gained less what the units
  received for them gained (positive when what was sold rose against what was bought);
* ``total_cost`` = carry forgone + transfer + trading + liquidation loss + exchange P&L: against the inventory of
  the first day held free, marked to market and earning its carry, what the desk has less (docs/backtest.md
  section 5, the identity; exact but for the income and price moves of the money paid as costs after it is paid).

Risk: ``liquidations`` (account-days liquidated) and ``liquidations.<account>``; ``min_coverage`` and
``p1_coverage``, the minimum and 1st percentile over account-days of the worst intraday coverage (collateral plus
the positions' P&L over the requirement, at the day's low, high or close; accounts with a requirement);
``warning_days`` (account-days whose rule ratio closed in the warning zone without a liquidation) and
``warning_days.<account>``. Activity: ``moves`` (steps: transfers and trades), ``actions`` (days with a move),
``moved_value`` and ``traded_value``, ``turnover`` = (moved + traded) / the average collateral posted (credit, all
accounts). The books: ``start_value`` and ``end_value`` of the whole inventory, ``market_pnl`` (its revaluation),
``pnl`` (the positions' variation margin), ``deficit`` (position losses beyond an account's collateral).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONEY = ["carry_forgone", "transfer_cost", "trading_cost", "liquidation_loss", "exchange_pnl"]


def summarise(daily: pd.DataFrame, treasury: pd.DataFrame, policies: list[str],
              extra: dict[str, dict[str, object]] | None = None) -> pd.DataFrame:
    """One row per policy, in the order given."""
    rows = []
    for name in policies:
        mine, books = daily[daily["policy"] == name], treasury[treasury["policy"] == name]
        row: dict[str, object] = {"policy": name, "days": len(books)}
        for column in MONEY:
            row[column] = float(books[column].sum())
        row["total_cost"] = float(sum(float(books[c].sum()) for c in MONEY))
        row["carry_exchanged"] = float(books["carry_exchanged"].sum()) if "carry_exchanged" in books else 0.0
        row["liquidations"] = int(mine["liquidated"].sum())
        coverage = mine["worst_coverage"].to_numpy(dtype=float)
        coverage = coverage[np.isfinite(coverage)]
        row["min_coverage"] = float(coverage.min()) if len(coverage) else np.nan
        row["p1_coverage"] = float(np.percentile(coverage, 1)) if len(coverage) else np.nan
        row["warning_days"] = int(mine["warning"].sum())
        row["moves"] = int(books["moves"].sum())
        row["actions"] = int(books["acted"].sum())
        row["moved_value"] = float(books["moved_value"].sum())
        row["traded_value"] = float(books["traded_value"].sum())
        posted = mine.groupby("date")["collateral"].sum().mean() if len(mine) else np.nan
        row["turnover"] = (row["moved_value"] + row["traded_value"]) / posted if posted else np.nan  # type: ignore
        row["start_value"] = float(books["value"].iloc[0] - books["market_pnl"].iloc[0]) if len(books) else np.nan
        row["end_value"] = float(books["value"].iloc[-1]) if len(books) else np.nan
        row["market_pnl"] = float(books["market_pnl"].sum())
        row["pnl"] = float(books["pnl"].sum())
        row["deficit"] = float(mine["deficit"].sum())
        for account, group in mine.groupby("account", sort=False):
            row[f"liquidations.{account}"] = int(group["liquidated"].sum())
        for account, group in mine.groupby("account", sort=False):
            row[f"warning_days.{account}"] = int(group["warning"].sum())
        row.update((extra or {}).get(name, {}))
        rows.append(row)
    return pd.DataFrame(rows)
