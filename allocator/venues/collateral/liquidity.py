"""Liquidity-adjusted haircut: a flat haircut plus a market-impact charge growing like ``v^1.5``.

``f(v) = (1 - h) v - eta v^1.5 / sqrt(adv)``: posting ``v`` of an asset that trades ``adv`` a day (both currency)
loses ``eta * sqrt(v / adv)`` of its value on top of the haircut ``h``, the square-root impact law. ``f`` is
concave but falls after its peak at ``v_peak = adv ((1 - h) / (1.5 eta))^2``; posting more can never reduce what
one could have posted, so the credit is the highest value reached: ``value(v) = f(min(v, v_peak))``, concave and
non-decreasing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from allocator.inputs.fields import Haircut, Price, StrictModel, interval
from allocator.lazy import np
from allocator.venues.collateral.curve import as_values, breakpoints, chords_through, line

Impact = Annotated[float, AfterValidator(interval(0.0, 100.0))]


class LiquidityAdjusted(StrictModel):
    """``(1 - haircut) v - eta v^1.5 / sqrt(adv)`` up to its peak, flat after it."""

    haircut: Haircut
    eta: Impact
    adv: Price

    @property
    def peak(self) -> float:
        """Posted value where the credit stops growing (inf when ``eta = 0``)."""
        if self.eta == 0:
            return float("inf")
        return self.adv * ((1.0 - self.haircut) / (1.5 * self.eta)) ** 2

    @property
    def weight(self) -> float:
        return 1.0 - self.haircut

    @property
    def is_linear(self) -> bool:
        return self.eta == 0

    def value(self, v: float | np.ndarray) -> np.ndarray:
        capped = np.minimum(as_values(v), self.peak)
        return self.weight * capped - self.eta * capped ** 1.5 / np.sqrt(self.adv)

    def chords(self, upto: float, pieces: int = 12) -> tuple[np.ndarray, np.ndarray]:
        if self.is_linear:
            return line(self.weight)
        return chords_through(self, breakpoints(upto, pieces, (self.peak,)))
