"""dYdX v4 (dYdX Chain): liquidity tiers, USDC collateral.

Every perp market belongs to a liquidity tier with an initial margin fraction ``imf`` and a maintenance fraction
``mf``: maintenance ``N * imf * mf``, initial ``N * IMF(OI)`` with open-interest scaling between the tier's caps
(dydx_math.py, in the chain's quantums and rounding). Collateral is USDC (asset 0) at full value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Literal

from pydantic import Field

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Haircut, Id, StrictModel
from allocator.inputs.market import Position
from allocator.venues.collateral import Flat
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks import dydx_math
from allocator.venues.rulebooks.base import Basis, Day, Header, TableRulebook, net_linear, price_of


class LiquidityTier(StrictModel):
    """As in the chain's ``LiquidityTier``: ppm fractions; notionals and caps in quote quantums (USDC x1e6)."""

    id: int = Field(ge=0)
    name: str = Field(min_length=1)
    initial_margin_ppm: int = Field(gt=0, le=1_000_000)
    maintenance_fraction_ppm: int = Field(gt=0, le=1_000_000)
    base_position_notional: int = Field(default=0, ge=0)
    impact_notional: int = Field(default=0, ge=0)
    open_interest_lower_cap: int = Field(default=0, ge=0)
    open_interest_upper_cap: int = Field(default=0, ge=0)


class DydxCollateral(StrictModel):
    haircut: Haircut


class DydxFile(Header):
    kind: Literal["dydx-v4"]
    collateral: dict[Id, DydxCollateral] = Field(min_length=1)
    liquidity_tiers: list[LiquidityTier] = Field(min_length=1)
    markets: dict[Id, int] = Field(min_length=1)


class DydxRulebook(TableRulebook):
    """dYdX v4: ``initial_margin`` also takes each market's open interest (USD notional, market-wide)."""

    kind = "dydx-v4"
    spec_model = DydxFile
    spec: DydxFile

    @classmethod
    def cross_issues(cls, spec: DydxFile) -> list[InputIssue]:
        issues = []
        ids = [tier.id for tier in spec.liquidity_tiers]
        for k, tier in enumerate(spec.liquidity_tiers):
            if ids.index(tier.id) != k:
                issues.append(InputIssue(f"liquidity_tiers[{k}].id", f"{tier.id} is repeated", "duplicate_id"))
            upper, lower = tier.open_interest_upper_cap, tier.open_interest_lower_cap
            if upper and upper <= lower:
                issues.append(InputIssue(f"liquidity_tiers[{k}].open_interest_upper_cap",
                                         f"{upper} is not above the lower cap {lower}", "caps_not_ordered"))
        issues += [InputIssue(f"markets.{market}", f"no liquidity tier with id {tier}", "unknown_tier")
                   for market, tier in spec.markets.items() if tier not in ids]
        return issues

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None) -> Curve:
        entry = self.collateral_entry(asset)
        return Flat(haircut=entry.haircut)

    def tier(self, underlying: str) -> LiquidityTier:
        tier_id = self.spec.markets.get(underlying)
        if tier_id is None:
            raise self.unknown("perp market", underlying, tuple(self.spec.markets), "unknown_market")
        return next(t for t in self.spec.liquidity_tiers if t.id == tier_id)

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        total = 0
        for underlying, quantity in net_linear(self, positions).values():
            tier = self.tier(underlying)
            notional = dydx_math.notional_quantums(quantity, price_of(self.name, prices, underlying))
            total += dydx_math.maintenance_margin_quantums(notional, tier.initial_margin_ppm,
                                                           tier.maintenance_fraction_ppm)
        return total / dydx_math.QUANTUMS_PER_USDC

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None,
                       open_interest: Mapping[str, float] | None = None) -> float:
        """``open_interest[underlying]``: the market's open interest in USD notional, needed for tiers with caps."""
        total = 0
        for underlying, quantity in net_linear(self, positions).values():
            tier = self.tier(underlying)
            notional = dydx_math.notional_quantums(quantity, price_of(self.name, prices, underlying))
            interest = (open_interest or {}).get(underlying)
            if interest is None and tier.open_interest_upper_cap:
                raise InputError([InputIssue(f"rulebook {self.name}", f"tier {tier.name!r} of {underlying} scales "
                                             "initial margin with open interest: pass open_interest", "missing_oi")])
            oi = Fraction(interest or 0.0) * dydx_math.QUANTUMS_PER_USDC
            total += dydx_math.initial_margin_quantums(notional, tier.initial_margin_ppm, tier.open_interest_lower_cap,
                                                       tier.open_interest_upper_cap, oi)
        return total / dydx_math.QUANTUMS_PER_USDC
