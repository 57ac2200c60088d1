"""Reading raw input defensively: the cross-field checks run beside pydantic's field errors, on data that may be
malformed anywhere, so they take only what has the expected shape and leave the rest to pydantic."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from allocator.inputs.fields import iso_day


def rows(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    return [(i, row) for i, row in enumerate(value) if isinstance(row, dict)] if isinstance(value, list) else []


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def day(value: Any) -> str | None:
    """A date field as its ``YYYY-MM-DD`` text (a TOML date or datetime, or such a string); None for anything
    that is not a calendar date (pydantic reports it)."""
    found = text(iso_day(value))
    if found is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", found):
        return None
    try:
        date.fromisoformat(found)
    except ValueError:
        return None
    return found


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float; pydantic reports it
        return None
    return number if math.isfinite(number) else None


def table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
