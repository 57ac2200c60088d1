"""Volatility forecasts and haircuts as a policy sees them on a day: from the prices up to that day, never after.

The forecaster is ``allocator.venues.forecast`` (trailing, EWMA, GARCH(1,1)-t by ``arch``; a forecast for day
``d`` uses only the returns before ``d``; a stressed floor from the worst past window). A policy deciding at the
close of day ``t`` sets the haircuts it lives with on day ``t + 1``: the forecast *for* ``t + 1``, which uses the
returns up to ``t``. To have it on the last day too, each series is extended by one day at its last close (a zero
return that no forecast up to ``t + 1`` reads). A series is computed once over the whole history and served one
day at a time; since every value depends on the past only (tests/test_backtest_lookahead.py perturbs the future
and compares decisions), this is the same as computing it each day from the prices up to that day, only faster.
Assets that follow the same series (stETH and ETH) share one computation, and a process keeps the last ``KEPT``
series it computed (a batch worker sweeping policies over one window fits GARCH once).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from allocator.analysis.backtest.history import MarketHistory
from allocator.venues.forecast import DAYS_PER_YEAR, Method, forecast, log_returns, predictive_haircuts

#: The trailing window of the venues' own volatility-model haircuts (venue.py).
TRAILING_DAYS = 90
#: Haircut series kept per process (a batch worker running many policies on one history fits GARCH once).
KEPT = 64
_KEPT: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()


class Forecasts:
    """Haircut and volatility forecasts of every asset of a history, computed on demand and cached."""

    def __init__(self, history: MarketHistory) -> None:
        self.history = history
        self.cache: dict[tuple[Any, ...], np.ndarray] = {}

    def _extended(self, asset: str) -> pd.Series:
        closes = self.history.closes(asset)
        extra = pd.Series([closes.iloc[-1]], index=[closes.index[-1] + pd.Timedelta(days=1)])
        return pd.concat([closes, extra])

    def haircuts(self, t: int, method: Method, **params: Any) -> dict[str, float]:
        """Per asset, the predictive haircut for day ``t + 1`` (NaN during the warm-up of the forecaster)."""
        key = ("haircut", method, tuple(sorted(params.items())))
        if key not in self.cache:
            self.cache[key] = np.column_stack([self._haircut(asset, method, params) for asset in self.history.assets])
        return dict(zip(self.history.assets, map(float, self.cache[key][t]), strict=True))

    def _haircut(self, asset: str, method: Method, params: dict[str, Any]) -> np.ndarray:
        closes = self._extended(asset)
        returns = np.diff(np.log(closes.to_numpy()))
        if not np.any(returns):  # a constant price: nothing to forecast (and nothing for GARCH to fit)
            return np.zeros(len(returns))
        name = (method, tuple(sorted(params.items())), returns.round(12).tobytes())
        if name not in _KEPT:
            # the value for day d + 1 sits at position d of the returns' index (returns start on day 1)
            _KEPT[name] = predictive_haircuts(closes, method, **params).to_numpy()
            while len(_KEPT) > KEPT:
                _KEPT.popitem(last=False)
        _KEPT.move_to_end(name)
        return _KEPT[name]

    def volatility(self, t: int, window_days: int = TRAILING_DAYS) -> dict[str, float]:
        """Per asset, the annualised trailing volatility of the ``window_days`` returns before day ``t``."""
        key = ("trailing", window_days)
        if key not in self.cache:
            columns = []
            for asset in self.history.assets:
                closes = self.history.closes(asset)
                sigma = forecast(log_returns(closes), "trailing", window_days=window_days).to_numpy()
                columns.append(np.concatenate([[np.nan], sigma]))  # the value of day d sits at row d
            self.cache[key] = np.column_stack(columns)
        return dict(zip(self.history.assets, map(float, self.cache[key][t]), strict=True))


__all__ = ["DAYS_PER_YEAR", "Forecasts"]
