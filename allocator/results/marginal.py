"""The marginal values of a result, kept as columns: one row object is made only when a row is read.

A large book has one marginal value per held or reachable cell (58,000 at 1,000 assets x 60 accounts). Made as
pydantic rows, they were most of a what-if re-solve's time beside the solver (docs/performance.md), yet a what-if
rarely reads them. :class:`MarginalValues` keeps the asset and location of each row as indices into two name
tuples and the values as one float array, and is a read-only ``Sequence[MarginalValue]``: ``len``, indexing,
iteration and ``==`` behave as the list of rows did, ``frame()`` gives the DataFrame straight from the columns,
and a pydantic field of this type validates from and dumps to the same list of ``{asset, location, value}`` rows
(JSON round trips are unchanged).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from allocator.results.reportable import Row

if TYPE_CHECKING:
    import pandas as pd


class MarginalValue(Row):
    asset: str
    location: str
    value: float = Field(description="objective decrease per extra unit held there today (currency/unit)")


class MarginalValues(Sequence[MarginalValue]):
    """Rows of (asset, location, value) as columns. ``asset`` and ``location`` index ``assets`` and ``locations``;
    all three arrays are read-only. Rows are made, and kept, on the first iteration."""

    __slots__ = ("assets", "locations", "asset", "location", "value", "_rows")

    def __init__(self, assets: Sequence[str], locations: Sequence[str], asset: np.ndarray, location: np.ndarray,
                 value: np.ndarray) -> None:
        self.assets, self.locations = tuple(assets), tuple(locations)
        self.asset, self.location = _frozen(asset, np.intp), _frozen(location, np.intp)
        self.value = _frozen(value, np.float64)
        if not self.asset.shape == self.location.shape == self.value.shape or self.value.ndim != 1:
            raise ValueError("asset, location and value must be 1-D arrays of one length")
        self._rows: list[MarginalValue] | None = None

    @classmethod
    def of_cells(cls, assets: Sequence[str], locations: Sequence[str], cells: np.ndarray,
                 value: np.ndarray) -> MarginalValues:
        """Rows of the layout's cells (``cell = asset * len(locations) + location``) with their values."""
        asset, location = np.divmod(np.asarray(cells, dtype=np.intp), len(locations))
        return cls(assets, locations, asset, location, value)

    @classmethod
    def of_rows(cls, rows: Iterable[MarginalValue | Mapping[str, Any]]) -> MarginalValues:
        """From rows (or their dicts), names in the order they first appear."""
        assets: dict[str, int] = {}
        locations: dict[str, int] = {}
        asset, location, value = [], [], []
        for row in rows:
            item = row if isinstance(row, MarginalValue) else MarginalValue.model_validate(row)
            asset.append(assets.setdefault(item.asset, len(assets)))
            location.append(locations.setdefault(item.location, len(locations)))
            value.append(item.value)
        return cls(list(assets), list(locations), np.array(asset, dtype=np.intp), np.array(location, dtype=np.intp),
                   np.array(value, dtype=np.float64))

    @classmethod
    def empty(cls) -> MarginalValues:
        return cls((), (), np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0))

    def __len__(self) -> int:
        return len(self.value)

    @overload
    def __getitem__(self, index: int) -> MarginalValue: ...

    @overload
    def __getitem__(self, index: slice) -> list[MarginalValue]: ...

    def __getitem__(self, index: int | slice) -> MarginalValue | list[MarginalValue]:
        if isinstance(index, slice) or self._rows is not None:
            return self.rows()[index]
        i = range(len(self))[index]  # IndexError and negative indices as a list's
        return MarginalValue(asset=self.assets[self.asset[i]], location=self.locations[self.location[i]],
                             value=float(self.value[i]))

    def __iter__(self) -> Iterator[MarginalValue]:
        return iter(self.rows())

    def rows(self) -> list[MarginalValue]:
        """The rows as pydantic objects (made once)."""
        if self._rows is None:
            self._rows = [MarginalValue(asset=a, location=loc, value=v) for a, loc, v in self._columns()]
        return self._rows

    def _columns(self) -> Iterator[tuple[str, str, float]]:
        assets, locations = self.assets, self.locations
        return zip([assets[i] for i in self.asset.tolist()], [locations[i] for i in self.location.tolist()],
                   self.value.tolist(), strict=True)

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as plain dicts, as a list of MarginalValue dumps (JSON and ``model_dump``)."""
        return [{"asset": a, "location": loc, "value": v} for a, loc, v in self._columns()]

    def frame(self) -> pd.DataFrame:
        """Columns ``asset``, ``location``, ``value``, one row per item, without making the rows."""
        import pandas as pd  # here, as every frame of a result (results/frames.py)

        return pd.DataFrame({"asset": np.array(self.assets, dtype=object)[self.asset],
                             "location": np.array(self.locations, dtype=object)[self.location],
                             "value": self.value}, columns=["asset", "location", "value"])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MarginalValues):
            return len(self) == len(other) and list(self._columns()) == list(other._columns())
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal by content, like the list it stands for

    def __repr__(self) -> str:
        return f"MarginalValues({len(self)} rows)"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        from_rows = core_schema.no_info_after_validator_function(cls.of_rows,
                                                                 handler.generate_schema(list[MarginalValue]))
        return core_schema.json_or_python_schema(
            json_schema=from_rows,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_rows]),
            serialization=core_schema.plain_serializer_function_ser_schema(cls.dicts))


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    out: np.ndarray = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out
