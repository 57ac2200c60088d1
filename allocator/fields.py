"""Annotated field types shared by the input models, with messages that say what is allowed."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

#: Largest money amount (currency) the solver path supports; see docs/reliability.md.
MAX_MONEY = 1e13


def _fmt(value: float) -> str:
    return repr(value) if not math.isfinite(value) else f"{value:g}"


def interval(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[float], float]:
    """A validator accepting values in the interval, with the message ``1.2 is not in [0, 1)``."""
    text = f"{'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"

    def check(value: float) -> float:
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            raise PydanticCustomError("out_of_range", "{value} is not in {allowed}",
                                      {"value": _fmt(value), "allowed": text})
        return value

    return check


Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=False,
                                      pattern=r"^\S(.*\S)?$")]
Price = Annotated[float, AfterValidator(interval(0.0, MAX_MONEY, low_open=True))]
Quantity = Annotated[float, AfterValidator(interval(0.0, MAX_MONEY))]
Money = Annotated[float, AfterValidator(interval(0.0, MAX_MONEY))]
Rate = Annotated[float, AfterValidator(interval(-1.0, 1.0))]
Haircut = Annotated[float, AfterValidator(interval(0.0, 1.0, high_open=True))]
Share = Annotated[float, AfterValidator(interval(0.0, 1.0, low_open=True))]
Buffer = Annotated[float, AfterValidator(interval(0.0, 10.0))]
Bps = Annotated[float, AfterValidator(interval(0.0, 10_000.0))]
Days = Annotated[float, AfterValidator(interval(0.0, 36_500.0, low_open=True))]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3,10}$")]


class StrictModel(BaseModel):
    """Base of every input model: frozen, unknown fields and NaN/inf rejected, no coercion of strings to numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True,
                              validate_by_name=False, validate_by_alias=True, serialize_by_alias=True)


Positive = Annotated[float, AfterValidator(interval(0.0, 1e6, low_open=True))]
Volatility = Annotated[float, AfterValidator(interval(0.0, 20.0))]
Confidence = Annotated[float, AfterValidator(interval(0.5, 1.0, high_open=True))]
Return = Annotated[float, AfterValidator(interval(-1.0, 100.0))]
