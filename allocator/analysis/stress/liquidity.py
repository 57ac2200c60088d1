"""The market impact of liquidation sales: the square-root law of the transition (inputs/liquidity.py).

Selling ``v`` (currency) of an asset within a day moves its price by ``-k * sigma_daily * sqrt(v / ADV)``: the
impact of the transition's law ``k sigma_daily v^1.5 / sqrt(ADV)`` per unit of value. In a cascade ``v`` is the
total the venues have sold of the asset so far, valued at today's prices (units sold x today's price), so the
price after ``r`` rounds depends only on what was sold, and more sold never raises it. The move is capped at
``MAX_IMPACT`` (a price stays positive).

Per asset, each figure and where it comes from (the report lists them):

- ``adv``: the asset's ``adv`` in the problem, else the median daily ``Volume`` of its own market file over the 90
  days to the valuation date; else none: the cascade cannot move its price (reported; give ``adv``);
- ``sigma_daily``: the problem's ``[market]`` volatility, else the asset's ``volatility``, both / sqrt(365); else
  the standard deviation of the daily log returns of its series (its own, or its proxy's) over those 90 days;
- ``k``: the asset's ``impact`` when above 0, else ``DEFAULT_IMPACT`` (the square-root law's coefficient is of order
  one in the literature; an asset's ``impact = 0`` in a problem means "not given" for the transition too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.analysis.stress.market_data import daily_volatility, median_volume
from allocator.inputs.market import DAYS_PER_YEAR
from allocator.inputs.problem import Problem

#: The impact coefficient of an asset whose ``impact`` is not given.
DEFAULT_IMPACT = 1.0
#: The largest relative price fall a cascade can cause.
MAX_IMPACT = 0.99


@dataclass(frozen=True)
class AssetLiquidity:
    asset: str
    adv: float | None
    adv_source: str
    sigma_daily: float | None
    sigma_source: str
    impact: float
    impact_source: str


@dataclass(frozen=True, eq=False)
class Liquidity:
    """Per asset (problem order): ADV, daily volatility and impact coefficient, and the impact of sales."""

    assets: tuple[AssetLiquidity, ...]
    price: np.ndarray  # (n,) today's prices: sales are valued at them

    @property
    def coefficient(self) -> np.ndarray:
        """(n,) ``k sigma_daily / sqrt(ADV)``: 0 where the ADV or the volatility is unknown."""
        return np.array([(a.impact * a.sigma_daily / np.sqrt(a.adv)) if a.adv and a.sigma_daily else 0.0
                         for a in self.assets])

    def fall(self, sold: np.ndarray) -> np.ndarray:
        """(..., n) relative price fall after selling ``sold`` units (..., n) in total."""
        value = np.maximum(sold, 0.0) * self.price
        return np.minimum(self.coefficient * np.sqrt(value), MAX_IMPACT)


def liquidity(problem: Problem, series: Mapping[str, str | None], end: pd.Timestamp) -> Liquidity:
    """The liquidity of every asset of ``problem``; ``series`` maps an asset to the ticker whose history stands for
    it (its own or a proxy's; None: none), used for the volatility only."""
    market = problem.market
    given = dict(zip(market.assets, map(float, market.moments[0]), strict=True)) if market is not None else {}
    rows = []
    for asset in problem.assets:
        adv, adv_source = asset.adv, "problem"
        if adv is None:
            adv = median_volume(asset.id, end)
            adv_source = "market data (median volume, 90 days)" if adv is not None else "none: no impact"
        if asset.id in given:
            sigma, sigma_source = given[asset.id] / np.sqrt(DAYS_PER_YEAR), "problem [market]"
        elif asset.volatility is not None:
            sigma, sigma_source = asset.volatility / np.sqrt(DAYS_PER_YEAR), "problem (asset volatility)"
        else:
            ticker = series.get(asset.id)
            sigma = daily_volatility(ticker, end) if ticker is not None else None
            sigma_source = f"market data ({ticker}, 90 days)" if sigma is not None else "none: no impact"
        impact, impact_source = (asset.impact, "problem") if asset.impact > 0 else (DEFAULT_IMPACT, "default")
        rows.append(AssetLiquidity(asset.id, adv, adv_source, None if sigma is None else float(sigma), sigma_source,
                                   float(impact), impact_source))
    return Liquidity(tuple(rows), np.array([asset.price for asset in problem.assets]))
