"""The cost rate of every allowed move, looked up per route instead of listed per asset.

A problem's routes table names (from, to) pairs, each with a cost and an optional list of assets (none: every
asset). :class:`RouteRates` answers ``rates[(from, to, asset)]`` from the routes of that pair, the last one listing
the asset winning (as a table written out per asset would), without building the (routes x assets) entries: at
2,000 assets and 100 accounts that table had 800,000 entries and took about a second per new problem, which every
what-if re-solve pays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any


class RouteRates(Mapping[tuple[str, str, str], float]):
    """``{(from, to, asset): cost rate}`` (``cost_bps / 1e4``) for every allowed move, computed on demand."""

    def __init__(self, routes: Sequence[Any], asset_ids: Sequence[str]) -> None:
        self._assets = list(asset_ids)
        self._by_pair: dict[tuple[str, str], list[tuple[frozenset[str] | None, float]]] = {}
        for route in routes:
            listed = frozenset(route.assets) if route.assets else None  # no list (or an empty one): every asset
            self._by_pair.setdefault((route.from_, route.to), []).append((listed, route.cost_bps / 1e4))

    def __getitem__(self, key: tuple[str, str, str]) -> float:
        rate = self.rate(*key)
        if rate is None:
            raise KeyError(key)
        return rate

    def rate(self, source: str, destination: str, asset: str) -> float | None:
        """The cost rate of moving ``asset`` from ``source`` to ``destination``; None where no route allows it."""
        for listed, rate in reversed(self._by_pair.get((source, destination), ())):
            if listed is None or asset in listed:
                return rate
        return None

    def __contains__(self, key: object) -> bool:
        try:
            return self.rate(*key) is not None  # type: ignore[misc]
        except (TypeError, ValueError):  # not a (from, to, asset) triple
            return False

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        for (source, destination), entries in self._by_pair.items():
            assets: dict[str, None] = {}
            for listed, _ in entries:
                assets.update(dict.fromkeys(self._assets if listed is None else
                                            [a for a in self._assets if a in listed]))
            for asset in assets:
                yield source, destination, asset

    def __len__(self) -> int:
        return sum(1 for _ in self)
