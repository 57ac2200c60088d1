"""The columns a cost optimum can use, and the duals that prove an optimum of those columns optimal for all.

Per asset, the balance rows and the moves of the linear program (matrices.py) form a network: a node per cell,
an arc per move (cost ``c >= 0`` per unit of value moved, no capacity), and a holding column per node. Call a cell
*inert* when its holding column is in no row but its balance row (an asset where it earns no credit and meets no
limit: a wallet, an account that does not take it); its holding then costs only its carry. Any feasible solution
decomposes into paths from today's holdings (the sources) to where the value ends up, plus cycles. Replacing each
path by a shortest one and dropping the cycles changes no row but the balance rows and costs no more; and value
ending at an inert cell costs no less than it would at the inert cell nearest its source, counting the carry.
So some optimum uses only

- the moves on a shortest path from a source to a cell that is not inert, or to one of the source's cheapest
  inert cells (shortest distance plus carry), and
- the holding columns of the sources, of the cells those moves touch and of the cells that are not inert.

On generated hub-and-spoke books that is a fifth of the columns (``useful_columns``). The optimum of that smaller
program is then proved optimal for the whole one by completing its duals (``complete``): the balance duals of
every cell become each unit's cheapest cost to go (hold it, or move it on and go on from there: a shortest path
to the terminal costs that the other rows' duals give the holding columns), which makes every reduced cost of a
holding or a move non-negative by construction. The proof is checked, not assumed: the completed duals must be
complementary to the solution (zero reduced cost on every column that carries value); where they are not, the
caller solves the whole program instead. HiGHS then crosses over from the completed pair to a basis of the whole
program and confirms it optimal (solve/_fast.py).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from allocator.program._layout import Layout
from allocator.program._lp.matrices import Matrices

#: Shortest paths are equal to within this (absolute plus relative, in the program's scaled cost units).
PATH_TOLERANCE = 1e-9
#: A completed reduced cost counts as negative, or a value-carrying column's as non-zero, beyond this (HiGHS's
#: default dual feasibility tolerance, in the same scaled units).
DUAL_TOLERANCE = 1e-7


@dataclass(frozen=True, eq=False)
class Network:
    """The moves as arcs between cells, read from the layout and the assembled numbers."""

    tail: np.ndarray  # (M,) cell each move leaves
    head: np.ndarray  # (M,) cell it arrives at
    cost: np.ndarray  # (M,) its cost per unit of value (scaled)
    inert: np.ndarray  # (cells,) holding column only in its balance row
    carry: np.ndarray  # (cells,) holding cost
    supply: np.ndarray  # (cells,) value held today (scaled)

    @classmethod
    def of(cls, layout: Layout, m: Matrices) -> Network | None:
        """None where the argument above does not apply: a virtual hub, nothing that moves, a move in a row
        other than two balance rows, a bound other than ``[0, inf)``, or a negative cost of moving."""
        b, cells, moves = m.blocks, layout.n_cells, layout.n_moves
        if layout.has_hub or moves == 0:
            return None
        move_columns = slice(b.move, b.move + moves)
        counts = np.diff(m.start)
        if np.any(counts[move_columns] != 2) or np.any(m.cost[move_columns] < 0):
            return None
        bounded = slice(0, b.move + moves)
        if np.any(m.col_lower[bounded] != 0.0) or np.any(np.isfinite(m.col_upper[bounded])):
            return None
        arcs = _arcs(layout)
        return cls(tail=arcs.tail, head=arcs.head, cost=m.cost[move_columns], inert=counts[:cells] == 1,
                   carry=m.cost[:cells], supply=m.row_lower[:cells])


def useful_columns(layout: Layout, m: Matrices) -> np.ndarray | None:
    """(columns,) True for every column some optimum may use (the module's docstring), None where it does not
    apply. Assets whose moves have the same ends and costs share one table of shortest distances."""
    network = Network.of(layout, m)
    if network is None:
        return None
    L, b = layout.n_locations, m.blocks
    keep_move = np.zeros(layout.n_moves, dtype=bool)
    by_asset = np.argsort(layout.move_asset, kind="stable")
    bounds = np.searchsorted(layout.move_asset[by_asset], np.arange(layout.n_assets + 1))
    origin, target = layout.edge_from[layout.move_edge], layout.edge_to[layout.move_edge]
    tables: dict[tuple[bytes, bytes, bytes], np.ndarray] = {}
    for asset in range(layout.n_assets):
        arcs = by_asset[bounds[asset]:bounds[asset + 1]]
        u, v, c = origin[arcs], target[arcs], network.cost[arcs]
        cells = slice(asset * L, (asset + 1) * L)
        sources = np.flatnonzero(network.supply[cells] > 0)
        if len(arcs) == 0 or len(sources) == 0:
            continue
        key = (u.tobytes(), v.tobytes(), c.tobytes())
        if (distance := tables.get(key)) is None:
            distance = tables[key] = _distances(L, u, v, c)
        inert, carry = network.inert[cells], network.carry[cells]
        for s in sources:
            sinks = _sinks(distance[s], inert, carry)
            to_sink = distance[s, sinks]
            slack = (distance[s, u] + c)[:, None] + distance[v][:, sinks] - to_sink[None, :]
            keep_move[arcs[(slack <= _tolerance(to_sink)[None, :]).any(axis=1)]] = True
    keep = np.ones(b.columns, dtype=bool)
    holding = ~network.inert | (network.supply > 0)
    holding[network.tail[keep_move]] = holding[network.head[keep_move]] = True
    keep[: layout.n_cells] = holding
    keep[b.move:b.move + layout.n_moves] = keep_move
    return keep


def _distances(n: int, u: np.ndarray, v: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(n, n) shortest distances over arcs ``u -> v`` of cost ``c`` (inf where unreachable)."""
    dense = np.full((n, n), np.inf)
    np.minimum.at(dense, (u, v), c)
    np.fill_diagonal(dense, 0.0)
    return csgraph.shortest_path(csgraph.csgraph_from_dense(dense, null_value=np.inf), method="D")


def _sinks(from_source: np.ndarray, inert: np.ndarray, carry: np.ndarray) -> np.ndarray:
    """Where a source's value may end: every cell that is not inert, and its cheapest inert cells (distance
    plus carry, ties kept), all reachable."""
    reachable = np.isfinite(from_source)
    ending = np.where(inert & reachable, from_source + carry, np.inf)
    best = ending.min()
    cheapest = np.isfinite(ending) & (ending <= best + _tolerance(best))
    return np.flatnonzero(((~inert) & reachable) | cheapest)


def _tolerance(x: np.ndarray | float) -> np.ndarray:
    return PATH_TOLERANCE * (1.0 + np.abs(x))


@dataclass(frozen=True, eq=False)
class Completed:
    """A primal and dual solution of the whole program, in HiGHS's conventions (``col_dual = cost - A' row_dual``);
    the row activities ``A col_value`` are computed when first read."""

    col_value: np.ndarray
    col_dual: np.ndarray
    row_dual: np.ndarray
    matrix: sp.csc_matrix

    @cached_property
    def row_value(self) -> np.ndarray:
        return self.matrix @ self.col_value


def complete(layout: Layout, m: Matrices, keep: np.ndarray, col_value: np.ndarray,
             row_dual: np.ndarray, fixed: np.ndarray | None = None) -> Completed | None:
    """The solution of the program restricted to the ``keep`` columns (``col_value`` of those, ``row_dual`` of
    every row) as a solution of the whole program, with the balance duals completed to each cell's cheapest cost
    to go; None if the completed duals are not complementary to the solution (then it is not proved optimal).

    ``fixed`` (a mask of the whole program's columns): holdings and moves the program being proved fixes at zero
    (an optimal face, solve/_fast.py's elastic tie-break). A fixed column may have any reduced cost, so the cost
    to go neither ends at a fixed holding nor follows a fixed move (the solution is at zero there), and its sign is
    not checked; the program's other columns need only ``m``'s bounds ``[0, inf)``, as without."""
    network = Network.of(layout, m)
    assert network is not None  # useful_columns() chose the columns
    cells = layout.n_cells
    A = sp.csc_matrix((m.value, m.index, m.start), shape=(m.blocks.rows, m.blocks.columns))
    x = np.zeros(m.blocks.columns)
    x[keep] = col_value
    y = np.array(row_dual, dtype=float)
    # a holding column's reduced cost without its balance row (where it has a 1): what a unit costs where it ends;
    # the holdings are the first columns, so their block is a view of the column-wise arrays
    ends = m.start[cells]
    holdings = sp.csc_matrix((m.value[:ends], m.index[:ends], m.start[:cells + 1]), shape=(m.blocks.rows, cells))
    terminal = m.cost[:cells] - holdings.T @ y + y[:cells]
    priced = slice(0, m.blocks.move + layout.n_moves)  # the holdings and moves: the duals that changed
    free = np.ones(m.blocks.move + layout.n_moves, dtype=bool) if fixed is None else ~fixed[priced]
    if fixed is not None:
        terminal = np.where(free[:cells], terminal, np.inf)
        network = replace(network, cost=np.where(free[m.blocks.move:], network.cost, np.inf))
    go = _cost_to_go(layout, network, terminal)
    if fixed is not None:  # a cell with no way out on the face: as dear as the dearest other (any finite value >=)
        finite = np.isfinite(go)
        go[~finite] = go[finite].max(initial=0.0)
    y[:cells] = go
    reduced = m.cost - A.T @ y
    carries = x[priced] > 0
    if np.any(reduced[priced][free] < -DUAL_TOLERANCE) or np.any(np.abs(reduced[priced][carries]) > DUAL_TOLERANCE):
        return None
    return Completed(col_value=x, col_dual=reduced, row_dual=y, matrix=A)


#: Rounds of value iteration before the cost to go falls back to Dijkstra (a path of more moves than this).
VALUE_ROUNDS = 8


def _cost_to_go(layout: Layout, network: Network, terminal: np.ndarray, rounds: int = VALUE_ROUNDS) -> np.ndarray:
    """(cells,) ``y_u = min(terminal_u, min over moves u -> v of cost + y_v)``: the cheapest path to a terminal.

    Value iteration from ``y = terminal``: after round ``r``, ``y`` is the cheapest over paths of at most ``r``
    moves, so the first round that changes nothing has every path's minimum (moves cost >= 0: a longer path
    never beats the ones already seen). The first round is a vectorised gather and ``minimum.reduceat`` over
    every move; since ``y`` only falls, a later round need only look at the moves into the cells the round before
    lowered (the others offer what they offered then). Books' paths are a move or two long, so that is two or
    three rounds; beyond ``rounds``, Dijkstra from a super node joined to every cell by its terminal cost, over the
    moves reversed (30 ms at 1000 x 60, three to ten times the rounds)."""
    arcs = _arcs(layout)
    best = np.minimum.reduceat(network.cost[arcs.order] + terminal[arcs.head_by_tail], arcs.first)
    y = terminal.copy()
    y[arcs.tails] = np.minimum(terminal[arcs.tails], best)
    lowered = y < terminal
    for _ in range(rounds - 1):
        into = np.flatnonzero(lowered[network.head])
        if len(into) == 0:
            return y
        following = y.copy()
        np.minimum.at(following, network.tail[into], network.cost[into] + y[network.head[into]])
        lowered = following < y
        y = following
    return _dijkstra(layout.n_cells, network, terminal)


@dataclass(frozen=True, eq=False)
class _Arcs:
    """The moves as arcs between cells, and grouped by the cell they leave: the same for every solve of a layout,
    so kept per layout (``Network.of`` reads its arcs here too)."""

    tail: np.ndarray  # (M,) cell each move leaves
    head: np.ndarray  # (M,) cell it arrives at
    order: np.ndarray  # the moves sorted by tail
    head_by_tail: np.ndarray  # their heads, in that order
    first: np.ndarray  # where each tail's moves start in ``order``
    tails: np.ndarray  # the cells with a move out, in that order


_ARCS: weakref.WeakKeyDictionary[Layout, _Arcs] = weakref.WeakKeyDictionary()


def _arcs(layout: Layout) -> _Arcs:
    if (arcs := _ARCS.get(layout)) is None:
        edge = layout.move_edge
        tail = np.asarray(layout.cell(layout.move_asset, layout.edge_from[edge]))
        head = np.asarray(layout.cell(layout.move_asset, layout.edge_to[edge]))
        tail.flags.writeable = head.flags.writeable = False  # shared by every Network of the layout
        order = np.argsort(tail, kind="stable")
        sorted_tail = tail[order]
        first = np.flatnonzero(np.concatenate([[True], sorted_tail[1:] != sorted_tail[:-1]]))
        arcs = _ARCS[layout] = _Arcs(tail=tail, head=head, order=order, head_by_tail=head[order], first=first,
                                     tails=sorted_tail[first])
    return arcs


def _dijkstra(cells: int, network: Network, terminal: np.ndarray) -> np.ndarray:
    """``_cost_to_go`` by Dijkstra from a super node (index ``cells``), shifted to keep weights >= 0."""
    shift = min(float(terminal.min()), 0.0) - 1.0
    rows = np.concatenate([network.head, np.full(cells, cells)])
    cols = np.concatenate([network.tail, np.arange(cells)])
    weight = np.concatenate([network.cost, terminal - shift])
    usable = np.isfinite(weight)  # a move or holding a face fixes (``complete``'s ``fixed``) is no edge
    rows, cols, weight = rows[usable], cols[usable], weight[usable]
    order = np.lexsort((weight, cols, rows))  # parallel moves: keep the cheapest (csr would add them up)
    rows, cols, weight = rows[order], cols[order], weight[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    # a zero weight would be no edge in a sparse graph: the smallest positive double keeps it
    graph = sp.csr_matrix((np.maximum(weight[first], np.finfo(float).tiny), (rows[first], cols[first])),
                          shape=(cells + 1, cells + 1))
    return csgraph.dijkstra(graph, indices=cells)[:cells] + shift
