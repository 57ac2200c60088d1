"""The day-by-day series a backtest's report charts, read off ``BacktestResult.daily`` and ``.treasury``, and how a
long series is thinned to the chart's budget of points without hiding what matters.

* **Lowest coverage** of a policy on a day: the minimum over its accounts with a requirement of the worst
  intraday coverage (``worst_coverage``: at the day's low, high or close, the figure ``min_coverage`` and
  ``p1_coverage`` summarise); on the first day, which has no market move, the coverage at the close.
* **Cumulative cost** of a policy by part: carry forgone, transfer, trading and liquidation loss summed from the
  first day; their sum on the last day is the summary's ``total_cost``.

Thinning keeps the last day exactly and every ``step``-th day before it; a thinned coverage point is the lowest of
the days it stands for (a dip is never smoothed away), a thinned cumulative cost is its value on the day it stands
at (exact there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The cost parts of a backtest (``metrics.MONEY``), in the order they are stacked, with their labels.
PARTS = {"carry_forgone": "carry forgone", "transfer_cost": "transfer", "trading_cost": "trading",
         "liquidation_loss": "liquidation loss", "exchange_pnl": "exchange P&L"}

DAY_MS = 86_400_000  # a date axis counts in milliseconds


def policies(daily: pd.DataFrame, treasury: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """The policies in the summary's order (then any only in the daily rows)."""
    names = [*summary.get("policy", []), *treasury.get("policy", []), *daily.get("policy", [])]
    return list(dict.fromkeys(map(str, names)))


def lowest_coverage(daily: pd.DataFrame, policy: str, account: str | None = None) -> pd.Series:
    """The policy's lowest coverage per day (module docstring), over its accounts or of one ``account``; days
    with no account under a requirement are NaN."""
    rows = daily[daily["policy"] == policy]
    if account is not None:
        rows = rows[rows["account"] == account]
    worst = rows["worst_coverage"].where(np.isfinite(rows["worst_coverage"]), rows["coverage"])
    worst = worst.where(np.isfinite(worst))
    return worst.groupby(rows["date"].astype(str), sort=True).min()


def recorded_parts(frame: pd.DataFrame) -> dict[str, str]:
    """The cost parts (``PARTS``) that ``frame`` has a column for. A result saved before a part existed
    (``exchange_pnl`` came later) lacks its column: the report leaves that part out and says so, never shows it
    as zero."""
    return {part: label for part, label in PARTS.items() if part in frame.columns}


def cumulative_costs(treasury: pd.DataFrame, policy: str) -> pd.DataFrame:
    """The policy's recorded cost parts (``recorded_parts``) summed from the first day, one row per day (by date),
    and their ``total``."""
    rows = treasury[treasury["policy"] == policy].sort_values("date")
    parts = list(recorded_parts(treasury))
    frame = rows[parts].cumsum()
    frame.index = rows["date"].astype(str).to_numpy()
    frame["total"] = frame[parts].sum(axis=1)
    return frame


@dataclass(frozen=True)
class Thinned:
    """A daily series at every ``step``-th day ending on the last: the first shown day ``x0`` and the values."""

    x0: str
    step: int
    values: list[float | None]

    @property
    def dx(self) -> int:
        return self.step * DAY_MS


def thin_step(days: int, marks: int) -> int:
    """How many days each point stands for so that ``days`` fit in ``marks`` points."""
    return max(1, math.ceil(days / max(marks, 1)))


def _kept(days: int, step: int) -> list[int]:
    return list(range(days - 1, -1, -step))[::-1]


def thin_lowest(series: pd.Series, step: int, digits: int = 4) -> Thinned:
    """Coverage at every ``step``-th day ending on the last, each point the lowest of the days since the previous
    point (NaN days ignored; None where all were NaN)."""
    kept = _kept(len(series), step)
    if not kept:
        return Thinned("", step, [])
    bucket = np.searchsorted(np.asarray(kept), np.arange(len(series)))  # the point each day belongs to
    lows = pd.Series(series.to_numpy(dtype=float)).groupby(bucket).min().reindex(range(len(kept)))
    values = [None if pd.isna(low) else round(float(low), digits) for low in lows]
    return Thinned(str(series.index[kept[0]]), step, values)


def thin_at(series: pd.Series, step: int) -> Thinned:
    """A cumulative series at every ``step``-th day ending on the last, rounded to cents."""
    kept = _kept(len(series), step)
    values: list[float | None] = [round(float(series.iloc[i]), 2) for i in kept]
    return Thinned(str(series.index[kept[0]]) if kept else "", step, values)


def liquidations(daily: pd.DataFrame) -> pd.DataFrame:
    """Every liquidation: date, policy, account, the row of prices it happened at, its worst coverage, what the
    venue seized, the penalty and restore cost, a deficit."""
    rows = daily[daily["liquidated"].astype(bool)]
    columns = ["date", "policy", "account", "liquidation_row", "worst_coverage", "seized", "liquidation_loss",
               "deficit"]
    return rows[columns].reset_index(drop=True)


def warning_days(daily: pd.DataFrame) -> pd.DataFrame:
    """Per policy and account with a warning day: how many account-days closed in the rule's warning zone, the
    first and the last such day."""
    rows = daily[daily["warning"].astype(bool)]
    if not len(rows):
        return pd.DataFrame(columns=["policy", "account", "days", "first", "last"])
    grouped = rows.groupby(["policy", "account"], sort=False)["date"]
    frame = grouped.agg(days="count", first="min", last="max").reset_index()
    return frame
