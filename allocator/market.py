"""Risk inputs: the market (volatilities and correlations), positions, stress scenarios, per-account risk settings.

``[market]`` gives annualised volatilities and a correlation matrix over a list of assets, or a daily price
history per asset and an estimator (estimate.py) that yields them; the covariance of
returns over ``tau`` days is ``D C D * tau / 365`` (crypto trades every day). It enters the program as a factor
``F`` with ``F F' = D C D`` (from an eigen-decomposition, so a PSD matrix of deficient rank works), checked for
shape, symmetry, unit diagonal, ``|rho| <= 1`` and positive semi-definiteness (eigenvalues above -1e-8).

A position is a signed quantity of an underlying held through an account (``perp`` or ``future``: linear); its
exposure is ``quantity * price`` of the underlying, the change of the account's equity per unit return.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import Field
from scipy.stats import norm

from allocator.estimate import daily_returns, estimate, read_closes
from allocator.fields import Confidence, Days, Id, Return, StrictModel, Volatility

#: Eigenvalues of a correlation matrix above minus this count as non-negative (rounding in a user's matrix).
PSD_TOLERANCE = 1e-8
DAYS_PER_YEAR = 365.0


class Market(StrictModel):
    """Either ``volatility`` and ``correlation`` given, or ``history`` (a daily CSV per asset) and an estimator."""

    assets: list[Id] = Field(min_length=1)
    volatility: dict[Id, Volatility] | None = None
    correlation: list[list[float]] | None = None
    history: dict[Id, str] | None = None
    estimator: Literal["sample", "ewma", "ledoit-wolf"] = "ewma"
    half_life_days: Days = 30.0
    window_days: int = Field(default=365, ge=30, le=100_000)
    end: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")

    @cached_property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(annual volatilities, correlation matrix) in the order of ``assets``: given, or estimated."""
        if self.history is None:
            assert self.volatility is not None and self.correlation is not None  # checked on input
            return np.array([self.volatility[a] for a in self.assets]), np.array(self.correlation)
        closes = {asset: read_closes(self.history[asset]) for asset in self.assets}
        return estimate(daily_returns(closes, self.end, self.window_days)[self.assets], self.estimator,
                        self.half_life_days)

    def factor(self) -> np.ndarray:
        """(n, n) F with F F' = annual covariance, in the order of ``assets``."""
        vol, correlation = self.moments
        covariance = np.outer(vol, vol) * correlation
        values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
        return vectors * np.sqrt(np.clip(values, 0.0, None))

    def covariance(self) -> np.ndarray:
        factor = self.factor()
        return factor @ factor.T


class RiskSettings(StrictModel):
    """Enables the parametric limit of an account: ``collateral - z * sigma >= requirement`` over the horizon."""

    horizon_days: Days = 1.0
    confidence: Confidence = 0.99

    @property
    def z(self) -> float:
        return float(norm.ppf(self.confidence))


class Position(StrictModel):
    account: Id
    instrument: Id
    underlying: Id
    kind: Literal["perp", "future"]
    quantity: float


class StressScenario(StrictModel):
    """A named move of prices: the account must stay covered after it (collateral and positions revalued)."""

    name: Id
    returns: dict[Id, Return]
