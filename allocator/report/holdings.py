"""Holdings as an asset x location grid of values, today and at the target (single period and transition alike).

A result lists each cell's quantity today (``initial_quantity``), its target quantity and the target's value. The
value today is the quantity today at the asset's price, read off the result (value / quantity of the cell with the
most of the asset, or of a transition step that moves it). An asset whose price the result does not give is left
out of the grid and named in a note, never valued at a guess. Grids larger than a person can read keep the assets
(and locations) with the most value and sum the rest into one "other" row (column), named in the note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_ASSETS, MAX_LOCATIONS = 30, 30


class Cell(Protocol):
    """A target row (single period or transition): read-only, as the frozen result models are."""

    @property
    def asset(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def value(self) -> float: ...
    @property
    def initial_quantity(self) -> float: ...


@dataclass(frozen=True)
class Grid:
    assets: list[str]
    locations: list[str]
    before: list[list[float]]
    after: list[list[float]]
    notes: list[str]

    def change(self) -> list[list[float]]:
        return [[a - b for a, b in zip(after, before, strict=True)]
                for after, before in zip(self.after, self.before, strict=True)]


def prices(cells: Iterable[Cell], hints: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each asset's price: value / quantity of its largest target cell, else a hint (e.g. from transition steps)."""
    best: dict[str, tuple[float, float]] = {}
    for cell in cells:
        if cell.quantity > 0 and cell.quantity > best.get(cell.asset, (0.0, 0.0))[0]:
            best[cell.asset] = (cell.quantity, cell.value / cell.quantity)
    found = dict(hints or {})
    found.update({asset: price for asset, (_, price) in best.items()})
    return found


def grid(cells: Sequence[Cell], hints: Mapping[str, float] | None = None) -> Grid:
    price = prices(cells, hints)
    unpriced = sorted({c.asset for c in cells if c.asset not in price})
    before: dict[tuple[str, str], float] = {}
    after: dict[tuple[str, str], float] = {}
    for cell in cells:
        if cell.asset in price:
            key = (cell.asset, cell.location)
            before[key] = before.get(key, 0.0) + cell.initial_quantity * price[cell.asset]
            after[key] = after.get(key, 0.0) + cell.value
    notes = [f"left out, no price in the result: {', '.join(unpriced)}"] if unpriced else []
    assets, asset_note = _keep([k[0] for k in before], before, after, 0, MAX_ASSETS, "assets")
    locations, location_note = _keep([k[1] for k in before], before, after, 1, MAX_LOCATIONS, "locations")
    notes += [n for n in (asset_note, location_note) if n]

    def matrix(values: dict[tuple[str, str], float]) -> list[list[float]]:
        out = {(a, loc): 0.0 for a in assets for loc in locations}
        for (asset, location), value in values.items():
            key = (asset if asset in assets else assets[-1], location if location in locations else locations[-1])
            out[key] += value
        return [[out[(a, loc)] for loc in locations] for a in assets]

    return Grid(assets, locations, matrix(before), matrix(after), notes)


def _keep(names: list[str], before: dict[tuple[str, str], float], after: dict[tuple[str, str], float], axis: int,
          limit: int, what: str) -> tuple[list[str], str]:
    """The names in first-seen order, or the ``limit - 1`` largest by value (today or target) plus "other"."""
    ordered = list(dict.fromkeys(names))
    if len(ordered) <= limit:
        return ordered, ""
    size = {name: 0.0 for name in ordered}
    for values in (before, after):
        for key, value in values.items():
            size[key[axis]] = max(size[key[axis]], abs(value))
    kept = sorted(ordered, key=lambda n: -size[n])[: limit - 1]
    other = f"other ({len(ordered) - len(kept)} {what})"
    return [n for n in ordered if n in kept] + [other], f"the {len(ordered) - len(kept)} smallest {what} summed " \
                                                        f"as '{other}'"
