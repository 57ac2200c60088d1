"""Tables a person reads in a terminal: one number format per column, the columns a person needs by default and
the rest with ``--wide``, drawn by rich to the terminal's width (docs/cli.md, "Reading the tables").

Formats, one per column: ``money`` with thousands separators and 2 decimals (``4,600,000.00``); ``ratio`` as a
percentage with 2 decimals (``117.72%``); ``price`` (a shadow price: currency of cost per currency of requirement)
as a percentage with 4 decimals (``0.0202%``); ``quantity`` with thousands separators and 4 decimals; ``count``
as an integer; ``hours`` with one decimal; ``date`` and ``text`` as given. A missing value is blank; ``-0.00``
is ``0.00``. Numbers, dates and the first column (the row's id) are never cut: other text is shortened with an
ellipsis first, and a table that cannot fit (``--wide`` on a narrow terminal) is printed at its own width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import click

Kind = Literal["text", "date", "money", "ratio", "price", "quantity", "count", "hours"]


def _number(pattern: str, scale: float = 1.0, suffix: str = "") -> Callable[[float], str]:
    def formatted(value: float) -> str:
        text = format(value * scale, pattern)
        return (text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text) + suffix
    return formatted


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": _number(",.2f"),
    "ratio": _number(",.2f", 100.0, "%"),
    "price": _number(",.4f", 100.0, "%"),
    "quantity": _number(",.4f"),
    "count": lambda value: f"{int(value):,d}",
    "hours": _number(",.1f", 1.0, " h"),
    "text": str,
    "date": str,
}


@dataclass(frozen=True)
class Column:
    """One column: the row key it shows, its header, its format, and whether only ``--wide`` shows it."""

    key: str
    header: str
    kind: Kind = "text"
    wide: bool = False


def cell(value: Any, kind: Kind) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return FORMATS[kind](value)


@dataclass(frozen=True)
class Grid:
    """A table ready to draw: its title, columns and formatted cells (drawn by :func:`show` to the width it has)."""

    title: str
    columns: tuple[Column, ...]
    cells: tuple[tuple[str, ...], ...]

    def natural_widths(self) -> list[int]:
        return [max([len(c.header), *(len(line[i]) for line in self.cells)]) for i, c in enumerate(self.columns)]

    def widths(self, room: int) -> list[int]:
        """Column widths within ``room`` characters (one space between columns): the text columns after the
        first give way, down to their header's width (at least 8); numbers, dates and the first column never."""
        widths = self.natural_widths()
        over = sum(widths) + len(widths) - 1 - room
        flexible = [i for i, c in enumerate(self.columns) if i > 0 and c.kind == "text"]
        while over > 0 and flexible:
            floor = {i: max(len(self.columns[i].header), 8) for i in flexible}
            widest = max(flexible, key=lambda i: widths[i] - floor[i])
            if widths[widest] <= floor[widest]:
                break
            widths[widest] -= 1
            over -= 1
        return widths

    def render(self, room: int) -> Any:
        from rich import box
        from rich.table import Table

        grid = Table(title=self.title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                     header_style="bold", pad_edge=False, show_edge=False, padding=(0, 0))
        for column, width in zip(self.columns, self.widths(room), strict=True):
            grid.add_column(column.header, justify="left" if column.kind in ("text", "date") else "right",
                            no_wrap=True, overflow="ellipsis", width=width)
        for line in self.cells:
            grid.add_row(*line)
        return grid


#: Rows of a long list (a plan's steps) shown without ``--wide``; the rest are counted below the table.
MAX_ROWS = 40


def first_rows(rows: Sequence[Any], wide: bool, noun: str) -> tuple[Sequence[Any], str | None]:
    """The rows to show (all with ``wide``, else the first ``MAX_ROWS``) and the line that counts the rest (None
    when every row is shown). Drawing a table costs about 0.1 ms a cell: a 1000 x 60 book's 1,255 transfers took
    0.9 s to print."""
    if wide or len(rows) <= MAX_ROWS:
        return rows, None
    return rows[:MAX_ROWS], f"... and {len(rows) - MAX_ROWS:,} more {noun} (--wide shows every one; all in the result)"


def table(title: str, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], wide: bool = False) -> Grid:
    """The rows (mappings by column key) under the columns ``wide`` selects, formatted."""
    shown = tuple(c for c in columns if wide or not c.wide)
    return Grid(title, shown, tuple(tuple(cell(row.get(c.key), c.kind) for c in shown) for row in rows))


def console(stderr: bool = False) -> Any:
    """A rich Console on standard output (or error): colours and width from the terminal, plain text (80
    columns, or ``COLUMNS``) when it is not a terminal; no markup or highlighting of the data."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, markup=False, emoji=False, soft_wrap=False)


def show(*parts: str | Grid, stderr: bool = False) -> None:
    """Print lines and tables one after another, a blank line after each table. A table whose numbers alone do
    not fit the terminal (``--wide``) is printed at its own width, never cut. Off a terminal the text is plain,
    without trailing blanks."""
    out = console(stderr)
    room = out.width
    with out.capture() as captured:
        for part in parts:
            if isinstance(part, str):
                out.print(part)
                continue
            needed = sum(part.widths(room)) + len(part.columns) - 1
            out.width = max(room, needed)
            out.print(part.render(out.width), crop=False)
            out.width = room
            out.print("")
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    click.echo(text.strip("\n"), err=stderr, color=out.is_terminal)
