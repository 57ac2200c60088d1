"""Aave v3: loan-to-value and liquidation threshold per reserve, and efficiency mode (e-mode).

Aave's health factor is ``HF = sum_i v_i LT_i / debt`` (``GenericLogic.calculateUserAccountData``): the
collateral-weighted average threshold ``avgLT = floor(sum v_i LT_i / sum v_i)`` in basis points, times the total
collateral value, over the debt; liquidation is allowed below 1. Borrowing is allowed while
``debt <= sum v_i LTV_i``. In e-mode category ``c``, members of ``c`` use the category's LTV and threshold.

Mapping onto collateral credit: ``basis="maintenance"`` credits ``v * LT`` (so covering the debt with maintenance
credit is exactly ``HF >= 1``), ``basis="initial"`` credits ``v * LTV`` (borrowing power). The requirement of an
Aave account is its debt; Aave has no derivatives positions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Id, StrictModel
from allocator.inputs.market import Position
from allocator.venues.collateral import Flat
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks.base import (
    Basis,
    Day,
    Header,
    Rulebook,
    check_amount,
    common,
    no_positions,
    price_of,
    resolve,
)

BPS = 10_000


class Reserve(StrictModel):
    """One reserve as in Aave's reports: LTV, threshold in bps; bonus as ``10000 + bonus`` bps (0 if none)."""

    asset: Id | None = None
    decimals: int = Field(ge=0, le=36)
    ltv_bps: int = Field(ge=0, le=BPS)
    liquidation_threshold_bps: int = Field(ge=0, le=BPS)
    liquidation_bonus_bps: int = Field(ge=0, le=2 * BPS)
    emode_category: int = Field(default=0, ge=0)
    supply_cap: int | None = Field(default=None, ge=0)
    borrow_cap: int | None = Field(default=None, ge=0)
    isolation_debt_ceiling_usd: float | None = Field(default=None, ge=0)


class EmodeCategory(StrictModel):
    label: str = Field(min_length=1)
    ltv_bps: int = Field(ge=0, le=BPS)
    liquidation_threshold_bps: int = Field(ge=0, le=BPS)
    liquidation_bonus_bps: int = Field(ge=0, le=2 * BPS)


class AaveFile(Header):
    kind: Literal["aave-v3"]
    reserves: dict[Id, Reserve] = Field(min_length=1)
    emode_categories: dict[str, EmodeCategory] = {}


class AaveRulebook(Rulebook):
    """Aave v3 market. ``emode`` arguments take a category id (``1``) or None."""

    kind = "aave-v3"
    spec_model = AaveFile
    spec: AaveFile
    modes = frozenset({"cross"})  # no positions: nothing to isolate

    @classmethod
    def cross_issues(cls, spec: AaveFile) -> list[InputIssue]:
        issues = []
        rows = [(f"reserves.{k}", r.ltv_bps, r.liquidation_threshold_bps) for k, r in spec.reserves.items()]
        rows += [(f"emode_categories.{k}", c.ltv_bps, c.liquidation_threshold_bps)
                 for k, c in spec.emode_categories.items()]
        issues += [InputIssue(f"{where}.ltv_bps", f"{ltv} is above the liquidation threshold {lt}", "ltv_above_lt")
                   for where, ltv, lt in rows if ltv > lt]
        issues += [InputIssue(f"reserves.{k}.emode_category", f"no e-mode category {r.emode_category}",
                              "unknown_emode") for k, r in spec.reserves.items()
                   if r.emode_category and str(r.emode_category) not in spec.emode_categories]
        return issues

    @property
    def collateral_assets(self) -> tuple[str, ...]:
        usable = {k: r for k, r in self.spec.reserves.items() if r.liquidation_threshold_bps > 0}
        return common(usable)

    def reserve(self, asset: str) -> Reserve:
        key = resolve(self.spec.reserves, asset)
        if key is None or self.spec.reserves[key].liquidation_threshold_bps == 0:
            raise self.unknown("collateral asset", asset, self.collateral_assets)
        return self.spec.reserves[key]

    def thresholds(self, asset: str, emode: int | None = None) -> tuple[int, int]:
        """``(LTV, LT)`` in bps for ``asset``, the e-mode category's when the asset belongs to it."""
        reserve = self.reserve(asset)
        if emode:
            category = self.spec.emode_categories.get(str(emode))
            if category is None:
                raise self.unknown("e-mode category", str(emode), tuple(self.spec.emode_categories), "unknown_emode")
            if reserve.emode_category == emode:
                return category.ltv_bps, category.liquidation_threshold_bps
        return reserve.ltv_bps, reserve.liquidation_threshold_bps

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None,
                         emode: int | None = None) -> Curve:
        ltv, lt = self.thresholds(asset, emode)
        return Flat(haircut=1.0 - (lt if basis == "maintenance" else ltv) / BPS)

    def collateral_value(self, asset: str, quantity: float, price: float, basis: Basis = "maintenance",
                         as_of: Day = None, emode: int | None = None) -> float:
        check_amount(self.name, asset, quantity, price)
        return float(self.collateral_curve(asset, price, basis, emode=emode).value(quantity * price))

    def average_thresholds(self, collateral: Mapping[str, float], prices: Mapping[str, float],
                  emode: int | None) -> tuple[float, int, int]:
        """Total collateral value (currency) and Aave's average LTV and threshold in bps (rounded down), for
        collateral quantities (units) at prices."""
        total = ltv_sum = lt_sum = 0.0
        for asset, quantity in collateral.items():
            check_amount(self.name, asset, quantity, price_of(self.name, prices, asset))
            value = quantity * price_of(self.name, prices, asset)
            ltv, lt = self.thresholds(asset, emode)
            total, ltv_sum, lt_sum = total + value, ltv_sum + value * ltv, lt_sum + value * lt
        if total == 0:
            return 0.0, 0, 0
        return total, int(ltv_sum // total), int(lt_sum // total)

    def health_factor(self, collateral: Mapping[str, float], prices: Mapping[str, float], debt: float,
                      emode: int | None = None) -> float:
        """``total * avgLT / debt`` for collateral quantities (units) and debt (currency); inf without debt."""
        if not debt >= 0:
            raise InputError([InputIssue(f"rulebook {self.name}", f"debt must be >= 0, not {debt!r}", "bad_amount")])
        total, _, lt = self.average_thresholds(collateral, prices, emode)
        return float("inf") if debt == 0 else total * lt / BPS / debt

    def borrowing_power(self, collateral: Mapping[str, float], prices: Mapping[str, float],
                        emode: int | None = None) -> float:
        """``total * avgLTV``: the most the account may owe (currency) and still borrow."""
        total, ltv, _ = self.average_thresholds(collateral, prices, emode)
        return total * ltv / BPS

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        return no_positions(self, positions, "the requirement of an Aave account is its debt")

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        return no_positions(self, positions, "the requirement of an Aave account is its debt")
