"""Volatility forecasts for predictive haircuts, with no look-ahead.

A forecast for day ``d`` is the annualised volatility of day ``d``'s log return, computed from the returns of the
days before ``d`` only (the forecast a desk has at the close of ``d - 1``, when it sets the haircuts it will live
with during ``d``). Three methods:

* ``trailing``: the sample standard deviation of the last ``window_days`` returns (what a reactive haircut uses);
* ``ewma``: RiskMetrics, ``s2[d] = lam * s2[d-1] + (1 - lam) * r[d-1]^2`` with ``lam = 0.5 ** (1 / half_life)``,
  started at the sample variance of the first ``window_days`` returns;
* ``garch``: GARCH(1,1) with Student-t innovations, fitted by the well-kept ``arch`` package (Sheppard) on the
  returns before a refit date and re-fitted every ``refit_days``; between refits the fitted parameters filter
  each new return (``s2[d] = omega + alpha r[d-1]^2 + beta s2[d-1]``), so a day's forecast never sees its own or
  a later return. Re-fitting every day changes forecasts by a few per cent and costs 20x the time.

The first ``window_days`` days (the warm-up) have no forecast (NaN). Daily volatilities are annualised with 365
days (crypto trades every day); the same convention as allocator/venues/estimate.py.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import pandas as pd

from allocator.venues.collateral.volatility import volatility_haircut

DAYS_PER_YEAR = 365.0
Method = Literal["trailing", "ewma", "garch"]


def log_returns(closes: pd.Series) -> pd.Series:
    """Daily log returns, indexed by the day they end on."""
    prices = closes.dropna().sort_index()
    return np.log(prices).diff().dropna()


def forecast(returns: pd.Series, method: Method = "ewma", *, window_days: int = 90, half_life_days: float = 30.0,
             refit_days: int = 21) -> pd.Series:
    """Annualised volatility forecast for each day of ``returns``' index, from the returns before it (NaN during
    the first ``window_days`` days)."""
    r = returns.to_numpy(dtype=float)
    n = len(r)
    out = np.full(n, np.nan)
    if n <= window_days:
        return pd.Series(out, index=returns.index)
    if method == "trailing":
        rolling = returns.rolling(window_days).std(ddof=1).shift(1)
        return rolling * math.sqrt(DAYS_PER_YEAR)
    if method == "ewma":
        lam = 0.5 ** (1.0 / half_life_days)
        variance = float(np.var(r[:window_days], ddof=1))
        for d in range(window_days, n):
            out[d] = variance
            variance = lam * variance + (1.0 - lam) * r[d] ** 2
        return pd.Series(np.sqrt(out * DAYS_PER_YEAR), index=returns.index)
    if method == "garch":
        return pd.Series(np.sqrt(_garch_variance(r, window_days, refit_days) * DAYS_PER_YEAR), index=returns.index)
    raise ValueError(f"unknown forecast method {method!r}: trailing, ewma or garch")


def _garch_variance(r: np.ndarray, window_days: int, refit_days: int) -> np.ndarray:
    """Daily variance forecasts: GARCH(1,1)-t fitted on r[:d] at every refit day d, filtered in between."""
    from arch import arch_model  # a well-kept GARCH implementation; imported only when asked for

    n = len(r)
    out = np.full(n, np.nan)
    scaled = 100.0 * r  # arch fits best with returns in per cent
    omega = alpha = beta = math.nan
    variance = float(np.var(scaled[:window_days], ddof=1))
    for d in range(window_days, n):
        if (d - window_days) % refit_days == 0:
            with warnings.catch_warnings():  # convergence chatter: the fit's result is checked below
                warnings.simplefilter("ignore")
                fit = arch_model(scaled[:d], mean="Zero", vol="GARCH", p=1, q=1, dist="t", rescale=False).fit(
                    disp="off", show_warning=False)
            params = fit.params
            omega, alpha, beta = float(params["omega"]), float(params["alpha[1]"]), float(params["beta[1]"])
            conditional = np.asarray(fit.conditional_volatility, dtype=float)
            # the variance forecast for day d from the data before it: one step of the recursion from d - 1
            variance = omega + alpha * scaled[d - 1] ** 2 + beta * conditional[-1] ** 2
        out[d] = variance
        variance = omega + alpha * scaled[d] ** 2 + beta * variance
    return out / 1e4


def stressed(returns: pd.Series, window_days: int = 365) -> pd.Series:
    """For each day, the highest annualised volatility over any window of ``window_days`` returns before it (the
    anti-procyclical floor's volatility, collateral/volatility.py, with only the past known); NaN before the first
    full window."""
    rolling = returns.rolling(window_days).std(ddof=1) * math.sqrt(DAYS_PER_YEAR)
    return rolling.cummax().shift(1)


def predictive_haircuts(closes: pd.Series, method: Method = "ewma", *, confidence: float = 0.99,
                        horizon_days: float = 2.0, floor_share: float = 1.0, cap: float = 0.95,
                        window_days: int = 90, stressed_window_days: int = 365, half_life_days: float = 30.0,
                        refit_days: int = 21) -> pd.Series:
    """The haircut of each day, ``clip(z * sigma_forecast * sqrt(horizon / 365), floor, cap)`` (the volatility
    model's formula, collateral/volatility.py), with the forecast and the stressed floor both from the days
    before (``floor = floor_share * haircut(stressed volatility)``; no floor until a stressed window exists)."""
    from scipy.stats import norm

    returns = log_returns(closes)
    sigma = forecast(returns, method, window_days=window_days, half_life_days=half_life_days, refit_days=refit_days)
    worst = stressed(returns, stressed_window_days)
    z = float(norm.ppf(confidence))
    values = []
    for s, w in zip(sigma.to_numpy(), worst.to_numpy(), strict=True):
        if math.isnan(s):
            values.append(math.nan)
            continue
        floor = 0.0 if math.isnan(w) else min(floor_share * volatility_haircut(z, w, horizon_days), cap)
        values.append(volatility_haircut(z, s, horizon_days, floor=floor, cap=cap))
    return pd.Series(values, index=returns.index, name=f"haircut_{method}")
