"""Size-discounted weight, as Drift v2 values spot deposits (``calculate_size_discount_asset_weight``).

The weight of a deposit of ``q`` tokens is ``min(w, 1.1 / (1 + imf * sqrt(q)))``: the base weight ``w`` for small
deposits, shrinking like ``1 / sqrt(q)`` once ``1.1 / (1 + imf sqrt(q)) < w``, that is above
``q* = ((1.1 / w - 1) / imf)^2`` tokens. Because the size is in tokens, the curve over posted value ``v`` needs the
price: ``value(v) = v * min(w, 1.1 / (1 + imf sqrt(v / price)))``. It is concave and increasing
(``v / (1 + a sqrt(v))`` has derivative ``(1 + a sqrt(v) / 2) / (1 + a sqrt(v))^2``, positive and falling).

Drift computes the weight in integers (x1e4, rounded down); this curve is the real-number formula, at most 1e-4
of the value above the venue's number (see ``allocator.venues.rulebooks.drift_math`` for the integer version).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from allocator.inputs.fields import Price, StrictModel, interval
from allocator.lazy import np
from allocator.venues.collateral.curve import as_values, breakpoints, chords_through, line

#: Drift's numerator: the size weight starts at 1.1 for a zero size (``1_100_000 / 1_000_000``).
SIZE_DISCOUNT_NUMERATOR = 1.1

Weight = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Imf = Annotated[float, AfterValidator(interval(0.0, 1.0))]


class SizeDiscount(StrictModel):
    """Weight ``w`` discounted by the square root of the size in tokens, at ``price`` per token."""

    weight_base: Weight
    imf: Imf
    price: Price

    @property
    def kink(self) -> float:
        """Posted value above which the size weight binds (inf when it never does)."""
        if self.imf == 0 or self.weight_base == 0:
            return float("inf")
        root = (SIZE_DISCOUNT_NUMERATOR / self.weight_base - 1.0) / self.imf
        return self.price * root * root

    def weight_at(self, v: float | np.ndarray) -> np.ndarray:
        """The venue's weight for a posting of value ``v``."""
        values = as_values(v)
        size_weight = SIZE_DISCOUNT_NUMERATOR / (1.0 + self.imf * np.sqrt(values / self.price))
        return np.minimum(self.weight_base, size_weight)

    @property
    def weight(self) -> float:
        return self.weight_base

    @property
    def is_linear(self) -> bool:
        return self.kink == float("inf")

    def value(self, v: float | np.ndarray) -> np.ndarray:
        values = as_values(v)
        return values * self.weight_at(values)

    def chords(self, upto: float, pieces: int = 12) -> tuple[np.ndarray, np.ndarray]:
        if self.is_linear:
            return line(self.weight)
        # the curve is linear up to the kink: one chord covers it
        points = breakpoints(upto, pieces, (self.kink,))
        return chords_through(self, points[(points == 0) | (points >= min(self.kink, upto))])
