"""Which sections a report shows for each kind of result: small renderer functions registered for a type.

A renderer takes the item and a :class:`Context` and returns a :class:`Block` (a titled HTML fragment) or None when
it has nothing to show for this item (no risk figures, no plan...). Adding a section for a new result type is one
function in a module of ``allocator/report/`` and one import line in ``allocator/report/__init__.py``::

    @section(StressResult, order=20)
    def episodes(result: StressResult, ctx: Context) -> Block | None:
        figure = ...                     # a plotly figure
        return Block("Stress episodes", ctx.chart(figure) + table(...))

Renderers of a type run in ``order`` (then registration order); a type inherits the renderers of its base classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from allocator.report.charts import chart_div

T = TypeVar("T")


@dataclass(frozen=True)
class Block:
    """One section of the page: a title, an optional one-paragraph explanation, and an HTML body."""

    title: str
    body: str
    about: str = ""


@dataclass
class Context:
    """What a renderer may use beyond its item: the currency, deterministic chart ids, the compact flag
    (``_repr_html_``: tables only, no charts), and the budget: at most ``rows`` rows per table and ``marks`` bars or
    points per chart (the page lowers them until the file fits its size limit; every cut is said on the page)."""

    currency: str = ""
    compact: bool = False
    rows: int = 200
    marks: int = 400
    prefix: str = "chart"
    charts: int = field(default=0, init=False)

    def chart(self, figure: Any, height: int = 380) -> str:
        """The figure as a ``<div>`` drawn by the page's one copy of plotly.js ("" in compact mode)."""
        if self.compact:
            return ""
        self.charts += 1
        return chart_div(figure, f"{self.prefix}-{self.charts}", height)


Renderer = Callable[[Any, Context], Block | None]


@dataclass(frozen=True)
class _Entry:
    kind: type
    order: int
    index: int
    compact: bool
    renderer: Renderer


_RENDERERS: list[_Entry] = []


def section(kind: type, order: int = 50, *, compact: bool = False) -> Callable[[Callable[[T, Context], Block | None]],
                                                                              Callable[[T, Context], Block | None]]:
    """Register the decorated function as a section of every report of ``kind`` (and its subclasses); with
    ``compact``, it is also part of the compact report (``_repr_html_``, tables only)."""

    def register(renderer: Callable[[T, Context], Block | None]) -> Callable[[T, Context], Block | None]:
        _RENDERERS.append(_Entry(kind, order, len(_RENDERERS), compact, renderer))
        return renderer

    return register


def renderers_for(item: object, compact: bool = False) -> list[Renderer]:
    """The renderers registered for ``item``'s type or a base class, in order (only the compact ones if asked)."""
    found = sorted((e.order, e.index, e.renderer) for e in _RENDERERS
                   if isinstance(item, e.kind) and (e.compact or not compact))
    return [renderer for _, _, renderer in found]


def registered_types() -> list[type]:
    """Every type some renderer is registered for (what ``to_html`` accepts)."""
    return list(dict.fromkeys(e.kind for e in _RENDERERS))
