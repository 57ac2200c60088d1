"""Each asset's move in a historical episode, computed from the market files, and the proxy rule behind it.

Close to close: from the last close strictly before the episode's ``start`` to the last close on or before its
``end`` (inside the window), ``close_end / close_before - 1``. Intraday: from that same close to the lowest ``Low``
inside the window, ``low / close_before - 1`` (liquidations happen intraday; every asset is taken at its own low,
so the intraday variant assumes the lows coincide: a worst case). An asset has data in an episode when its file
has a close in the ``MAX_GAP_DAYS`` days before ``start`` and at least one row inside the window.

An asset without data takes a proxy's move (:func:`resolve`): first the problem's ``[stress] proxies`` (a ticker, or
``"constant"``: held at today's price on purpose), then the default rules of ``models/stress-episodes.toml``
(stETH, wstETH follow ETH; a listed stablecoin follows USDC). An asset with neither data nor a usable proxy is
held at today's price and reported as ``missing`` (the report and the CLI say so): nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from allocator.analysis.stress.episodes import Episode, EpisodeFile
from allocator.analysis.stress.market_data import daily
from allocator.inputs.stress import CONSTANT

#: The close before an episode may be at most this many days before ``start`` (weekends and holidays of equity
#: and FX files); an older one means the asset had no data then.
MAX_GAP_DAYS = 7

#: How an asset's move was obtained.
Source = Literal["data", "proxy", "rule", "constant", "missing", "given"]


@dataclass(frozen=True)
class Resolved:
    """The ticker whose data an asset takes (None: held at today's price) and why."""

    asset: str
    ticker: str | None
    source: Source
    note: str = ""


def resolve(asset: str, has_data: Callable[[str], bool], proxies: Mapping[str, str], rules: EpisodeFile) -> Resolved:
    """The series ``asset`` follows: its own data, else the user's proxy, else the file's rule, else none."""
    if has_data(asset):
        return Resolved(asset, asset, "data")
    target = proxies.get(asset)
    if target == CONSTANT:
        return Resolved(asset, None, "constant", "held at today's price ([stress] proxies)")
    if target is not None:
        if has_data(target):
            return Resolved(asset, target, "proxy", f"follows {target} ([stress] proxies)")
        return Resolved(asset, None, "missing", f"no data, and its proxy {target} has none either")
    rule = rules.default_proxy(asset)
    if rule is not None and has_data(rule):
        return Resolved(asset, rule, "rule", f"follows {rule} (models/stress-episodes.toml)")
    if rule is not None:
        return Resolved(asset, None, "missing", f"no data, and {rule} (its default proxy) has none either")
    return Resolved(asset, None, "missing", "no data and no proxy: held at today's price")


@dataclass(frozen=True)
class Move:
    """An asset's relative move in an episode, and where it came from."""

    asset: str
    move: float
    source: Source
    ticker: str | None  # the series used (the asset itself, a proxy, or None)
    base_date: str | None  # the close before the window
    base: float | None
    end_date: str | None  # the close (or the low's day) the move runs to
    end: float | None
    note: str = ""


@dataclass(frozen=True)
class Window:
    """One ticker's data in one episode window: the close before it, the last close and the lowest low inside."""

    base_date: pd.Timestamp
    base: float
    close_date: pd.Timestamp
    close: float
    low_date: pd.Timestamp
    low: float


def window(ticker: str, episode: Episode) -> Window | None:
    """The ticker's data in the episode's window, or None when it has none (see the module docstring)."""
    frame = daily(ticker)
    if frame is None:
        return None
    start, end = pd.Timestamp(episode.start), pd.Timestamp(episode.end)
    before = frame[frame.index < start]
    inside = frame[(frame.index >= start) & (frame.index <= end)]
    if before.empty or inside.empty or before.index[-1] < start - pd.Timedelta(days=MAX_GAP_DAYS):
        return None
    lows = inside["Low"].where(inside["Low"] > 0).dropna()
    if lows.empty:  # a file without lows in the window: its lowest close stands in
        lows = inside["Close"]
    return Window(before.index[-1], float(before["Close"].iloc[-1]), inside.index[-1],
                  float(inside["Close"].iloc[-1]), lows.idxmin(), float(lows.min()))


def episode_moves(assets: list[str], episode: Episode, intraday: bool, proxies: Mapping[str, str],
                  rules: EpisodeFile) -> list[Move]:
    """Every asset's move in ``episode`` (close to close, or to the intraday low), in the order of ``assets``."""
    windows: dict[str, Window | None] = {}

    def data(ticker: str) -> Window | None:
        if ticker not in windows:
            windows[ticker] = window(ticker, episode)
        return windows[ticker]

    out = []
    for asset in assets:
        how = resolve(asset, lambda ticker: data(ticker) is not None, proxies, rules)
        seen = data(how.ticker) if how.ticker is not None else None
        if seen is None:
            out.append(Move(asset, 0.0, how.source, None, None, None, None, None, how.note))
            continue
        to_date, to = (seen.low_date, seen.low) if intraday else (seen.close_date, seen.close)
        out.append(Move(asset, to / seen.base - 1.0, how.source, how.ticker, _day(seen.base_date), seen.base,
                        _day(to_date), to, how.note))
    return out


def _day(stamp: pd.Timestamp) -> str:
    return stamp.date().isoformat()
