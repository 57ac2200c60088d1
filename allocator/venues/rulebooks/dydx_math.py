"""dYdX v4 margin arithmetic in the chain's units: quote quantums (USDC x1e6) and parts per million.

Transcribes the formulas of ``x/perpetuals/lib/lib.go`` (``GetMarginRequirementsInQuoteQuantums``) and
``x/perpetuals/types/liquidity_tier.go`` (dydxprotocol/v4-chain) in exact rationals, with the chain's rounding:

* maintenance: ``ceil(ceil(N * imf) * mf)``, from the *base* initial margin fraction, which open interest does not
  move;
* initial, with open-interest scaling between the tier's caps ``L < U`` (0 = none): ``IMF = imf`` while
  ``OI <= L`` (or no caps), ``1`` once ``OI >= U``, else ``imf + (OI - L) / (U - L) * (1 - imf)``; initial margin
  ``min(ceil(N * IMF), N)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

PPM = 1_000_000
QUANTUMS_PER_USDC = 1_000_000


def maintenance_margin_ppm(initial_margin_ppm: int, maintenance_fraction_ppm: int) -> int:
    """The tier's maintenance rate in ppm (rounded down)."""
    return initial_margin_ppm * maintenance_fraction_ppm // PPM


def initial_margin_fraction(initial_margin_ppm: int, lower_cap: int, upper_cap: int,
                            open_interest: Fraction) -> Fraction:
    """The open-interest-scaled initial margin fraction, exactly (caps and OI in quote quantums)."""
    base = Fraction(initial_margin_ppm, PPM)
    if upper_cap == 0 or open_interest <= lower_cap:
        return base
    if open_interest >= upper_cap:
        return Fraction(1)
    return base + (open_interest - lower_cap) / Fraction(upper_cap - lower_cap) * (1 - base)


def adjusted_initial_margin_ppm(initial_margin_ppm: int, lower_cap: int, upper_cap: int, open_interest: int) -> int:
    """The scaled fraction in ppm, rounded down (as the chain reports it)."""
    fraction = initial_margin_fraction(initial_margin_ppm, lower_cap, upper_cap, Fraction(open_interest))
    return math.floor(fraction * PPM)


def initial_margin_quantums(notional: Fraction, initial_margin_ppm: int, lower_cap: int = 0, upper_cap: int = 0,
                            open_interest: Fraction = Fraction(0)) -> int:
    """``min(ceil(N * IMF), ceil(N))`` in quote quantums."""
    fraction = initial_margin_fraction(initial_margin_ppm, lower_cap, upper_cap, open_interest)
    return min(math.ceil(notional * fraction), math.ceil(notional))


def maintenance_margin_quantums(notional: Fraction, initial_margin_ppm: int, maintenance_fraction_ppm: int) -> int:
    """``ceil(ceil(N * imf) * mf)`` in quote quantums."""
    base = math.ceil(notional * Fraction(initial_margin_ppm, PPM))
    return math.ceil(base * Fraction(maintenance_fraction_ppm, PPM))


def notional_quantums(quantity: float, price: float) -> Fraction:
    """``|quantity| * price`` in quote quantums, exactly (from the binary floats given)."""
    return abs(Fraction(quantity)) * Fraction(price) * QUANTUMS_PER_USDC
