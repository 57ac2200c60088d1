"""Monte Carlo price moves: a multivariate Student-t model of daily log returns fitted to the market files.

Fit (docs/stress.md): the daily log returns of the closes on the dates every series has, the last ``window_days``
up to ``end`` (allocator.venues.estimate.daily_returns, the convention of ``[market] history``), taken with zero
mean. With ``S`` their second-moment matrix, the model is ``x = sqrt(nu / W) * A z`` with ``z`` standard normal,
``W ~ chi2(nu)`` and ``A A' = S (nu - 2) / nu`` (so the covariance of ``x`` is ``S``); ``nu`` maximises the
likelihood of the returns under scipy.stats.multivariate_t over [2.05, 100] (bounded Brent). One ``W`` per draw
makes every asset's tail heavy at once: the joint crashes a Gaussian model misses.

Draws are seeded and the same on every machine: ``A = diag(s) L`` with ``L`` the Cholesky factor of the correlation
matrix in the series' order (inputs.market.psd_cholesky: no eigen- or singular value decomposition, whose signs and
order differ between linear-algebra builds; scipy's own ``multivariate_t.rvs`` draws through numpy's
``multivariate_normal``, which factorises the shape matrix by a singular value decomposition, so it is not used to
draw), and ``z``, ``W`` from numpy's PCG64 generator, normals first. A draw's simple return is ``exp(x) - 1``
(> -1: a price stays positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.analysis.stress.market_data import daily
from allocator.errors import HistoryError
from allocator.inputs.market import psd_cholesky
from allocator.venues.estimate import daily_returns

#: Daily returns in the fit by default: three years.
WINDOW_DAYS = 1095
#: The range of degrees of freedom searched (above 2 so the variance exists).
NU_RANGE = (2.05, 100.0)


@dataclass(frozen=True, eq=False)
class StudentT:
    """A fitted multivariate Student-t model of daily log returns of ``tickers``."""

    tickers: tuple[str, ...]
    volatility: np.ndarray  # (m,) daily standard deviation of each series' log return
    correlation: np.ndarray  # (m, m)
    nu: float
    start: str  # first and last day of the returns fitted
    end: str
    observations: int

    @property
    def factor(self) -> np.ndarray:
        """``A`` with ``A A'`` the t model's shape matrix ``S (nu - 2) / nu``."""
        shape_scale = self.volatility * np.sqrt((self.nu - 2.0) / self.nu)
        return shape_scale[:, None] * psd_cholesky(self.correlation)

    def draw(self, count: int, seed: int) -> np.ndarray:
        """(count, m) simple daily returns, reproducible from ``seed``."""
        rng = np.random.default_rng(seed)
        normal = rng.standard_normal((count, len(self.tickers)))
        mixing = rng.chisquare(self.nu, count)
        log_returns = (normal @ self.factor.T) * np.sqrt(self.nu / mixing)[:, None]
        return np.expm1(log_returns)


def covered(ticker: str, end: pd.Timestamp, window_days: int) -> bool:
    """Whether ``ticker`` has a file whose closes span the whole fitting window."""
    frame = daily(ticker)
    return (frame is not None and len(frame) > 0 and frame.index[0] <= end - pd.Timedelta(days=window_days)
            and frame.index[-1] >= end)


def fit(tickers: list[str], end: pd.Timestamp, window_days: int = WINDOW_DAYS) -> StudentT:
    """The Student-t model of ``tickers`` (each with a market file) over the window ending at ``end``."""
    closes = {}
    for ticker in tickers:
        frame = daily(ticker)
        if frame is None:
            raise HistoryError(f"no market file for {ticker}", "monte carlo")
        closes[ticker] = frame["Close"]
    returns = daily_returns(closes, end.date().isoformat(), window_days)[list(tickers)]
    values = returns.to_numpy()
    second = values.T @ values / len(values)
    volatility = np.sqrt(np.diag(second))
    if np.any(volatility <= 0):
        flat = [t for t, v in zip(tickers, volatility, strict=True) if v <= 0]
        raise HistoryError(f"{', '.join(flat)} did not move in the fitting window", "monte carlo")
    correlation = second / np.outer(volatility, volatility)
    # imported for the fit only: `allocator stress` without draws never loads them (0.6 s; docs/performance.md)
    from scipy.optimize import minimize_scalar
    from scipy.stats import multivariate_t

    def negative_log_likelihood(nu: float) -> float:
        shape = second * (nu - 2.0) / nu
        return -float(np.sum(multivariate_t.logpdf(values, loc=np.zeros(len(tickers)), shape=shape, df=nu)))

    best = minimize_scalar(negative_log_likelihood, bounds=NU_RANGE, method="bounded", options={"xatol": 1e-4})
    return StudentT(tuple(tickers), volatility, (correlation + correlation.T) / 2, float(best.x),
                    returns.index[0].date().isoformat(), returns.index[-1].date().isoformat(), len(values))
