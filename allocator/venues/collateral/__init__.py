"""Collateral curves: how much margin credit a venue gives for a posted market value of one asset.

Every curve is concave and non-decreasing, offers ``value(v)`` (exact credit), ``chords(upto, pieces)`` (lines
whose minimum never overstates the credit on ``[0, upto]``), ``weight`` (slope at zero) and ``is_linear``.

* :class:`Flat` - one haircut;
* :class:`Tiered` - a rate per slice of posted value (Binance's collateral ratio tiers);
* :class:`SizeDiscount` - a weight shrinking with the square root of the size in tokens (Drift v2);
* :class:`LiquidityAdjusted` - a haircut plus a ``v^1.5`` market-impact charge, flat past its peak;
* :func:`volatility_haircut`, :func:`stressed_floor` - a flat haircut from volatility, with an anti-procyclical floor.
"""

from allocator.venues.collateral.curve import Curve, evaluate_chords
from allocator.venues.collateral.flat import Flat
from allocator.venues.collateral.liquidity import LiquidityAdjusted
from allocator.venues.collateral.size_discount import SizeDiscount
from allocator.venues.collateral.tiered import Tier, Tiered
from allocator.venues.collateral.volatility import stressed_floor, stressed_volatility, volatility_haircut

__all__ = ["Curve", "Flat", "LiquidityAdjusted", "SizeDiscount", "Tier", "Tiered", "evaluate_chords",
           "stressed_floor", "stressed_volatility", "volatility_haircut"]
