"""Volatility-based haircuts and their anti-procyclical floor.

``haircut = clip(z * sigma * sqrt(tau / 365), floor, cap)``: the loss not exceeded with confidence ``N(z)`` over a
liquidation horizon of ``tau`` days, for an asset with annual volatility ``sigma`` (365 days: crypto trades every
day). Computed from current volatility alone, haircuts fall in calm markets and jump in a crisis, which forces
margin calls exactly when liquidity is scarce. The floor damps that: it is the same haircut computed from the
volatility of a stressed window of the price history, either a named period (``period=("2020-02-01",
"2020-04-30")``) or, by default, the worst rolling window of ``window_days`` returns. ``share`` weights the
stressed haircut in the floor (EMIR's RTS for CCPs, Art. 28(1)(b), allows a 25% weight on stressed observations as
one of its anti-procyclicality options; the default 1 uses the stressed haircut itself).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from allocator.lazy import np

if TYPE_CHECKING:
    import pandas as pd

DAYS_PER_YEAR = 365.0


def volatility_haircut(z: float, sigma_annual: float, horizon_days: float, floor: float = 0.0,
                       cap: float = 1.0) -> float:
    """``clip(z * sigma_annual * sqrt(horizon_days / 365), floor, cap)``."""
    if not (z >= 0 and sigma_annual >= 0 and horizon_days > 0 and 0 <= floor <= cap <= 1):
        raise ValueError(f"need z >= 0, sigma >= 0, horizon > 0 and 0 <= floor <= cap <= 1; got z={z}, "
                         f"sigma={sigma_annual}, horizon={horizon_days}, floor={floor}, cap={cap}")
    return float(np.clip(z * sigma_annual * math.sqrt(horizon_days / DAYS_PER_YEAR), floor, cap))


def stressed_volatility(closes: pd.Series, window_days: int = 365,
                        period: tuple[str, str] | None = None) -> float:
    """Annualised volatility of daily log returns over ``period`` (inclusive dates), or the highest over every
    rolling window of ``window_days`` returns. ``closes`` is a daily price series indexed by date."""
    import pandas as pd  # deferred: loading a problem must not load pandas (docs/cli.md, start-up)

    prices = closes.dropna().sort_index()
    returns = np.log(prices).diff().dropna()
    if period is not None:
        returns = returns.loc[pd.Timestamp(period[0]):pd.Timestamp(period[1])]
        if len(returns) < 2:
            raise ValueError(f"the period {period[0]} to {period[1]} holds {len(returns)} returns; need at least 2")
        return float(returns.std(ddof=1) * math.sqrt(DAYS_PER_YEAR))
    if len(returns) < window_days:
        raise ValueError(f"the history holds {len(returns)} returns; the window needs {window_days}")
    rolling = returns.rolling(window_days).std(ddof=1).dropna()
    return float(rolling.max() * math.sqrt(DAYS_PER_YEAR))


def stressed_floor(closes: pd.Series, z: float, horizon_days: float, window_days: int = 365,
                   period: tuple[str, str] | None = None, share: float = 1.0) -> float:
    """Anti-procyclical floor: ``share`` times the haircut computed from the stressed volatility."""
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1], not {share}")
    sigma = stressed_volatility(closes, window_days, period)
    return share * volatility_haircut(z, sigma, horizon_days)
