"""What every result shown to people shares: a frozen pydantic row type, a table of rows as a DataFrame, and the
report hooks (``to_html``, the notebook's ``_repr_html_``, a short text from ``headline()``).

:class:`~allocator.results.result.Result`, :class:`~allocator.transition._result.TransitionResult` and
:class:`~allocator.analysis.stress.report.StressReport` derive from :class:`Reportable`; the HTML report is a
higher tier, imported only when a page is asked for (tests/test_layers.py, ALLOWED).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

if TYPE_CHECKING:
    import pandas as pd


class Row(BaseModel):
    """A frozen row of a result, read and written by its field aliases."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True)


@cache
def rows_adapter(row: type[Row]) -> TypeAdapter[list[Any]]:
    """Validates a list of ``row`` (their dicts, or rows) in one call: many rows at once cost half as much as one
    by one (the plan's steps, the transition's steps, a result's cell rows)."""
    return TypeAdapter(list[row])  # type: ignore[valid-type]


def rows_frame(rows: Sequence[BaseModel], model: type[BaseModel]) -> pd.DataFrame:
    """``rows`` as a DataFrame with one column per field of ``model`` (by alias), also when there are none."""
    import pandas as pd  # here: a solve that never asks for a frame never loads pandas (docs/cli.md, start-up)

    columns = [field.alias or name for name, field in model.model_fields.items()]
    return pd.DataFrame([row.model_dump(by_alias=True) for row in rows], columns=columns)


class Reportable(Row):
    """A result with a headline (label, text pairs) and an HTML report."""

    def headline(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def headline_text(self) -> str:
        """The headline as a few lines of ``label: text``."""
        return "\n".join(f"{label}: {text}" for label, text in self.headline())

    def to_html(self, *, title: str | None = None) -> str:
        """The self-contained HTML report (charts included, no network needed to open it; docs/report.md)."""
        from allocator.report import to_html  # the report is a higher tier: tests/test_layers.py ALLOWED

        return to_html(self, title=title)  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        """A compact report for notebooks: the headline and the tables, no charts (``to_html()`` has them)."""
        from allocator.report import compact_html  # tests/test_layers.py ALLOWED, as for to_html

        return compact_html(self)  # type: ignore[arg-type]
