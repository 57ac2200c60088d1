"""Option scenario grid: the worst loss of an account's positions over price moves and volatility shifts.

As portfolio-margin venues do (Deribit): the underlying moves by ``price_points`` evenly spaced steps across
``[-price_range, +price_range]`` (zero included); at each move volatility is shifted up, left alone, and shifted
down. The shift of an option expiring in ``d`` days is relative: ``sigma (1 +/- k)`` with
``k = vol_shift * (reference_days / max(d, min_days)) ^ vol_power`` (so ``vol_shift`` at ``reference_days``), and
``sigma (1 - k)`` floored at 0. Options are fully repriced with Black-76 (allocator.venues.options); linear positions
lose ``q p m``. Each underlying is stressed on its own and the worst losses are summed (no offset between
underlyings). Contingency add-ons: ``option_contingency`` times the underlying value of every option held, long or
short, and ``futures_offset_contingency`` times the value of linear positions on one underlying that offset each
other (``min(long, short)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, Field

from allocator.inputs.fields import StrictModel, interval
from allocator.inputs.market import DAYS_PER_YEAR, Position
from allocator.venues.options import black76

Share = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Positive = Annotated[float, AfterValidator(interval(0.0, 10.0, low_open=True))]


@dataclass(frozen=True)
class Stress:
    """The worst scenario of one underlying: its loss (currency), price move and volatility direction."""

    underlying: str
    loss: float
    move: float
    volatility: str


class ScenarioGrid(StrictModel):
    price_range: Annotated[float, AfterValidator(interval(0.0, 1.0, low_open=True, high_open=True))]
    price_points: int = Field(ge=3, le=101)
    vol_shift: Positive
    vol_power: Annotated[float, AfterValidator(interval(0.0, 2.0))]
    reference_days: Annotated[float, AfterValidator(interval(0.0, 3650.0, low_open=True))] = 30.0
    min_days: Annotated[float, AfterValidator(interval(0.0, 3650.0, low_open=True))] = 1.0
    option_contingency: Share = 0.0
    futures_offset_contingency: Share = 0.0

    def moves(self) -> np.ndarray:
        return np.linspace(-self.price_range, self.price_range, self.price_points)

    def shock(self, days: float) -> float:
        """Relative volatility shift of an option ``days`` from expiry."""
        return self.vol_shift * (self.reference_days / max(days, self.min_days)) ** self.vol_power

    def pnl(self, position: Position, price: float, move: float, direction: int, as_of: date) -> float:
        """Change of the position's value when the price moves by ``move`` and volatility by ``direction``."""
        if position.kind != "option":
            return position.quantity * price * move
        assert position.strike and position.option_type and position.implied_volatility and position.expiry
        days = (date.fromisoformat(position.expiry) - as_of).days
        years = days / DAYS_PER_YEAR
        sigma = position.implied_volatility
        shifted = max(sigma * (1.0 + direction * self.shock(days)), 0.0)
        before = black76(price, position.strike, years, sigma, position.option_type).value
        after = black76(price * (1.0 + move), position.strike, years, shifted, position.option_type).value
        return position.quantity * (after - before)

    def worst(self, underlying: str, positions: Sequence[Position], price: float, as_of: date) -> Stress:
        """The worst grid scenario for the positions on one underlying (loss 0 if every scenario gains)."""
        worst = Stress(underlying, 0.0, 0.0, "same")
        for move in self.moves():
            for direction, label in ((1, "up"), (0, "same"), (-1, "down")):
                loss = -sum(self.pnl(p, price, float(move), direction, as_of) for p in positions)
                if loss > worst.loss:
                    worst = Stress(underlying, loss, float(move), label)
        return worst

    def contingency(self, positions: Sequence[Position], price: float) -> float:
        options = sum(abs(p.quantity) for p in positions if p.kind == "option")
        net: dict[str, float] = {}
        for p in positions:
            if p.kind != "option":
                net[p.instrument] = net.get(p.instrument, 0.0) + p.quantity
        longs = sum(q for q in net.values() if q > 0)
        shorts = -sum(q for q in net.values() if q < 0)
        return price * (self.option_contingency * options + self.futures_offset_contingency * min(longs, shorts))

    def margin(self, positions: Sequence[Position], prices: Mapping[str, float],
               as_of: date) -> tuple[float, list[Stress]]:
        """Sum over underlyings of worst loss plus contingencies, and the worst scenario of each underlying."""
        total, stresses = 0.0, []
        for underlying in dict.fromkeys(p.underlying for p in positions):
            group = [p for p in positions if p.underlying == underlying]
            stress = self.worst(underlying, group, prices[underlying], as_of)
            stresses.append(stress)
            total += stress.loss + self.contingency(group, prices[underlying])
        return total, stresses
