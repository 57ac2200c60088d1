"""Drift v2 weight arithmetic in the program's integers (drift-labs/protocol-v2, ``math/margin.rs``).

Units: weights and margin ratios x1e4, ``imf_factor`` x1e6, sizes x1e9 (token amounts converted from the mint's
decimals). ``s = isqrt(size * 10 + 1)`` is ``sqrt(q) * 1e5`` for ``q`` whole tokens.

* size discount of an asset weight: ``min(w, 1.1e10 // (1e6 + s * imf // 1e5))`` (real: ``1.1 / (1 + imf sqrt q)``);
* size premium of a liability weight or margin ratio: ``max(w, w - w // 5 + s * imf // 1e7)``
  (real: ``0.8 w + imf sqrt q``);
* deposit scaling of the initial asset weight once the market's deposits ``D`` reach ``S``: ``w * S // D``.
"""

from __future__ import annotations

import math
from fractions import Fraction

WEIGHT_PRECISION = 10_000
IMF_PRECISION = 1_000_000
SIZE_PRECISION = 1_000_000_000


def size_units(quantity: float) -> int:
    """Token quantity in Drift's 1e9 size precision (rounded down)."""
    return math.floor(abs(Fraction(quantity)) * SIZE_PRECISION)


def size_discount_asset_weight(size: int, imf: int, weight: int) -> int:
    if imf == 0:
        return weight
    root = math.isqrt(size * 10 + 1)
    size_weight = (1_100_000 * WEIGHT_PRECISION) // (1_000_000 + root * imf // 100_000)
    return min(weight, size_weight)


def size_premium_liability_weight(size: int, imf: int, weight: int) -> int:
    if imf == 0:
        return weight
    root = math.isqrt(size * 10 + 1)
    premium = weight - weight // 5 + root * imf // (100_000 * 1_000_000 // WEIGHT_PRECISION)
    return max(weight, premium)


def scaled_initial_asset_weight(weight: int, start: int, deposits: int) -> int:
    """``weight * start // deposits`` once ``deposits >= start > 0`` (both in the same quote units)."""
    if start > 0 and deposits >= start:
        return weight * start // deposits
    return weight


def to_weight(value: float) -> int:
    """A weight given as a fraction (0.8) in Drift's 1e4 precision."""
    return round(value * WEIGHT_PRECISION)


def to_imf(value: float) -> int:
    return round(value * IMF_PRECISION)
