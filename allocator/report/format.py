"""Numbers and tables as a person reads them: one format per kind of figure, HTML-escaped text.

Money: thousands separators and 2 decimals (``1,234,567.89``); ratios as percentages (``104.3%``); quantities
and prices to 6 significant figures; shadow prices (currency per currency) to 4 significant figures. A table
never mixes formats within a column: each column is given its kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

Formatter = Callable[[Any], str]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def money(value: Any) -> str:
    number = _number(value)
    return "" if number is None else f"{number:,.2f}"


def percent(value: Any) -> str:
    number = _number(value)
    return "" if number is None else f"{100 * number:,.1f}%"


def quantity(value: Any) -> str:
    number = _number(value)
    if number is None:
        return ""
    return f"{number:,.2f}" if abs(number) >= 1000 else f"{number:.6g}"


def rate(value: Any) -> str:
    """A shadow price or marginal value (currency per currency or per unit): 4 significant figures."""
    number = _number(value)
    return "" if number is None else f"{number:.4g}"


def hours(value: Any) -> str:
    number = _number(value)
    return "" if number is None else f"{number:g} h"


def text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, tuple[str, Formatter]], *,
          limit: int | None = None, total: int | None = None, header: bool = True) -> str:
    """An HTML table of ``rows``: ``columns`` maps a row key to (header, formatter). Numeric columns align right.
    With ``limit``, only the first rows are shown and a line says how many of ``total`` (default: all) were left
    out, so nothing is dropped silently."""
    shown = rows if limit is None else rows[:limit]
    numeric = {key for key, (_, fmt) in columns.items() if fmt is not text}
    cell = {key: ("<td class=num>", "<th class=num>") if key in numeric else ("<td>", "<th>") for key in columns}
    head = "".join(f"{cell[key][1]}{escape(title)}</th>" for key, (title, _) in columns.items())
    body = "".join("<tr>" + "".join(f"{cell[key][0]}{escape(fmt(row.get(key)))}</td>"
                                    for key, (_, fmt) in columns.items()) + "</tr>" for row in shown)
    thead = f"<thead><tr>{head}</tr></thead>" if header else ""
    out = f'<div class="table"><table>{thead}<tbody>{body}</tbody></table></div>'
    left = (len(rows) if total is None else total) - len(shown)
    if left > 0:
        out += f'<p class="note">… and {left:,} more rows (in the JSON result).</p>'
    return out


def facts(pairs: Sequence[tuple[str, str]]) -> str:
    """Label/value pairs as a definition list (the headline figures of a section)."""
    items = "".join(f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>" for label, value in pairs)
    return f'<dl class="facts">{items}</dl>'


def paragraph(words: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{escape(words)}</p>'


#: The one sign convention of every shadow price in the report, the JSON result and the frames.
SIGN_CONVENTION = ("Shadow price: the increase of the total cost over the horizon per unit of extra requirement "
                   "(currency per currency). Positive: a higher requirement costs more; zero: the account has room "
                   "to spare. A binding constraint's shadow price is the same per unit of tightening the row. "
                   "The same sign in this report, in the JSON result (accounts[].shadow_price, "
                   "binding[].shadow_price) and in the frames.")
