"""Black-76 values and greeks of European options on an underlying's price (no discounting: crypto options are
margined and settled in the collateral, and the rate is a second-order effect over margin horizons).

``value(F, K, T, sigma, kind)`` with ``d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt(T))``, ``d2 = d1 - sigma sqrt(T)``:
call ``F N(d1) - K N(d2)``, put ``K N(-d2) - F N(-d1)``; delta ``N(d1)`` (call) or ``N(d1) - 1`` (put); gamma
``n(d1) / (F sigma sqrt(T))``; vega ``F n(d1) sqrt(T)``. ``T`` in years (365 days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

OptionType = Literal["call", "put"]


@dataclass(frozen=True)
class Greeks:
    value: float
    delta: float
    gamma: float
    vega: float


def black76(forward: float, strike: float, years: float, volatility: float, kind: OptionType) -> Greeks:
    """Value and greeks of one option on one unit of the underlying."""
    if years <= 0 or volatility <= 0:
        intrinsic = max(forward - strike, 0.0) if kind == "call" else max(strike - forward, 0.0)
        delta = (1.0 if forward > strike else 0.0) if kind == "call" else (-1.0 if forward < strike else 0.0)
        return Greeks(intrinsic, delta, 0.0, 0.0)
    from scipy.stats import norm  # deferred: loading a problem without options never needs scipy.stats

    root = volatility * math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * root * root) / root
    d2 = d1 - root
    density = norm.pdf(d1)
    if kind == "call":
        value = forward * norm.cdf(d1) - strike * norm.cdf(d2)
        delta = norm.cdf(d1)
    else:
        value = strike * norm.cdf(-d2) - forward * norm.cdf(-d1)
        delta = norm.cdf(d1) - 1.0
    return Greeks(float(value), float(delta), float(density / (forward * root)), float(forward * density
                                                                                        * math.sqrt(years)))
