"""Volatilities and correlations estimated from daily price history (for ``[market] history``).

Returns are daily log returns of the closes, on the dates every asset has, over the last ``window_days`` returns up
to ``end``. Estimators:

* ``sample``: the sample covariance;
* ``ewma``: exponentially weighted, zero-mean (RiskMetrics style), weight ``0.5 ** (age / half_life_days)``;
* ``ledoit-wolf``: sample volatilities, and the correlation of the standardised returns shrunk towards the
  identity by scikit-learn's ``LedoitWolf`` (shrinkage chosen by Ledoit and Wolf's formula), which keeps a short
  window well conditioned. Standardising first matters: shrinking raw returns towards a scaled identity would
  lend a stablecoin the average variance of the book.

The covariance is annualised with 365 days (crypto trades every day) and split into volatilities and a
correlation matrix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from allocator.errors import HistoryError
from allocator.lazy import np

if TYPE_CHECKING:
    import pandas as pd

DAYS_PER_YEAR = 365.0
MIN_RETURNS = 30


def read_closes(path: str | Path) -> pd.Series:
    """Daily closes indexed by calendar date, from a CSV with ``Date`` and ``Close`` columns (time zones dropped)."""
    import pandas as pd  # deferred: loading a problem must not load pandas (docs/cli.md, start-up)

    try:
        frame = pd.read_csv(path, usecols=["Date", "Close"])
    except FileNotFoundError:
        raise HistoryError(f"no file {str(path)!r}") from None
    except (ValueError, OSError) as error:
        raise HistoryError(f"cannot read {str(path)!r} as a CSV with Date and Close columns: {error}") from None
    dates = pd.to_datetime(frame["Date"].astype(str).str.slice(0, 10), errors="coerce")
    closes = pd.Series(pd.to_numeric(frame["Close"], errors="coerce").to_numpy(), index=dates).dropna()
    closes = closes[closes > 0]
    if closes.empty:
        raise HistoryError(f"{str(path)!r} has no positive closes")
    return closes[~closes.index.duplicated(keep="last")].sort_index()


def daily_returns(closes: dict[str, pd.Series], end: str | None, window_days: int) -> pd.DataFrame:
    """Aligned daily log returns, the last ``window_days`` up to ``end``; HistoryError if fewer than 30."""
    import pandas as pd  # deferred: loading a problem must not load pandas (docs/cli.md, start-up)

    prices = pd.DataFrame(closes).dropna()
    if end is not None:
        prices = prices[prices.index <= pd.Timestamp(end)]
    returns = np.log(prices).diff().dropna().iloc[-window_days:]
    if len(returns) < MIN_RETURNS:
        raise HistoryError(f"only {len(returns)} daily returns on the dates every asset has (at least "
                           f"{MIN_RETURNS} are needed)")
    return returns


def estimate(returns: pd.DataFrame, estimator: str, half_life_days: float) -> tuple[np.ndarray, np.ndarray]:
    """(annual volatilities, correlation matrix) of the columns of ``returns``."""
    values = returns.to_numpy()
    if estimator == "sample":
        covariance = np.cov(values, rowvar=False)
    elif estimator == "ewma":
        age = np.arange(len(values))[::-1]
        weight = 0.5 ** (age / half_life_days)
        covariance = (values * weight[:, None]).T @ values / weight.sum()
    elif estimator == "ledoit-wolf":  # on standardised returns, so a stablecoin's tiny variance is not inflated
        from sklearn.covariance import LedoitWolf

        spread = values.std(axis=0, ddof=1)
        spread = np.where(spread > 0, spread, 1.0)
        shrunk = LedoitWolf().fit(values / spread).covariance_
        diagonal = np.sqrt(np.diag(shrunk))
        covariance = shrunk / np.outer(diagonal, diagonal) * np.outer(spread, spread)
    else:  # pragma: no cover - the input model allows only the three names
        raise ValueError(f"unknown estimator {estimator!r}")
    covariance = np.atleast_2d(covariance) * DAYS_PER_YEAR
    volatility = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    scale = np.where(volatility > 0, volatility, 1.0)
    correlation = covariance / np.outer(scale, scale)
    np.fill_diagonal(correlation, 1.0)
    return volatility, np.clip((correlation + correlation.T) / 2, -1.0, 1.0)
