"""Linear margin tiered by notional, as Binance, Hyperliquid and others publish it.

Brackets start at notional ``b_0 = 0 < b_1 < ...`` with maintenance rates ``m_0 <= m_1 <= ...``. A position of
notional ``N`` in bracket ``n`` needs ``N m_n - d_n`` with the *maintenance amount* ``d_0 = 0``,
``d_n = d_{n-1} + b_n (m_n - m_{n-1})``: continuous in ``N``, and equal to charging each slice of the notional at
its own bracket's rate. Initial margin is ``N`` times the initial rate of the bracket holding ``N`` (the inverse of
the bracket's maximum leverage), or ``N / leverage`` for a lower chosen leverage; venues publish it that way, so it
jumps at bracket bounds.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import AfterValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import MAX_MONEY, Money, StrictModel, interval

Rate = Annotated[float, AfterValidator(interval(0.0, 1.0, low_open=True))]
Cap = Annotated[float, AfterValidator(interval(0.0, MAX_MONEY, low_open=True))]


class Bracket(StrictModel):
    """Notional from ``lower`` (currency) up to the next bracket's ``lower``."""

    lower: Money
    maintenance_rate: Rate
    initial_rate: Rate | None = None


class NotionalTiers(StrictModel):
    """The brackets of one market; ``cap`` is the largest notional the venue allows (None: no cap published)."""

    brackets: list[Bracket] = Field(min_length=1)
    cap: Cap | None = None

    @field_validator("brackets")
    @classmethod
    def _ordered(cls, brackets: list[Bracket]) -> list[Bracket]:
        if brackets[0].lower != 0:
            raise PydanticCustomError("first_bracket", "brackets[0].lower must be 0, not {lower}",
                                      {"lower": f"{brackets[0].lower:g}"})
        for k in range(1, len(brackets)):
            before, now = brackets[k - 1], brackets[k]
            if now.lower <= before.lower:
                raise PydanticCustomError("brackets_not_increasing", "brackets[{k}].lower {now} is not above "
                                          "brackets[{j}].lower {before}",
                                          {"k": k, "j": k - 1, "now": f"{now.lower:g}", "before": f"{before.lower:g}"})
            if now.maintenance_rate < before.maintenance_rate:
                raise PydanticCustomError("rates_decreasing", "brackets[{k}].maintenance_rate {now} is below "
                                          "brackets[{j}].maintenance_rate {before}; rates must not fall with size",
                                          {"k": k, "j": k - 1, "now": f"{now.maintenance_rate:g}",
                                           "before": f"{before.maintenance_rate:g}"})
        return brackets

    @classmethod
    def from_leverage(cls, bounds: list[tuple[float, float]], cap: float | None = None) -> NotionalTiers:
        """From ``(lower bound, max leverage)`` pairs: initial rate ``1 / L``, maintenance rate ``1 / (2 L)``."""
        return cls(brackets=[Bracket(lower=float(lower), maintenance_rate=0.5 / leverage, initial_rate=1.0 / leverage)
                             for lower, leverage in bounds], cap=cap)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        lower = np.array([b.lower for b in self.brackets])
        rate = np.array([b.maintenance_rate for b in self.brackets])
        return lower, rate

    def maintenance_amounts(self) -> np.ndarray:
        """``d_n`` per bracket (currency), Binance's "maintenance amount"."""
        lower, rate = self._arrays()
        return np.concatenate(([0.0], np.cumsum(lower[1:] * np.diff(rate))))

    def bracket(self, notional: float) -> int:
        """Index of the bracket holding ``notional`` (a bound belongs to the bracket below it)."""
        if not 0 <= notional < float("inf"):
            raise InputError([InputIssue("notional", f"must be finite and >= 0, not {notional!r}", "bad_amount")])
        if self.cap is not None and notional > self.cap:
            raise InputError([InputIssue("notional", f"{notional:g} is above the largest position the venue allows "
                                         f"({self.cap:g})", "above_cap")])
        lower, _ = self._arrays()
        return max(int(np.searchsorted(lower, notional, side="left")) - 1, 0)

    def maintenance(self, notional: float) -> float:
        n = self.bracket(notional)
        return float(notional * self.brackets[n].maintenance_rate - self.maintenance_amounts()[n])

    def initial(self, notional: float, leverage: float | None = None) -> float:
        """``N`` times the bracket's initial rate, or ``N / leverage`` when that is more."""
        bracket = self.brackets[self.bracket(notional)]
        if bracket.initial_rate is None:
            raise InputError([InputIssue("notional", "the venue's initial rate for this bracket is not in the "
                                         "rulebook", "unknown_initial_rate")])
        rate = bracket.initial_rate if leverage is None else max(bracket.initial_rate, 1.0 / leverage)
        return float(notional * rate)
