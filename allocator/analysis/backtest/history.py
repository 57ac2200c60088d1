"""The prices a backtest lives through: every asset's daily close, intraday low and high, on the problem's scale.

Built from the market files shipped with allocator (``fixtures/market/``, read by the stress package's
``market_data``) over the calendar days from ``start - warmup_days`` to ``end``:

* each day, an asset takes the daily return of the series the stress package's proxy rules give it
  (``stress.returns.resolve``: its own file when it has a close that day and the day before, else the problem's
  ``[stress] proxies`` or the backtest's ``proxies`` argument, else the default rules of
  ``models/stress-episodes.toml``: stETH and wstETH follow ETH, a listed stablecoin follows USDC, ...); with none,
  its return that day is 0 (held at its price; ``sources`` and the notes say on which days);
* the problem's prices are **rescaled to the history at the start**: ``price(a, t) = price_a * C_a(t) / C_a(start)``
  with ``C_a`` the chained closes of the asset's series (the product of its daily ``1 + return``), so on the first
  day every asset is at the problem's price (the desk starts as the file describes it) and moves as its history
  did; no price after the start is used to set the level (no look-ahead);
* the intraday low and high of a day are ``price(a, t) * Low / Close`` and ``price(a, t) * High / Close`` of the
  same series that day (1 where it has no low or high, or on a day without data).

Equity and FX files have no weekend rows: their last close is carried over at most ``MAX_GAP_DAYS`` days (a weekend
return of 0), as the stress episodes allow. ``MarketHistory.from_frames`` takes prices as they are instead (tests,
or a desk's own data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from allocator.analysis.stress.episodes import load_episodes
from allocator.analysis.stress.market_data import daily
from allocator.analysis.stress.returns import MAX_GAP_DAYS, proxy_issues, resolve
from allocator.errors import InputError, InputIssue
from allocator.inputs.problem import Problem

#: Calendar days of history loaded before the start: the forecasts' windows (90 days) and the stressed floor's
#: (365 days) need them.
WARMUP_DAYS = 400


@dataclass(frozen=True)
class Segment:
    """A run of days on which an asset followed one series (``ticker`` None: held at its price)."""

    asset: str
    ticker: str | None
    source: str  # data, proxy, rule, constant, missing, given
    first: str
    last: str


@dataclass(frozen=True, eq=False)
class MarketHistory:
    """Daily prices (T, n) of the problem's assets, in its currency; ``start`` is the index of the first day of
    the backtest (the days before it are warm-up, seen by forecasts only)."""

    dates: pd.DatetimeIndex
    assets: tuple[str, ...]
    close: np.ndarray
    low: np.ndarray
    high: np.ndarray
    start: int
    segments: tuple[Segment, ...] = ()

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.assets))
        for name in ("close", "low", "high"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected {shape}")

    @property
    def end(self) -> int:
        return len(self.dates) - 1

    def day(self, t: int) -> str:
        return self.dates[t].date().isoformat()

    def until(self, t: int) -> MarketHistory:
        """The history up to day ``t`` included: what a policy may see on day ``t``."""
        return MarketHistory(self.dates[:t + 1], self.assets, self.close[:t + 1], self.low[:t + 1],
                             self.high[:t + 1], min(self.start, t), self.segments)

    def window(self, start: str | date | None, end: str | date | None) -> MarketHistory:
        """The days up to ``end`` with the backtest starting on ``start`` (the days before it stay as warm-up);
        InputError when a day is not in the history."""
        issues = []
        index = {}
        for name, day in (("start", start), ("end", end)):
            if day is None:
                continue
            stamp = pd.Timestamp(day)
            if stamp not in self.dates:
                issues.append(InputIssue(name, f"{stamp.date()} is not in the history ({self.dates[0].date()} .. "
                                         f"{self.dates[-1].date()})", "bad_window"))
            else:
                index[name] = int(self.dates.get_loc(stamp))
        first, last = index.get("start", self.start), index.get("end", self.end)
        if not issues and last < first:
            issues.append(InputIssue("end", f"{self.day(last)} is before start {self.day(first)}", "bad_window"))
        if issues:
            raise InputError(issues)
        return MarketHistory(self.dates[:last + 1], self.assets, self.close[:last + 1], self.low[:last + 1],
                             self.high[:last + 1], first, self.segments)

    def closes(self, asset: str) -> pd.Series:
        return pd.Series(self.close[:, self.assets.index(asset)], index=self.dates, name=asset)

    def notes(self) -> list[str]:
        """One line per asset that did not follow its own data on every day of the backtest."""
        first = self.dates[self.start]
        out = []
        for s in self.segments:
            if s.source == "data" or pd.Timestamp(s.last) < first:
                continue
            since = max(pd.Timestamp(s.first), first).date().isoformat()
            how = f"follows {s.ticker} ({s.source})" if s.ticker else f"held at its price ({s.source}: no data)"
            out.append(f"{s.asset}: {how} from {since} to {s.last}")
        return out

    @classmethod
    def from_frames(cls, close: pd.DataFrame, low: pd.DataFrame | None = None, high: pd.DataFrame | None = None,
                    start: str | date | None = None) -> MarketHistory:
        """Prices as given: one column per asset, one row per calendar day (ascending, no gaps); ``low`` and
        ``high`` default to the close. ``start``: the first backtest day (default: the first row)."""
        index = pd.DatetimeIndex(close.index)
        values = close.to_numpy(dtype=float)
        lows = values if low is None else low.reindex(index=index, columns=close.columns).to_numpy(dtype=float)
        highs = values if high is None else high.reindex(index=index, columns=close.columns).to_numpy(dtype=float)
        if not (np.all(np.isfinite(values)) and np.all(values > 0)):
            raise ValueError("every close must be a positive number")
        if len(index) > 1 and not (np.all(np.diff(index.asi8) > 0)):
            raise ValueError("the dates must be ascending and distinct")
        begin = 0 if start is None else int(index.get_loc(pd.Timestamp(start)))
        return cls(index, tuple(map(str, close.columns)), values, np.minimum(lows, values),
                   np.maximum(highs, values), begin)

    @classmethod
    def from_market(cls, problem: Problem, start: str | date, end: str | date,
                    proxies: Mapping[str, str] | None = None, warmup_days: int = WARMUP_DAYS) -> MarketHistory:
        """The problem's assets over ``start``..``end`` from the shipped market files (module docstring)."""
        begin, finish = _dates(start, end)
        merged = {**(problem.stress.proxies if problem.stress else {}), **(proxies or {})}
        _check(problem, merged, begin, finish)
        dates = pd.date_range(begin - pd.Timedelta(days=warmup_days), finish, freq="D")
        series = _Series(dates)
        rules = load_episodes()
        assets = problem.asset_ids
        ratio = np.ones((len(dates), len(assets)))
        low, high = np.ones_like(ratio), np.ones_like(ratio)
        segments = []
        for i, asset in enumerate(assets):
            runs: list[tuple[str | None, str, int]] = []
            for t in range(len(dates)):
                how = resolve(asset, lambda ticker, t=t: series.has(ticker, t), merged, rules)  # type: ignore[misc]
                if how.ticker is not None and t > 0:
                    ratio[t, i], low[t, i], high[t, i] = series.day(how.ticker, t)
                if not runs or runs[-1][:2] != (how.ticker, how.source):
                    runs.append((how.ticker, how.source, t))
            for r, (ticker, source, first) in enumerate(runs):
                last = runs[r + 1][2] - 1 if r + 1 < len(runs) else len(dates) - 1
                segments.append(Segment(asset, ticker, source, dates[first].date().isoformat(),
                                        dates[last].date().isoformat()))
        s = int(dates.get_loc(begin))
        chained = np.cumprod(ratio, axis=0)
        price = np.array([asset.price for asset in problem.assets])
        close = price * chained / chained[s]
        return cls(dates, tuple(assets), close, close * low, close * high, s, tuple(segments))


class _Series:
    """The market files' closes, lows and highs on a calendar of days, read once per ticker."""

    def __init__(self, dates: pd.DatetimeIndex) -> None:
        self.dates = dates
        self.frames: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = {}

    def _frame(self, ticker: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if ticker not in self.frames:
            frame = daily(ticker)
            if frame is None:
                self.frames[ticker] = None
            else:
                on = frame.reindex(self.dates)
                close = frame["Close"].reindex(self.dates).ffill(limit=MAX_GAP_DAYS)  # weekends of equity files
                real = on["Close"].notna()
                low = on["Low"].where(real & (on["Low"] > 0), close).fillna(close)
                high = on["High"].where(real & (on["High"] > 0), close).fillna(close)
                self.frames[ticker] = (close.to_numpy(), np.minimum(low.to_numpy(), close.to_numpy()),
                                       np.maximum(high.to_numpy(), close.to_numpy()))
        return self.frames[ticker]

    def has(self, ticker: str, t: int) -> bool:
        """Whether ``ticker`` has a close on day ``t`` and on the day before."""
        frame = self._frame(ticker)
        return frame is not None and t > 0 and bool(np.isfinite(frame[0][t]) and np.isfinite(frame[0][t - 1]))

    def day(self, ticker: str, t: int) -> tuple[float, float, float]:
        """(close / previous close, low / close, high / close) of day ``t``."""
        frame = self._frame(ticker)
        assert frame is not None
        close, low, high = frame
        return float(close[t] / close[t - 1]), float(low[t] / close[t]), float(high[t] / close[t])


def _dates(start: str | date, end: str | date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``start`` and ``end`` as days; a value that is not a date is an InputError naming it (both at once)."""
    out, issues = [], []
    for name, value in (("start", start), ("end", end)):
        try:
            out.append(pd.Timestamp(value).normalize())
        except (TypeError, ValueError) as error:
            issues.append(InputIssue(name, f"{value!r} is not a date (YYYY-MM-DD): {error}", "bad_date"))
    if issues:
        raise InputError(issues)
    return out[0], out[1]


def _check(problem: Problem, proxies: Mapping[str, str], start: pd.Timestamp, end: pd.Timestamp) -> None:
    """InputError listing every bad proxy and a window outside the market files."""
    issues = proxy_issues(problem, proxies, "proxies")
    if end < start:
        issues.append(InputIssue("end", f"{end.date()} is before start {start.date()}", "bad_window"))
    last = max((f.index[-1] for f in (daily(t) for t in ("BTC", "ETH", "USDC")) if f is not None and len(f)),
               default=None)
    if last is not None and end > last:
        issues.append(InputIssue("end", f"{end.date()} is after the last day of the market files "
                                 f"({last.date()})", "bad_window"))
    if issues:
        raise InputError(issues)
