"""Flat DataFrames of a result's rows with one name per meaning and the unit of every column.

``Result.to_frame(name)`` and ``TransitionResult.to_frame(name)`` give one row per item on a plain RangeIndex (no
column moved into the index). A column name means the same thing, in the same unit, in every frame of every
result: an account is always ``account`` (the ``id`` of an account row), money is in the result's currency, a
quantity is in units of its asset, and a marginal value (currency per unit) is ``marginal_value``, not ``value``.
Each frame carries its columns' units in ``frame.attrs["units"]`` (the table in docs/report.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    import pandas as pd

MONEY = "currency"
SHADOW = "currency per currency of requirement (positive: a higher requirement costs more)"

#: The unit of every column any frame has (a column missing here is a name or a label).
UNITS: dict[str, str] = {
    **dict.fromkeys(("quantity", "initial_quantity", "quantity_to"), "asset units"),
    **dict.fromkeys(("value", "value_to", "requirement", "pnl", "required", "collateral", "initial_collateral",
                     "excess", "sigma", "risk_excess", "cvar", "worst_scenario_excess", "cost", "amount", "lowest",
                     "end", "floor", "hedge_margin"), MONEY),
    "shadow_price": SHADOW,
    "marginal_value": "currency per asset unit held there today (positive: one more unit lowers the cost)",
    **dict.fromkeys(("liquidation_move", "market_liquidation_move"), "fraction of the price (0.25 = a 25% move)"),
    **dict.fromkeys(("start_hours", "arrival_hours"), "hours from the start"),
    "period": "1-based period number",
    "step": "1-based step number",
}


def flat_frame(rows: Sequence[BaseModel], model: type[BaseModel], rename: Mapping[str, str] | None = None,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows as a frame (aliases as column names, e.g. ``from``), renamed, with ``attrs["units"]`` set."""
    import pandas as pd  # here: a solve that never asks for a frame never loads pandas (docs/cli.md, start-up)

    names = [field.alias or name for name, field in model.model_fields.items()]
    data: list[dict[str, Any]] = [row.model_dump(by_alias=True) for row in rows]
    frame = pd.DataFrame(data, columns=names).rename(columns=dict(rename or {}))
    if columns is not None:
        frame = frame[list(columns)]
    return with_units(frame)


def with_units(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``attrs["units"]``: the unit of each of its columns that has one (UNITS)."""
    frame.attrs["units"] = {column: UNITS[column] for column in frame.columns if column in UNITS}
    return frame


def unknown_frame(name: str, known: Sequence[str]) -> ValueError:
    return ValueError(f"no frame {name!r}; the frames are {', '.join(known)}")
