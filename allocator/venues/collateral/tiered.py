"""Tiered collateral ratio: each slice of the posted value is credited at its own rate.

As Binance publishes its collateral ratios: with slices ``[b_{k-1}, b_k)`` credited at ``w_k``,
``value(v) = sum_k w_k * (min(v, b_k) - b_{k-1})^+``. With non-increasing rates the curve is concave and piecewise
linear, so the lines through its tiers give it exactly: ``value(v) = min_k (value(b_{k-1}) + w_k (v - b_{k-1}))``.

A last slice without a bound (``upto`` omitted) runs to infinity. If the last slice has a bound, value above it is
credited at 0: the venue did not publish a rate there, and an unknown rate must not add collateral.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from allocator.inputs.fields import MAX_MONEY, StrictModel, interval
from allocator.lazy import np
from allocator.venues.collateral.curve import as_values

Weight = Annotated[float, AfterValidator(interval(0.0, 1.0))]
Bound = Annotated[float, AfterValidator(interval(0.0, MAX_MONEY, low_open=True))]


class Tier(StrictModel):
    """One slice: posted value up to ``upto`` (currency; None = no bound) is credited at ``weight``."""

    upto: Bound | None = None
    weight: Weight


class Tiered(StrictModel):
    """Concave piecewise-linear curve from slices with non-increasing rates (see module docstring)."""

    tiers: list[Tier] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _concave(cls, tiers: list[Tier]) -> list[Tier]:
        for k, tier in enumerate(tiers):
            if tier.upto is None and k < len(tiers) - 1:
                raise PydanticCustomError("unbounded_tier", "tiers[{k}] has no bound but is not the last tier",
                                          {"k": k})
            if k == 0:
                continue
            previous = tiers[k - 1]
            if tier.upto is not None and previous.upto is not None and tier.upto <= previous.upto:
                raise PydanticCustomError(
                    "tiers_not_increasing", "tiers[{k}].upto {upto} is not above tiers[{j}].upto {before}",
                    {"k": k, "j": k - 1, "upto": f"{tier.upto:g}", "before": f"{previous.upto:g}"})
            if tier.weight > previous.weight:
                raise PydanticCustomError(
                    "not_concave", "tiers[{k}].weight {weight} is above tiers[{j}].weight {before}: rates must "
                    "not increase with size (the curve must be concave)",
                    {"k": k, "j": k - 1, "weight": f"{tier.weight:g}", "before": f"{previous.weight:g}"})
        return tiers

    @classmethod
    def of(cls, tiers: list[tuple[float, float]]) -> Tiered:
        """From ``(upper bound, weight)`` pairs; an infinite bound means no bound."""
        return cls(tiers=[Tier(upto=None if np.isinf(upto) else float(upto), weight=float(weight))
                          for upto, weight in tiers])

    def _lines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lower bounds, credit at the lower bounds, and rates of the slices (a 0-rate slice past a last bound)."""
        lowers = [0.0] + [float(tier.upto or 0.0) for tier in self.tiers[:-1]]
        rates = [tier.weight for tier in self.tiers]
        last = self.tiers[-1].upto
        if last is not None:
            lowers.append(last)
            rates.append(0.0)
        low, rate = np.array(lowers), np.array(rates)
        at_low = np.concatenate(([0.0], np.cumsum(np.diff(low) * rate[:-1])))
        return low, at_low, rate

    @property
    def weight(self) -> float:
        return self.tiers[0].weight

    @property
    def is_linear(self) -> bool:
        return len(self.tiers) == 1 and self.tiers[0].upto is None

    def value(self, v: float | np.ndarray) -> np.ndarray:
        values = as_values(v)
        low, at_low, rate = self._lines()
        return np.min(at_low[:, None] + rate[:, None] * (values.reshape(1, -1) - low[:, None]), axis=0
                      ).reshape(values.shape)

    def chords(self, upto: float, pieces: int = 12) -> tuple[np.ndarray, np.ndarray]:
        """One line per slice (exact everywhere, whatever ``upto`` and ``pieces``)."""
        low, at_low, rate = self._lines()
        return at_low - rate * low, rate
