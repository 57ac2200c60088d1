"""Deribit portfolio margin: a scenario grid over the account's futures and options, and collateral haircuts
that apply to the initial margin only.

Maintenance margin is the grid's worst loss plus contingencies (scenario_grid.py): Deribit's published portfolio
margin documents define *maintenance* margin this way. Initial margin is maintenance divided by
``maintenance_over_initial`` (the file says how sure that ratio is). Collateral: ``basis="initial"`` applies
each asset's haircut, ``basis="maintenance"`` credits full value (Deribit: haircuts are for initial margin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from allocator.inputs.fields import Haircut, Id, StrictModel, interval
from allocator.inputs.market import Position
from allocator.venues.collateral import Flat
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks.base import Basis, Day, Header, IsoDate, TableRulebook, check_options, price_of
from allocator.venues.rulebooks.scenario_grid import ScenarioGrid, Stress


class DeribitCollateral(StrictModel):
    initial_haircut: Haircut
    as_of: IsoDate | None = None
    source: str = ""


class DeribitFile(Header):
    kind: Literal["deribit-portfolio-margin"]
    collateral: dict[Id, DeribitCollateral] = Field(min_length=1)
    underlyings: list[Id] = Field(min_length=1)
    scenario_grid: ScenarioGrid
    maintenance_over_initial: Annotated[float, AfterValidator(interval(0.0, 1.0, low_open=True))]


class DeribitRulebook(TableRulebook):
    kind = "deribit-portfolio-margin"
    spec_model = DeribitFile
    spec: DeribitFile
    native_mode = "portfolio"  # the scenario grid over the whole book; cross: the grid of each instrument, summed
    modes = frozenset({"isolated", "cross", "portfolio"})

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None) -> Curve:
        entry = self.collateral_entry(asset)
        return Flat(haircut=entry.initial_haircut if basis == "initial" else 0.0)

    def stresses(self, positions: Sequence[Position], prices: Mapping[str, float],
                 as_of: Day = None) -> tuple[float, list[Stress]]:
        """Maintenance margin and the worst scenario of each underlying."""
        unknown = sorted({p.underlying for p in positions} - set(self.spec.underlyings))
        if unknown:
            raise self.unknown("underlying", unknown[0], self.spec.underlyings, "unknown_market")
        when = check_options(self, positions, as_of)
        checked = {p.underlying: price_of(self.name, prices, p.underlying) for p in positions}
        return self.spec.scenario_grid.margin(positions, checked, when or date.min)

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        return self.stresses(positions, prices, as_of)[0]

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        return self.maintenance_margin(positions, prices, as_of) / self.spec.maintenance_over_initial
