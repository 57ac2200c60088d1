"""Risk inputs: the market (volatilities and correlations), positions, stress scenarios, per-account risk settings.

``[market]`` gives annualised volatilities and a correlation matrix over a list of assets; the covariance of
returns over ``tau`` days is ``D C D * tau / 365`` (crypto trades every day). It enters the program as a factor
``F`` with ``F F' = D C D`` (from an eigen-decomposition, so a PSD matrix of deficient rank works), checked for
shape, symmetry, unit diagonal, ``|rho| <= 1`` and positive semi-definiteness (eigenvalues above -1e-8).

A position is a signed quantity of an underlying held through an account (``perp`` or ``future``: linear); its
exposure is ``quantity * price`` of the underlying, the change of the account's equity per unit return.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field
from scipy.stats import norm

from allocator.fields import Confidence, Days, Id, Return, StrictModel, Volatility

#: Eigenvalues of a correlation matrix above minus this count as non-negative (rounding in a user's matrix).
PSD_TOLERANCE = 1e-8
DAYS_PER_YEAR = 365.0


class Market(StrictModel):
    assets: list[Id] = Field(min_length=1)
    volatility: dict[Id, Volatility]
    correlation: list[list[float]]

    def factor(self) -> np.ndarray:
        """(n, n) F with F F' = annual covariance, in the order of ``assets``."""
        vol = np.array([self.volatility[a] for a in self.assets])
        covariance = np.outer(vol, vol) * np.array(self.correlation)
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
