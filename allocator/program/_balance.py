"""Conservation and non-negativity: holdings after the moves are holdings today plus inflow minus outflow,
and neither holdings nor moves are negative."""

from __future__ import annotations

from dataclasses import dataclass

from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._parameters import Parameters
from allocator.program._variables import Variables


@dataclass(frozen=True)
class Balance:
    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        cells = tuple(f"balance[{layout.cell_label(c)}]" for c in range(layout.n_cells))
        out = [Labelled("balance", v.holding == p.holdings + layout.incidence @ v.move, cells)]
        if layout.has_hub:
            out.append(Labelled("hub", layout.hub_balance @ v.move == 0, tuple(f"hub[{a}]" for a in layout.assets)))
        return out


@dataclass(frozen=True)
class NonNegative:
    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]:
        cells = tuple(f"holding[{layout.cell_label(c)}]" for c in range(layout.n_cells))
        moves = tuple(f"move[{layout.move_label(m)}]" for m in range(layout.n_moves)) or ("move[none]",)
        out = [Labelled("nonneg_holding", v.holding >= 0, cells), Labelled("nonneg_move", v.move >= 0, moves)]
        if layout.n_moves == 0:  # the single move slot of a problem where nothing may move
            out.append(Labelled("no_moves", v.move <= 0, ("no_moves",)))
        return out
