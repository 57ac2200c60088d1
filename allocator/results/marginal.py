"""The marginal values of a result: one row per held or reachable cell, kept as columns (results/cell_rows.py)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from allocator.results.cell_rows import CellRows
from allocator.results.reportable import Row


class MarginalValue(Row):
    asset: str
    location: str
    value: float = Field(description="objective decrease per extra unit held there today (currency/unit)")


class MarginalValues(CellRows[MarginalValue]):
    """Rows of (asset, location, value) as columns; ``value`` is the read-only array of the values."""

    ROW = MarginalValue
    __slots__ = ()

    @property
    def value(self) -> np.ndarray:
        return self.columns["value"]
