"""Pydantic's validation errors as allocator's located issues (a leaf module: every reader of user files uses it).

``issues_from_pydantic`` turns each error into an :class:`~allocator.errors.InputIssue` located like
``accounts[2].haircuts.SOL``, with a stable code (``unknown_field``, ``missing_field``, ``not_finite``...) and a
message that names the value and what is allowed.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from allocator.errors import InputIssue
from allocator.io.documents import format_location

_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "finite_number": "not_finite",
    "float_type": "not_a_number",
    "float_parsing": "not_a_number",
    "string_type": "not_a_string",
    "list_type": "not_a_list",
    "dict_type": "not_a_table",
    "model_type": "not_a_table",
    "too_short": "empty",
    "string_too_short": "empty",
    "string_pattern_mismatch": "bad_id",
}


def issues_from_pydantic(error: ValidationError) -> list[InputIssue]:
    issues = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part not in ("function-after[check()]",) and not
                    (isinstance(part, str) and part.startswith(("function-", "constrained-"))))
        code = _CODES.get(item["type"], item["type"])
        if loc == ("currency",) and code == "bad_id":
            code = "bad_currency"
        if "[key]" in loc:  # pydantic locates a bad mapping key after the key itself
            loc = tuple(part for part in loc if part != "[key]")
            code = "bad_key"
        value = item.get("input")
        if item["type"] in ("out_of_range", "bad_date"):  # our own messages name the value
            message = item["msg"]
        elif item["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r} (misspelt?)"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "finite_number":
            message = f"{value!r} is not a finite number"
        elif item["type"] in ("float_type", "float_parsing") and isinstance(value, str):
            message = f"{value!r} is a string; give the number without quotes or separators"
        else:
            message = f"{short(value)}: {item['msg'][0].lower()}{item['msg'][1:]}"
        issues.append(InputIssue(format_location(loc), message, code))
    return issues


def without_refused(data: dict[str, Any], error: ValidationError) -> dict[str, Any]:
    """A deep copy of ``data`` without the entries ``error`` refused (each location's deepest table key that is
    there; lists are stepped through, never shortened), so that the rest can be validated and checked further and
    every issue reported at once."""
    kept = copy.deepcopy(data)
    for location in sorted({tuple(e["loc"]) for e in error.errors()}, key=len, reverse=True):
        node: Any = kept
        last: tuple[dict[str, Any], Any] | None = None
        for part in location:
            if isinstance(node, dict) and part in node:
                last, node = (node, part), node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                break
        if last is not None:
            del last[0][last[1]]
    return kept


def short(value: Any) -> str:
    """A value as an issue message shows it: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
