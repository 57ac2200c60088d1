"""From the solver's moves to transfers between real locations.

Moves along real routes are transfers as they are (a multi-hop path is a chain of transfers; the scheduler
orders them by availability). Moves through the virtual hub (problem without routes) are paired per asset,
largest first, into direct transfers: every pairing costs the same (zero) and moves the same value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.program._layout import Layout


@dataclass
class Transfer:
    asset: str
    source: str
    destination: str
    quantity: float


def transfers_from_moves(layout: Layout, moved: np.ndarray) -> list[Transfer]:
    hub = layout.n_locations
    moves = np.flatnonzero(moved > 0)
    asset, edge = layout.move_asset[moves], layout.move_edge[moves]
    source, destination = layout.edge_from[edge], layout.edge_to[edge]
    amount = moved[moves]
    direct = (source != hub) & (destination != hub)
    assets, locations, columns = layout.assets, layout.locations, (asset, source, destination, amount)
    transfers = [Transfer(assets[a], locations[s], locations[d], q)
                 for a, s, d, q in zip(*(c[direct].tolist() for c in columns), strict=True)]  # in the moves' order
    into_hub: dict[int, list[list[float]]] = {}
    out_of_hub: dict[int, list[list[float]]] = {}
    for a, s, d, q in zip(*(c[~direct].tolist() for c in columns), strict=True):
        if d == hub:
            into_hub.setdefault(a, []).append([s, q])
        else:
            out_of_hub.setdefault(a, []).append([d, q])
    for a in sorted(into_hub):
        transfers.extend(_pair(layout, a, into_hub[a], out_of_hub.get(a, [])))
    return transfers


def _pair(layout: Layout, asset: int, sources: list[list[float]], sinks: list[list[float]]) -> list[Transfer]:
    sources = sorted(sources, key=lambda item: (-item[1], item[0]))
    sinks = sorted(sinks, key=lambda item: (-item[1], item[0]))
    paired, i, j = [], 0, 0
    while i < len(sources) and j < len(sinks):
        amount = min(sources[i][1], sinks[j][1])
        if sources[i][0] != sinks[j][0] and amount > 0:
            paired.append(Transfer(layout.assets[asset], layout.locations[int(sources[i][0])],
                                   layout.locations[int(sinks[j][0])], amount))
        sources[i][1] -= amount
        sinks[j][1] -= amount
        if sources[i][1] <= sinks[j][1]:
            i += 1
        else:
            j += 1
    return paired
