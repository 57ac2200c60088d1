"""Rows of a result keyed by a cell (asset, location), kept as columns: a row object is made only when read.

A large book has one target per held cell and one marginal value per held or reachable cell (58,000 at 1,000
assets x 60 accounts). Made as pydantic rows they were most of a what-if re-solve's time beside the solver, and
most of the objects a result holds (two objects per row, which every full pass of Python's garbage collector
traverses: docs/performance.md), yet a what-if rarely reads them. :class:`CellRows` keeps the asset and location of
each row as indices into two name tuples and every other field as one float array, and is a read-only
``Sequence`` of its row model: ``len``, indexing, iteration and ``==`` behave as the list of rows did, ``frame()``
gives the DataFrame straight from the columns, and a pydantic field of the type validates from and dumps to the
same list of rows (JSON round trips are unchanged). A subclass names its row model (``ROW``: the fields ``asset``
and ``location``, then floats); the targets (results/result.py) and the marginal values (results/marginal.py) are
the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

import numpy as np
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from allocator.results.reportable import Row, rows_adapter

if TYPE_CHECKING:
    import pandas as pd

RowT = TypeVar("RowT", bound=Row)

#: The fields every cell row starts with: names, kept as indices into the rows' name tuples.
KEY = ("asset", "location")


class CellRows(Sequence[RowT], Generic[RowT]):
    """Rows of ``ROW`` as columns. ``asset`` and ``location`` index ``assets`` and ``locations``; ``columns`` holds
    one float array per other field of ``ROW``, in its order; every array is read-only. Rows are made, and kept, on
    the first iteration."""

    ROW: ClassVar[type[Row]]
    __slots__ = ("assets", "locations", "asset", "location", "columns", "_rows")

    def __init__(self, assets: Sequence[str], locations: Sequence[str], asset: np.ndarray, location: np.ndarray,
                 **columns: np.ndarray) -> None:
        fields = self.fields()
        if set(columns) != set(fields):
            raise ValueError(f"{type(self).__name__} needs the columns {', '.join(fields)}; got "
                             f"{', '.join(columns) or 'none'}")
        self.assets, self.locations = tuple(assets), tuple(locations)
        self.asset, self.location = _frozen(asset, np.intp), _frozen(location, np.intp)
        self.columns = {name: _frozen(columns[name], np.float64) for name in fields}
        if any(a.ndim != 1 or a.shape != self.asset.shape for a in (self.location, *self.columns.values())):
            raise ValueError("asset, location and every column must be 1-D arrays of one length")
        self._rows: list[RowT] | None = None

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The float fields of ``ROW``, in its order (the columns)."""
        return tuple(name for name in cls.ROW.model_fields if name not in KEY)

    @classmethod
    def of_cells(cls, assets: Sequence[str], locations: Sequence[str], cells: np.ndarray, *values: np.ndarray,
                 **columns: np.ndarray) -> Self:
        """Rows of the layout's cells (``cell = asset * len(locations) + location``) with their columns (given in
        ``fields()`` order, or by name)."""
        asset, location = np.divmod(np.asarray(cells, dtype=np.intp), len(locations))
        return cls(assets, locations, asset, location, **dict(zip(cls.fields(), values, strict=False)), **columns)

    @classmethod
    def of_rows(cls, rows: Iterable[RowT | Mapping[str, Any]]) -> Self:
        """From rows (or their dicts, validated as ``ROW``), names in the order they first appear."""
        assets: dict[str, int] = {}
        locations: dict[str, int] = {}
        asset, location = [], []
        fields = cls.fields()
        values: list[list[float]] = [[] for _ in fields]
        for row in rows:
            item = row if isinstance(row, cls.ROW) else cls.ROW.model_validate(row)
            asset.append(assets.setdefault(item.asset, len(assets)))  # type: ignore[attr-defined]
            location.append(locations.setdefault(item.location, len(locations)))  # type: ignore[attr-defined]
            for column, name in zip(values, fields, strict=True):
                column.append(getattr(item, name))
        return cls(list(assets), list(locations), np.array(asset, dtype=np.intp), np.array(location, dtype=np.intp),
                   **{name: np.array(column, dtype=np.float64) for name, column in zip(fields, values, strict=True)})

    @classmethod
    def empty(cls) -> Self:
        return cls((), (), np.zeros(0, np.intp), np.zeros(0, np.intp), **{name: np.zeros(0) for name in cls.fields()})

    def __len__(self) -> int:
        return len(self.asset)

    @overload
    def __getitem__(self, index: int) -> RowT: ...

    @overload
    def __getitem__(self, index: slice) -> list[RowT]: ...

    def __getitem__(self, index: int | slice) -> RowT | list[RowT]:
        if isinstance(index, slice) or self._rows is not None:
            return self.rows()[index]
        i = range(len(self))[index]  # IndexError and negative indices as a list's
        return self.ROW(asset=self.assets[self.asset[i]], location=self.locations[self.location[i]],  # type: ignore
                        **{name: float(column[i]) for name, column in self.columns.items()})

    def __iter__(self) -> Iterator[RowT]:
        return iter(self.rows())

    def rows(self) -> list[RowT]:
        """The rows as pydantic objects (made once, validated by one call)."""
        if self._rows is None:
            self._rows = rows_adapter(self.ROW).validate_python(self.dicts())
        return self._rows

    def _values(self) -> Iterator[tuple[Any, ...]]:
        assets, locations = self.assets, self.locations
        return zip([assets[i] for i in self.asset.tolist()], [locations[i] for i in self.location.tolist()],
                   *(column.tolist() for column in self.columns.values()), strict=True)

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as plain dicts, as a list of the rows' dumps (JSON and ``model_dump``)."""
        names = (*KEY, *self.columns)
        return [dict(zip(names, values, strict=True)) for values in self._values()]

    def frame(self) -> pd.DataFrame:
        """One column per field of ``ROW``, one row per item, without making the rows."""
        import pandas as pd  # here, as every frame of a result (results/frames.py)

        names = {"asset": np.array(self.assets, dtype=object)[self.asset],
                 "location": np.array(self.locations, dtype=object)[self.location]}
        return pd.DataFrame({name: names[name] if name in names else self.columns[name]
                             for name in self.ROW.model_fields}, columns=list(self.ROW.model_fields))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CellRows):
            return type(other) is type(self) and len(self) == len(other) \
                and list(self._values()) == list(other._values())
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal by content, like the list it stands for

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} rows)"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        rows = handler.generate_schema(list[cls.ROW])  # type: ignore[name-defined]
        from_rows = core_schema.no_info_after_validator_function(cls.of_rows, rows)
        return core_schema.json_or_python_schema(
            json_schema=from_rows,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_rows]),
            serialization=core_schema.plain_serializer_function_ser_schema(cls.dicts))




def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    out: np.ndarray = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out
