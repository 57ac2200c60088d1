"""Binance portfolio margin (PM Pro): tiered collateral ratios, uniMMR, bracketed futures maintenance.

``uniMMR = sum_a equity_a / (futures MM + margin-loan MM)`` with ``equity_a = min(E_a P_a r_a(E_a P_a), E_a P_a)``:
the collateral ratio (flat, or tiered by slice of value) applies to positive balances only; negative ones count
at full value. Futures maintenance is bracketed by notional with Binance's maintenance amount
(notional_tiers.py); a margin loan needs ``loan x price x MMR(leverage)``. ``OpenLoss`` (the loss of open orders)
is not modelled: the allocator has no orders. Both bases give the same collateral value (Binance applies the
collateral ratio to the equity used for uniMMR and for opening alike).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Id, StrictModel, interval
from allocator.inputs.market import Position
from allocator.venues.collateral import Tier, Tiered
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks.base import (
    Basis,
    Day,
    Header,
    IsoDate,
    TableRulebook,
    check_amount,
    net_linear,
    price_of,
)
from allocator.venues.rulebooks.notional_tiers import NotionalTiers

Weight = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Ratio = Annotated[float, AfterValidator(interval(0.0, 100.0))]
Leverage = Annotated[float, AfterValidator(interval(1.0, 1000.0))]


class BinanceCollateral(StrictModel):
    """One asset's collateral ratio: ``rate`` (flat) or ``tiers`` (by slice of value, USD), not both."""

    rate: Weight | None = None
    tiers: list[Tier] | None = None
    as_of: IsoDate | None = None
    source: str = ""

    @model_validator(mode="after")
    def _one(self) -> BinanceCollateral:
        if (self.rate is None) == (self.tiers is None):
            raise ValueError("give exactly one of rate and tiers")
        return self

    def curve(self) -> Tiered:
        if self.tiers is not None:
            return Tiered(tiers=self.tiers)
        assert self.rate is not None  # exactly one is given (checked on input)
        return Tiered(tiers=[Tier(weight=self.rate)])


class Futures(NotionalTiers):
    as_of: IsoDate | None = None
    source: str = ""


class LoanRate(StrictModel):
    leverage: Leverage
    maintenance_rate: Weight


class Level(StrictModel):
    """Accounts with uniMMR above ``above`` (and below the previous level) are in ``status``."""

    above: Ratio
    status: str = Field(min_length=1)


class BinanceFile(Header):
    kind: Literal["binance-portfolio-margin"]
    collateral: dict[Id, BinanceCollateral] = Field(min_length=1)
    futures: dict[Id, Futures] = {}
    margin_loans: list[LoanRate] = []
    unimmr_levels: list[Level] = Field(min_length=1)


class BinanceRulebook(TableRulebook):
    kind = "binance-portfolio-margin"
    spec_model = BinanceFile
    spec: BinanceFile
    native_mode = "portfolio"  # PM Pro; its futures MM is per instrument, so cross gives the same figure
    modes = frozenset({"isolated", "cross", "portfolio"})

    @classmethod
    def cross_issues(cls, spec: BinanceFile) -> list[InputIssue]:
        levels = [level.above for level in spec.unimmr_levels]
        if levels != sorted(levels, reverse=True):
            return [InputIssue("unimmr_levels", "levels must be listed from the highest 'above' down",
                               "levels_not_ordered")]
        return []

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None) -> Curve:
        entry = self.collateral_entry(asset)
        return entry.curve()

    def collateral_value(self, asset: str, quantity: float, price: float, basis: Basis = "maintenance",
                         as_of: Day = None) -> float:
        """``min(E P r, E P)``: a negative balance counts at full value, whether or not the asset is listed."""
        check_amount(self.name, asset, quantity, price, allow_negative=True)
        if quantity < 0:
            return quantity * price
        return float(self.collateral_curve(asset, price).value(quantity * price))

    def equity(self, balances: Mapping[str, float], prices: Mapping[str, float]) -> float:
        """Sum of ``collateral_value`` over signed balances ``E_a`` (asset units)."""
        return sum(self.collateral_value(a, e, price_of(self.name, prices, a)) for a, e in balances.items())

    def futures_tiers(self, underlying: str) -> NotionalTiers:
        tiers = self.spec.futures.get(underlying)
        if tiers is None:
            raise self.unknown("futures bracket table", underlying, tuple(self.spec.futures), "unknown_market")
        return tiers

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        """USDⓈ-M futures: ``|N| x MMR - maintenance amount`` per instrument."""
        return sum(self.futures_tiers(u).maintenance(abs(q) * price_of(self.name, prices, u))
                   for u, q in net_linear(self, positions).values())

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        """At each bracket's maximum leverage."""
        return sum(self.futures_tiers(u).initial(abs(q) * price_of(self.name, prices, u))
                   for u, q in net_linear(self, positions).values())

    def loan_maintenance(self, loans: Mapping[str, float], prices: Mapping[str, float], leverage: float) -> float:
        """Margin-loan MM: ``sum loan x price x MMR``, the MMR of the highest listed leverage <= ``leverage``."""
        rates = sorted((r.leverage, r.maintenance_rate) for r in self.spec.margin_loans)
        eligible = [rate for lev, rate in rates if lev <= leverage]
        if not eligible:
            raise InputError([InputIssue(f"rulebook {self.name}", f"no margin-loan MMR for leverage {leverage}",
                                         "unknown_leverage")])
        return sum(q * price_of(self.name, prices, a) * eligible[-1] for a, q in loans.items())

    def uni_mmr(self, balances: Mapping[str, float], prices: Mapping[str, float], positions: Sequence[Position] = (),
                loans: Mapping[str, float] | None = None, leverage: float = 3.0) -> float:
        """``equity / (futures MM + loan MM)``; inf with no requirement."""
        requirement = self.maintenance_margin(positions, prices)
        if loans:
            requirement += self.loan_maintenance(loans, prices, leverage)
        equity = self.equity(balances, prices)
        return float("inf") if requirement == 0 else equity / requirement

    def status(self, uni_mmr: float) -> str:
        """The level an account with this uniMMR is in (``normal``, ``reduce-only``, ``liquidation``, ...)."""
        for level in self.spec.unimmr_levels:
            if uni_mmr > level.above:
                return level.status
        return self.spec.unimmr_levels[-1].status
