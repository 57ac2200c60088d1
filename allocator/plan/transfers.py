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
    transfers: list[Transfer] = []
    into_hub: dict[int, list[list[float]]] = {}
    out_of_hub: dict[int, list[list[float]]] = {}
    for move in np.flatnonzero(moved > 0):
        asset, edge = int(layout.move_asset[move]), int(layout.move_edge[move])
        source, destination = int(layout.edge_from[edge]), int(layout.edge_to[edge])
        amount = float(moved[move])
        if destination == hub:
            into_hub.setdefault(asset, []).append([source, amount])
        elif source == hub:
            out_of_hub.setdefault(asset, []).append([destination, amount])
        else:
            transfers.append(Transfer(layout.assets[asset], layout.locations[source],
                                      layout.locations[destination], amount))
    for asset in sorted(into_hub):
        transfers.extend(_pair(layout, asset, into_hub[asset], out_of_hub.get(asset, [])))
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
