"""The daily market files shipped with allocator (``fixtures/market/``), read by ticker for the stress test.

A ticker's file is ``<TICKER>-USD_1d.csv`` (crypto) or ``<TICKER>_1d.csv`` (equities, FX) in the market folder
(allocator.io.data_files.market_folder). Columns are read by name (``Date``, ``Close``, ``Low``, ``Volume``); a date
keeps its calendar day and drops any time and zone (``2025-02-11 00:00:00-05:00`` is 2025-02-11), as
allocator.venues.estimate.read_closes does. Rows with a missing or non-positive close are left out; a repeated date
keeps its last row. Each file is read once per process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.io.data_files import market_folder

#: Rows of a file used for an asset's ADV and daily volatility: the last 90 days up to the valuation date, as
#: fixtures/README.md computes them for derisk.toml.
LIQUIDITY_DAYS = 90


def market_file(ticker: str, folder: Path | None = None) -> Path | None:
    """The market file of ``ticker``, or None when there is none."""
    folder = folder or market_folder()
    for name in (f"{ticker}-USD_1d.csv", f"{ticker}_1d.csv"):
        path = folder / name
        if path.is_file():
            return path
    return None


@cache
def daily(ticker: str) -> pd.DataFrame | None:
    """Daily ``Close``, ``Low`` and ``Volume`` of ``ticker`` indexed by calendar day (ascending), or None without a
    file. The frame is shared: do not modify it."""
    path = market_file(ticker)
    if path is None:
        return None
    frame = pd.read_csv(path, usecols=["Date", "Close", "Low", "Volume"])
    index = pd.to_datetime(frame["Date"].astype(str).str.slice(0, 10), errors="coerce")
    out = pd.DataFrame({column: pd.to_numeric(frame[column], errors="coerce").to_numpy()
                        for column in ("Close", "Low", "Volume")}, index=index)
    out = out[out.index.notna() & (out["Close"] > 0)]
    out = out[~out.index.duplicated(keep="last")].sort_index()
    return out


def last_date(ticker: str) -> pd.Timestamp | None:
    frame = daily(ticker)
    return None if frame is None or frame.empty else frame.index[-1]


def recent(ticker: str, end: pd.Timestamp, days: int = LIQUIDITY_DAYS) -> pd.DataFrame | None:
    """The rows of the ``days`` calendar days up to ``end`` (included), or None without a file or rows there."""
    frame = daily(ticker)
    if frame is None:
        return None
    rows = frame[(frame.index > end - pd.Timedelta(days=days)) & (frame.index <= end)]
    return rows if len(rows) else None


def median_volume(ticker: str, end: pd.Timestamp) -> float | None:
    """Median daily ``Volume`` (the crypto files' volume is in USD: fixtures/README.md) over the last 90 days."""
    rows = recent(ticker, end)
    if rows is None:
        return None
    volume = rows["Volume"].dropna()
    volume = volume[volume > 0]
    return float(volume.median()) if len(volume) else None


def daily_volatility(ticker: str, end: pd.Timestamp) -> float | None:
    """Sample standard deviation of the daily log returns of the closes over the last 90 days (None if < 2)."""
    rows = recent(ticker, end)
    if rows is None:
        return None
    returns = np.log(rows["Close"]).diff().dropna()
    return float(returns.std()) if len(returns) >= 2 else None
