"""Liquidity and time inputs of the multi-period transition (docs/transition.md): venues and the schedule.

The asset fields (``adv``, ``spread_bps``, ``impact``, ``volatility``) and route fields (``delay_hours``,
``capacity``) live on :class:`~allocator.inputs.problem.Asset` and :class:`~allocator.inputs.problem.Route`;
their types are here. The single-period optimiser ignores all of them.

- ``[[venues]]``: where conversions happen. A venue at ``location`` trades the listed ``assets`` against each
  other, each leg paying ``fee_bps`` plus half the asset's ``spread_bps`` plus the square-root impact law
  ``impact * sigma_daily * v^1.5 / sqrt(adv)`` (currency, for a leg of value ``v`` in one period).
- ``[schedule]``: ``periods`` of ``period_hours`` each; trades of an asset per period at most
  ``participation * adv * period_hours / 24``; optional move limits (``max_moves``, ``max_moves_per_period``,
  ``min_move_value``: a mixed-integer option or a heuristic), per-location withdrawal limits (currency per
  period, transfers out of the location) and ``liquidation_days``: at the end, an account may hold at most
  ``participation * adv * liquidation_days`` of an asset (what could be sold within that horizon).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from allocator.inputs.fields import (
    MAX_MONEY,
    Bps,
    Days,
    Id,
    Money,
    Share,
    StrictModel,
    Volatility,
    empty_table,
    interval,
)

#: Average daily traded value (currency), strictly positive.
Adv = Annotated[float, AfterValidator(interval(0.0, MAX_MONEY, low_open=True))]
#: Coefficient of the square-root impact law (dimensionless; order one in the literature).
Impact = Annotated[float, AfterValidator(interval(0.0, 100.0))]
#: Annual volatility of an asset (the impact law uses it as a daily sigma, divided by sqrt(365)).
AnnualVolatility = Volatility
#: Settlement latency of a route, hours.
Hours = Annotated[float, AfterValidator(interval(0.0, 8_760.0))]
#: Length of a period, hours.
PeriodHours = Annotated[float, AfterValidator(interval(0.0, 8_760.0, low_open=True))]


class Venue(StrictModel):
    """A place at ``location`` where the listed assets convert into each other at ``fee_bps`` per leg."""

    location: Id
    assets: list[Id] = Field(min_length=2)
    fee_bps: Bps = 0.0


class Schedule(StrictModel):
    """The transition's clock, its trading participation and the practical limits users ask for."""

    periods: int = Field(ge=1, le=10_000)
    period_hours: PeriodHours = 1.0
    participation: Share = 0.1
    max_moves: int | None = Field(default=None, ge=1, le=1_000_000)
    max_moves_per_period: int | None = Field(default=None, ge=1, le=1_000_000)
    min_move_value: Money = 0.0
    withdrawal_limits: dict[Id, Money] = Field(default_factory=empty_table)
    liquidation_days: Days | None = None

    @property
    def hours(self) -> float:
        return self.periods * self.period_hours

    @property
    def has_move_limits(self) -> bool:
        """Whether the schedule asks for limits that are not convex (count of moves, no dust)."""
        return self.max_moves is not None or self.max_moves_per_period is not None or self.min_move_value > 0
