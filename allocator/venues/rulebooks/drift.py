"""Drift v2: spot asset and liability weights with size effects, perp margin ratios with a size premium.

Total collateral ``sum q_i p_i w_i(q_i)`` with the asset weight discounted by size (drift_math.py), against the
requirement ``sum borrowed q p lw(q) + sum |perp q| p mr(q)``. ``basis="initial"`` uses the initial weights
(optionally scaled down by the market's total deposits, which depend on all users and are passed in), and
``"maintenance"`` the maintenance ones; the size effects apply to both (the code version pinned in the file).
``collateral_value`` is the program's integer formula; ``collateral_curve`` its real-number form, at most 1e-4 of
the value above it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from allocator.inputs.fields import Id, Money, StrictModel, interval
from allocator.inputs.market import Position
from allocator.venues.collateral import SizeDiscount
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks import drift_math as dm
from allocator.venues.rulebooks.base import (
    Basis,
    Day,
    Header,
    Rulebook,
    check_amount,
    common,
    net_linear,
    price_of,
    resolve,
)

Weight = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Liability = Annotated[float, AfterValidator(interval(1.0, 10.0))]
Imf = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Ratio = Annotated[float, AfterValidator(interval(0.0, 1.0, low_open=True))]


class SpotMarket(StrictModel):
    asset: Id | None = None
    initial_asset_weight: Weight
    maintenance_asset_weight: Weight
    initial_liability_weight: Liability
    maintenance_liability_weight: Liability
    imf_factor: Imf
    scale_initial_asset_weight_start: Money | None = None


class PerpMarket(StrictModel):
    margin_ratio_initial: Ratio
    margin_ratio_maintenance: Ratio
    imf_factor: Imf


class DriftFile(Header):
    kind: Literal["drift-v2"]
    spot_markets: dict[Id, SpotMarket] = Field(min_length=1)
    perp_markets: dict[Id, PerpMarket] = {}


class DriftRulebook(Rulebook):
    kind = "drift-v2"
    spec_model = DriftFile
    spec: DriftFile

    @property
    def collateral_assets(self) -> tuple[str, ...]:
        return common(self.spec.spot_markets)

    def spot(self, asset: str) -> SpotMarket:
        key = resolve(self.spec.spot_markets, asset)
        if key is None:
            raise self.unknown("spot market", asset, self.collateral_assets)
        return self.spec.spot_markets[key]

    def _base_weight(self, market: SpotMarket, basis: Basis, total_deposits: float | None) -> int:
        if basis == "maintenance":
            return dm.to_weight(market.maintenance_asset_weight)
        weight = dm.to_weight(market.initial_asset_weight)
        if market.scale_initial_asset_weight_start and total_deposits is not None:
            weight = dm.scaled_initial_asset_weight(weight, round(market.scale_initial_asset_weight_start * 1e6),
                                                    round(total_deposits * 1e6))
        return weight

    def asset_weight(self, asset: str, quantity: float, basis: Basis = "maintenance",
                     total_deposits: float | None = None) -> float:
        """The program's weight for a deposit of ``quantity`` tokens (``total_deposits``: the market's, in USD)."""
        market = self.spot(asset)
        base = self._base_weight(market, basis, total_deposits)
        weight = dm.size_discount_asset_weight(dm.size_units(quantity), dm.to_imf(market.imf_factor), base)
        return weight / dm.WEIGHT_PRECISION

    def liability_weight(self, asset: str, quantity: float, basis: Basis = "maintenance") -> float:
        market = self.spot(asset)
        base = market.maintenance_liability_weight if basis == "maintenance" else market.initial_liability_weight
        weight = dm.size_premium_liability_weight(dm.size_units(quantity), dm.to_imf(market.imf_factor),
                                                  dm.to_weight(base))
        return weight / dm.WEIGHT_PRECISION

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None,
                         total_deposits: float | None = None) -> Curve:
        market = self.spot(asset)
        base = self._base_weight(market, basis, total_deposits) / dm.WEIGHT_PRECISION
        return SizeDiscount(weight_base=base, imf=market.imf_factor, price=price)

    def collateral_value(self, asset: str, quantity: float, price: float, basis: Basis = "maintenance",
                         as_of: Day = None, total_deposits: float | None = None) -> float:
        check_amount(self.name, asset, quantity, price)
        return quantity * price * self.asset_weight(asset, quantity, basis, total_deposits)

    def liability_value(self, asset: str, quantity: float, price: float, basis: Basis = "maintenance") -> float:
        """Requirement (currency) of borrowing ``quantity`` tokens."""
        check_amount(self.name, asset, quantity, price)
        return quantity * price * self.liability_weight(asset, quantity, basis)

    def margin_ratio(self, underlying: str, quantity: float, basis: Basis = "maintenance") -> float:
        """The perp margin ratio for a position of ``|quantity|`` base units, size premium included."""
        market = self.spec.perp_markets.get(underlying)
        if market is None:
            raise self.unknown("perp market", underlying, tuple(self.spec.perp_markets), "unknown_market")
        base = market.margin_ratio_maintenance if basis == "maintenance" else market.margin_ratio_initial
        ratio = dm.size_premium_liability_weight(dm.size_units(quantity), dm.to_imf(market.imf_factor),
                                                 dm.to_weight(base))
        return ratio / dm.WEIGHT_PRECISION

    def _perps(self, positions: Sequence[Position], prices: Mapping[str, float], basis: Basis) -> float:
        return sum(abs(q) * price_of(self.name, prices, u) * self.margin_ratio(u, q, basis)
                   for u, q in net_linear(self, positions).values())

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        return self._perps(positions, prices, "maintenance")

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        return self._perps(positions, prices, "initial")
