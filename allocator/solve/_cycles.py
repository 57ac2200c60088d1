"""Cancelling cycles in the moves of each asset.

A vertex solution that minimised value moved has no cycles, but an interior-point solution (or the cost
optimum when the moves phase is skipped) may send value around a loop (A -> B -> A). Cancelling every cycle
leaves each location's net change, and so the targets, exactly as they were, never raises the cost, and
lets the plan be ordered by availability alone.
"""

from __future__ import annotations

import numpy as np

from allocator.program._layout import Layout


def cancel_cycles(layout: Layout, moved: np.ndarray) -> np.ndarray:
    """``moved`` (per move slot) with every directed cycle of each asset's moves removed."""
    moved = moved.copy()
    positive = np.flatnonzero(moved[: layout.n_moves] > 0)
    positive = positive[_on_some_cycle(layout, positive)]
    by_asset = positive[np.argsort(layout.move_asset[positive], kind="stable")]  # ascending within each asset
    starts = np.flatnonzero(np.diff(layout.move_asset[by_asset], prepend=-1))
    for moves in np.split(by_asset, starts[1:]) if len(by_asset) else []:
        _cancel_among(layout, moved, moves)
    return moved


def _on_some_cycle(layout: Layout, moves: np.ndarray) -> np.ndarray:
    """(len(moves),) False for each move that is on no cycle of its asset's ``moves``: a move is on a cycle only
    if its source receives the asset and its destination sends it, through moves that are so too (peeled away
    until none is left, or only moves that may close a cycle: those go to the depth-first search)."""
    edge, asset = layout.move_edge[moves], layout.move_asset[moves]
    places = layout.n_locations + 1  # the hub too
    tail, head = asset * places + layout.edge_from[edge], asset * places + layout.edge_to[edge]
    alive = np.ones(len(moves), dtype=bool)
    size = layout.n_assets * places
    while alive.any():
        # a move's source receives (some alive move arrives there) and its destination sends: membership by
        # marking the (asset, place) nodes, as np.isin would find it without sorting
        receives, sends = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
        receives[head[alive]] = True
        sends[tail[alive]] = True
        kept = alive & receives[tail] & sends[head]
        if np.array_equal(kept, alive):
            break
        alive = kept
    return alive


def _cancel_among(layout: Layout, moved: np.ndarray, moves: np.ndarray) -> None:
    """Remove (in place, from ``moved``) every directed cycle among ``moves``, one asset's move slots: each cycle
    loses its smallest flow, and that move leaves it."""
    while True:
        cycle = _find_cycle(layout, moves[moved[moves] > 0])
        if cycle is None:
            return
        moved[cycle] -= moved[cycle].min()
        moved[cycle[np.argmin(moved[cycle])]] = 0.0


def _find_cycle(layout: Layout, moves: np.ndarray) -> np.ndarray | None:
    """The moves along one directed cycle, or None (depth-first search with colours)."""
    out: dict[int, list[int]] = {}
    for move in moves:
        out.setdefault(int(layout.edge_from[layout.move_edge[move]]), []).append(int(move))
    state: dict[int, int] = {}  # 1 on the stack, 2 finished
    for start in out:
        if state.get(start):
            continue
        stack = [(start, iter(out.get(start, [])))]
        path: list[int] = []
        state[start] = 1
        while stack:
            node, edges = stack[-1]
            move = next(edges, None)
            if move is None:
                state[node] = 2
                stack.pop()
                if path:
                    path.pop()
                continue
            nxt = int(layout.edge_to[layout.move_edge[move]])
            if state.get(nxt) == 1:
                nodes = [entry[0] for entry in stack]
                return np.array(path[nodes.index(nxt):] + [move])
            if not state.get(nxt):
                state[nxt] = 1
                path.append(move)
                stack.append((nxt, iter(out.get(nxt, []))))
    return None
