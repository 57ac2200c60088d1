"""Hyperliquid: tiered maintenance margin by notional, USDC collateral.

Each perp market uses a margin table (as the ``meta``/``marginTable`` info endpoint names them, e.g. "tiered 40x"):
brackets by notional with a maximum leverage ``L_n``. Initial rate ``1 / L_n`` (or ``1 / leverage`` for a lower
chosen leverage), maintenance rate ``1 / (2 L_n)``, and maintenance ``N m_n - d_n`` with the deduction that makes it
continuous (see notional_tiers.py). Collateral on the main dex is USDC at full value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Haircut, Id, Money, StrictModel, interval
from allocator.inputs.market import Position
from allocator.venues.collateral import Flat
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks.base import Basis, Day, Header, TableRulebook, net_linear, price_of
from allocator.venues.rulebooks.notional_tiers import NotionalTiers

Leverage = Annotated[float, AfterValidator(interval(1.0, 1000.0))]


class MarginTier(StrictModel):
    lower_bound: Money
    max_leverage: Leverage


class MarginTable(StrictModel):
    """Tiers from notional 0 upwards, leverage not rising with size."""

    tiers: list[MarginTier] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _ordered(cls, tiers: list[MarginTier]) -> list[MarginTier]:
        if tiers[0].lower_bound != 0:
            raise PydanticCustomError("first_tier", "tiers[0].lower_bound must be 0", {})
        for k in range(1, len(tiers)):
            if tiers[k].lower_bound <= tiers[k - 1].lower_bound or tiers[k].max_leverage > tiers[k - 1].max_leverage:
                raise PydanticCustomError("tiers_not_ordered", "tiers[{k}] must start above tiers[{j}] and allow no "
                                          "more leverage", {"k": k, "j": k - 1})
        return tiers


class HyperliquidCollateral(StrictModel):
    haircut: Haircut


class HyperliquidFile(Header):
    kind: Literal["hyperliquid"]
    collateral: dict[Id, HyperliquidCollateral] = Field(min_length=1)
    margin_tables: dict[Id, MarginTable] = Field(min_length=1)
    markets: dict[Id, Id] = Field(min_length=1)


class HyperliquidRulebook(TableRulebook):
    """Hyperliquid perps: ``initial_margin`` also takes the leverage chosen per underlying."""

    kind = "hyperliquid"
    spec_model = HyperliquidFile
    spec: HyperliquidFile

    @classmethod
    def cross_issues(cls, spec: HyperliquidFile) -> list[InputIssue]:
        return [InputIssue(f"markets.{market}", f"no margin table {table!r} in margin_tables", "unknown_table")
                for market, table in spec.markets.items() if table not in spec.margin_tables]

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None) -> Curve:
        entry = self.collateral_entry(asset)
        return Flat(haircut=entry.haircut)

    def tiers(self, underlying: str) -> NotionalTiers:
        """The margin tiers of the perp on ``underlying``."""
        table = self.spec.markets.get(underlying)
        if table is None:
            raise self.unknown("perp market", underlying, tuple(self.spec.markets), "unknown_market")
        tiers = self.spec.margin_tables[table].tiers
        return NotionalTiers.from_leverage([(t.lower_bound, t.max_leverage) for t in tiers])

    def _each(self, positions: Sequence[Position], prices: Mapping[str, float]) -> list[tuple[str, float]]:
        return [(underlying, abs(quantity) * price_of(self.name, prices, underlying))
                for underlying, quantity in net_linear(self, positions).values()]

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        return sum(self.tiers(u).maintenance(n) for u, n in self._each(positions, prices))

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None,
                       leverage: Mapping[str, float] | None = None) -> float:
        """At each tier's maximum leverage, or at ``leverage[underlying]`` where that is lower."""
        chosen = leverage or {}
        for underlying, value in chosen.items():
            if not value >= 1:
                raise InputError([InputIssue(f"rulebook {self.name}", f"leverage for {underlying} must be >= 1, "
                                             f"not {value!r}", "bad_leverage")])
        return sum(self.tiers(u).initial(n, chosen.get(u)) for u, n in self._each(positions, prices))
