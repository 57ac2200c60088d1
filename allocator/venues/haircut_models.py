"""Haircut models of an account's ``haircut_models`` table: what an asset is credited as collateral, beyond a
flat haircut (docs/risk.md, "Haircut models").

* ``volatility``: a flat haircut from the market, ``h = clip(z sigma sqrt(tau / 365), floor, cap)``, with an
  optional anti-procyclical floor from a stressed period of the asset's price history (``stressed_period``);
* ``tiered``: a rate per slice of posted value, as Binance publishes collateral ratios (concave, exact as chords);
* ``size``: Drift's size-discounted weight, falling with the square root of the size in tokens;
* ``liquidity``: ``(1 - h) v - eta v^1.5 / sqrt(adv)``, a liquidity-adjusted haircut.

The last three are concave curves (allocator.venues.collateral): the program credits them through chords, never above
the curve, and the verification re-checks coverage with the exact formula.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from allocator.inputs.fields import Confidence, Day, Days, Haircut, Price, StrictModel, interval
from allocator.venues.collateral import LiquidityAdjusted, SizeDiscount, Tiered
from allocator.venues.collateral.tiered import Tier

Weight = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Fraction = Annotated[float, AfterValidator(interval(0.0, 1.0))]


class VolatilityHaircut(StrictModel):
    model: Literal["volatility"]
    confidence: Confidence = 0.99
    horizon_days: Days = 2.0
    floor: Fraction = 0.0
    cap: Fraction = 0.95
    stressed_period: list[Day] | None = Field(default=None, min_length=2, max_length=2)
    floor_share: Fraction = 1.0


class TieredHaircut(StrictModel):
    model: Literal["tiered"]
    tiers: list[Tier] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _concave(cls, tiers: list[Tier]) -> list[Tier]:
        return Tiered._concave(tiers)  # the same checks, located at the account's field

    def curve(self, price: float) -> Tiered:
        return Tiered(tiers=self.tiers)


class SizeHaircut(StrictModel):
    model: Literal["size"]
    weight: Weight
    imf: Annotated[float, AfterValidator(interval(0.0, 1.0))]

    def curve(self, price: float) -> SizeDiscount:
        return SizeDiscount(weight_base=self.weight, imf=self.imf, price=price)


class LiquidityHaircut(StrictModel):
    model: Literal["liquidity"]
    haircut: Haircut
    eta: Annotated[float, AfterValidator(interval(0.0, 100.0))]
    adv: Price

    def curve(self, price: float) -> LiquidityAdjusted:
        return LiquidityAdjusted(haircut=self.haircut, eta=self.eta, adv=self.adv)


HaircutModel = Annotated[VolatilityHaircut | TieredHaircut | SizeHaircut | LiquidityHaircut,
                         Field(discriminator="model")]
