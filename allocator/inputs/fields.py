"""Annotated field types shared by the input models, with messages that say what is allowed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
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


def iso_day(value: Any) -> Any:
    """A TOML date or datetime (``as_of = 2025-02-11``, ``2025-02-11T16:00:00Z``), or a Python ``date`` or
    ``datetime``, as its ISO calendar date ``"2025-02-11"``: the date as written, a time and an offset are
    dropped (a day is the finest grain any date here has). Anything else is left for the string check."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _calendar_day(value: Any) -> str:
    value = iso_day(value)
    try:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            date.fromisoformat(value)
            return value
    except ValueError:  # 2025-02-30
        pass
    raise PydanticCustomError("bad_date", "{value} is not a calendar date; write YYYY-MM-DD (a TOML date or a "
                              "string)", {"value": repr(value)})


#: A date: a TOML date or datetime, a Python date or datetime, or a ``YYYY-MM-DD`` string; kept as that string.
Day = Annotated[str, BeforeValidator(_calendar_day)]


class StrictModel(BaseModel):
    """Base of every input model: frozen, unknown fields and NaN/inf rejected, no coercion of strings to numbers.

    ``defer_build``: pydantic builds a model's validator on its first use, not when the class is defined. A problem
    file is validated through ``Problem``, whose validator holds every nested model's schema, so the nested models'
    own validators are built only if something validates them alone: about 50 ms less before ``allocator
    validate`` answers (docs/performance.md, command line)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True,
                              validate_by_name=False, validate_by_alias=True, serialize_by_alias=True,
                              defer_build=True)


def empty_table() -> dict[Any, Any]:
    """The ``default_factory`` of an optional table (``Field(default_factory=empty_table)``): a new empty dict.

    A function of ours rather than ``dict`` or ``list`` itself: pydantic reads each factory's signature, and a
    builtin's is parsed from its text by the tokenizer, whose patterns compile on first use (about 8 ms of
    ``allocator validate``'s start-up, docs/performance.md)."""
    return {}


def empty_list() -> list[Any]:
    """The ``default_factory`` of an optional list of rows (``[[holdings]]``): a new empty list (see empty_table)."""
    return []


Positive = Annotated[float, AfterValidator(interval(0.0, 1e6, low_open=True))]
Volatility = Annotated[float, AfterValidator(interval(0.0, 20.0))]
Confidence = Annotated[float, AfterValidator(interval(0.5, 1.0, high_open=True))]
Return = Annotated[float, AfterValidator(interval(-1.0, 100.0))]
