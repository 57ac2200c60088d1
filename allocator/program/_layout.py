"""The structure of a problem as index arrays: which cells, moves and eligible pairs exist.

Structure is what a compiled program depends on; numbers (prices, haircut values, requirements, costs,
inventory) are not, so a what-if that only changes numbers reuses the same layout and compiled program.

A *cell* is an (asset, location) pair, numbered ``a * n_locations + l``. A *move* is an (asset, edge) pair along
which value may flow. Without a ``routes`` table every location may send any asset to any other at zero cost;
that complete graph is represented by a virtual hub (one edge into and one out of each location), which gives
the same reachable set and cost with ``2 L`` edges instead of ``L (L - 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.inputs.problem import Problem

HUB = "*"


@dataclass(frozen=True, eq=False)
class Layout:
    assets: tuple[str, ...]
    locations: tuple[str, ...]
    accounts: tuple[str, ...]
    account_location: np.ndarray  # (K,) location index of each account
    has_hub: bool
    edge_from: np.ndarray  # (E,) location index; the hub is index L
    edge_to: np.ndarray
    edge_route: np.ndarray  # (E,) index into problem.routes, -1 for hub edges
    move_asset: np.ndarray  # (M,)
    move_edge: np.ndarray  # (M,)
    pair_asset: np.ndarray  # (P,) eligible (asset, account) pairs
    pair_account: np.ndarray
    limit_pair: np.ndarray  # (C,) index into pairs of each concentration limit
    curve_pairs: np.ndarray  # (Pc,) pairs credited through a concave curve (chords), not a flat haircut
    risk_accounts: np.ndarray  # (K_r,) accounts with a parametric limit and stress scenarios
    cone: np.ndarray  # positions in risk_accounts of the accounts with a parametric limit (a cone)
    market_assets: np.ndarray  # (n,) asset index of each market asset, in the market's order
    n_factors: int  # r, columns of the market's loadings B
    has_specific: bool  # whether the market has specific volatilities (a factor model)
    stress: tuple[str, ...]  # names of the stress scenarios
    cvar_accounts: np.ndarray  # (K_c,) accounts with a CVaR limit
    cvar_draws: tuple[int, ...]  # Monte Carlo scenarios of each
    portfolio: bool = False  # a treasury-wide limit (program/_portfolio.py)
    portfolio_stress: bool = False  # ... that also holds after each stress scenario
    # hedges and delta bands (program/_hedges.py, docs/hedging.md); empty without [[hedges]]
    hedge_account: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (H,) account of each hedge
    hedge_asset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (H,) its underlying
    hedge_names: tuple[str, ...] = ()  # (H,) its instrument
    delta_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (D,) account, -1: treasury
    delta_asset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (D,) the banded underlying
    parent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # (K,) isolated parent, -1: none

    @property
    def n_hedges(self) -> int:
        return len(self.hedge_account)

    def hedge_label(self, j: int) -> str:
        return f"hedge[{self.accounts[self.hedge_account[j]]},{self.hedge_names[j]}]"

    def delta_label(self, d: int) -> str:
        """``delta[acct,BTC]`` for an account's band, ``delta[BTC]`` for the treasury's."""
        owner, asset = int(self.delta_owner[d]), self.assets[self.delta_asset[d]]
        return f"delta[{asset}]" if owner < 0 else f"delta[{self.accounts[owner]},{asset}]"

    @cached_property
    def hedge_sum(self) -> sp.csr_matrix:
        """(K, H): sums hedges into their account."""
        return sp.csr_matrix((np.ones(self.n_hedges), (self.hedge_account, np.arange(self.n_hedges))),
                             shape=(len(self.accounts), self.n_hedges))

    @cached_property
    def delta_members(self) -> sp.csr_matrix:
        """(D, K): the accounts each band sums: its owner and the owner's isolated sub-accounts; every account for
        the treasury."""
        rows, cols = [], []
        for d, owner in enumerate(self.delta_owner):
            members = np.arange(len(self.accounts)) if owner < 0 else \
                np.flatnonzero((np.arange(len(self.accounts)) == owner) | (self.parent == owner))
            rows += [d] * len(members)
            cols += list(members)
        return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(self.delta_owner), len(self.accounts)))

    @property
    def n_assets(self) -> int:
        return len(self.assets)

    @property
    def n_locations(self) -> int:
        return len(self.locations)

    @property
    def n_cells(self) -> int:
        return self.n_assets * self.n_locations

    @property
    def n_moves(self) -> int:
        return len(self.move_asset)

    @property
    def has_cones(self) -> bool:
        """Whether the program has second-order cones (a parametric risk limit): LP solvers cannot solve it."""
        return (len(self.cone) > 0 or self.portfolio) and len(self.market_assets) > 0

    @property
    def market_account_cells(self) -> np.ndarray:
        """(K, n) cells of every market asset at every account."""
        return np.asarray(self.cell(self.market_assets[None, :], self.account_location[:, None]))

    def market_cells(self, account: int) -> np.ndarray:
        """(n,) cells of the market assets at an account."""
        return np.asarray(self.cell(self.market_assets, self.account_location[account]))

    def curve_rows(self, account: int) -> np.ndarray:
        """Positions in ``curve_pairs`` of an account's curved pairs."""
        return np.flatnonzero(self.pair_account[self.curve_pairs] == account)

    @cached_property
    def move_route(self) -> np.ndarray:
        """(moves,) the route (index into ``problem.routes``) each move takes; -1 through the virtual hub."""
        route = self.edge_route[self.move_edge]
        route.flags.writeable = False  # shared by every reader of the layout
        return route

    @property
    def n_move_slots(self) -> int:
        """Length of the move variable: one slot even when nothing may move (it is then fixed at zero)."""
        return max(self.n_moves, 1)

    def cell(self, asset: Any, location: Any) -> Any:
        """Cell index (or array of them) of an asset and location index (or arrays)."""
        return asset * self.n_locations + location

    def move_cells(self, end: np.ndarray) -> np.ndarray:
        """(moves,) the cell each move leaves (``end`` = ``edge_from``) or reaches (``edge_to``); -1 at the virtual
        hub."""
        location = end[self.move_edge]
        real = location < self.n_locations
        return np.where(real, self.cell(self.move_asset, np.where(real, location, 0)), -1)

    @property
    def pair_cell(self) -> np.ndarray:
        return np.asarray(self.cell(self.pair_asset, self.account_location[self.pair_account]))

    @property
    def account_cells(self) -> np.ndarray:
        """(A*K,) cell of every asset at every account, account-major: index ``k * A + a``."""
        assets = np.tile(np.arange(self.n_assets), len(self.accounts))
        return np.asarray(self.cell(assets, np.repeat(self.account_location, self.n_assets)))

    @cached_property
    def incidence(self) -> sp.csr_matrix:
        """(cells, moves): +1 where a move arrives, -1 where it leaves; hub rows omitted."""
        rows, cols, vals = [], [], []
        moves = np.arange(self.n_moves)
        for end, sign in ((self.edge_to, 1.0), (self.edge_from, -1.0)):
            location = end[self.move_edge]
            real = location < self.n_locations
            rows.append(self.cell(self.move_asset[real], location[real]))
            cols.append(moves[real])
            vals.append(np.full(real.sum(), sign))
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.n_cells, self.n_move_slots))

    @cached_property
    def hub_balance(self) -> sp.csr_matrix:
        """(assets, moves): inflow minus outflow at the hub, per asset; zero rows if there is no hub."""
        hub = self.n_locations
        sign = (self.edge_to[self.move_edge] == hub).astype(float) - (self.edge_from[self.move_edge] == hub)
        used = sign != 0
        return sp.csr_matrix((sign[used], (self.move_asset[used], np.arange(self.n_moves)[used])),
                             shape=(self.n_assets, self.n_move_slots))

    @cached_property
    def pair_sum(self) -> sp.csr_matrix:
        """(accounts, pairs): sums eligible pairs into their account."""
        n_pairs = len(self.pair_asset)
        return sp.csr_matrix((np.ones(n_pairs), (self.pair_account, np.arange(n_pairs))),
                             shape=(len(self.accounts), n_pairs))

    def cell_label(self, cell: int) -> str:
        asset, location = divmod(int(cell), self.n_locations)
        return f"{self.assets[asset]}@{self.locations[location]}"

    def limit_label(self, limit: int) -> str:
        pair = self.limit_pair[limit]
        return f"concentration[{self.accounts[self.pair_account[pair]]},{self.assets[self.pair_asset[pair]]}]"

    def move_label(self, move: int) -> str:
        edge = self.move_edge[move]
        return (f"{self.assets[self.move_asset[move]]}:{self.location_name(self.edge_from[edge])}"
                f"->{self.location_name(self.edge_to[edge])}")

    def location_name(self, index: int) -> str:
        return HUB if index == self.n_locations else self.locations[index]

    @classmethod
    def from_problem(cls, problem: Problem) -> Layout:
        assets = tuple(problem.asset_ids)
        locations = tuple(problem.locations)
        accounts = tuple(problem.account_ids)
        asset_index = {a: i for i, a in enumerate(assets)}
        location_index = {name: i for i, name in enumerate(locations)}
        n_locations = len(locations)

        every = np.arange(len(assets), dtype=int)  # one array shared by every route that takes every asset
        if problem.routes is None:
            here = np.arange(n_locations)
            edge_from = np.concatenate([here, np.full(n_locations, n_locations)])
            edge_to = np.concatenate([np.full(n_locations, n_locations), here])
            edge_route = np.full(2 * n_locations, -1)
            allowed = [every] * (2 * n_locations)
        else:
            edge_from = np.array([location_index[r.from_] for r in problem.routes], dtype=int)
            edge_to = np.array([location_index[r.to] for r in problem.routes], dtype=int)
            edge_route = np.arange(len(problem.routes))
            allowed = [np.array(sorted(asset_index[a] for a in r.assets), dtype=int) if r.assets is not None
                       else every for r in problem.routes]
        move_edge = np.repeat(np.arange(len(allowed), dtype=int), [len(edge_assets) for edge_assets in allowed])
        move_asset = np.concatenate(allowed) if allowed else np.zeros(0, dtype=int)

        terms = problem.terms  # once: a property (10 us a call), read per account below
        index = asset_index.__getitem__
        eligible = [list(map(index, terms[k].eligible)) for k in accounts]  # pairs, account by account
        sizes = [len(assets_of) for assets_of in eligible]
        pair_asset = np.fromiter(chain.from_iterable(eligible), dtype=int, count=sum(sizes))
        pair_account = np.repeat(np.arange(len(accounts), dtype=int), sizes)
        first_pair = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        # the pair of each limited asset (validation: every one is eligible), account by account, from a table of
        # the limited accounts' pairs by asset (-1 where not eligible): no larger than the layout's cells
        limited = [(k, account.concentration) for k, account in enumerate(problem.accounts) if account.concentration]
        row = np.full(len(accounts), -1)
        row[[k for k, _ in limited]] = np.arange(len(limited))
        table = np.full((len(limited), len(assets)), -1)
        at = row[pair_account]
        table[at[at >= 0], pair_asset[at >= 0]] = np.flatnonzero(at >= 0)
        limits = table[np.repeat(np.arange(len(limited)), [len(c) for _, c in limited]),
                       np.fromiter(chain.from_iterable(map(index, c) for _, c in limited), dtype=int,
                                   count=sum(len(c) for _, c in limited))]
        assert np.all(limits >= 0), "a concentration limit on an asset its account does not take"
        curve_pairs = [int(first_pair[k]) + i for k, account in enumerate(accounts) if terms[account].curves
                       for i, a in enumerate(terms[account].eligible) if a in terms[account].curves]
        return cls(
            assets=assets, locations=locations, accounts=accounts,
            account_location=np.array([location_index[k] for k in accounts], dtype=int),
            has_hub=problem.routes is None,
            edge_from=edge_from, edge_to=edge_to, edge_route=edge_route,
            move_asset=move_asset, move_edge=move_edge,
            pair_asset=pair_asset, pair_account=pair_account,
            limit_pair=np.asarray(limits, dtype=int),
            curve_pairs=np.array(curve_pairs, dtype=int),
            risk_accounts=np.array([k for k, account in enumerate(problem.accounts) if account.risk is not None],
                                   dtype=int),
            cone=np.array([j for j, a in enumerate(a for a in problem.accounts if a.risk is not None)
                           if a.risk is not None and a.risk.parametric], dtype=int),
            market_assets=np.array([asset_index[a] for a in problem.market.assets] if problem.market else [],
                                   dtype=int),
            n_factors=problem.market.parts[0].shape[1] if problem.market else 0,
            has_specific=bool(problem.market is not None and problem.market.specific_volatility is not None),
            stress=tuple(s.name for s in problem.stress_scenarios),
            cvar_accounts=np.array([k for k, a in enumerate(problem.accounts)
                                    if a.risk is not None and a.risk.cvar_confidence is not None
                                    and problem.market is not None], dtype=int),
            portfolio=problem.portfolio is not None and problem.market is not None,
            portfolio_stress=(problem.portfolio is not None and problem.portfolio.stress
                              and bool(problem.stress_scenarios)),
            cvar_draws=tuple(a.risk.cvar_scenarios for a in problem.accounts
                             if a.risk is not None and a.risk.cvar_confidence is not None
                             and problem.market is not None),
            **_hedging(problem, asset_index),
        )

    def signature(self) -> tuple[object, ...]:
        """Equal signatures mean a compiled program can be reused (same structure; the number of stress slots
        may differ: a program with more slots serves the same problems)."""
        return (self.assets, self.locations, self.accounts, self.has_hub, self.edge_from.tobytes(),
                self.edge_to.tobytes(), self.move_asset.tobytes(), self.pair_asset.tobytes(),
                self.pair_account.tobytes(), self.limit_pair.tobytes(), self.curve_pairs.tobytes(),
                self.risk_accounts.tobytes(), self.cone.tobytes(),
                self.market_assets.tobytes(), self.n_factors, self.has_specific, self.stress,
                self.cvar_accounts.tobytes(), self.cvar_draws, self.portfolio, self.portfolio_stress,
                self.hedge_account.tobytes(), self.hedge_asset.tobytes(), self.delta_owner.tobytes(),
                self.delta_asset.tobytes(), self.parent.tobytes())


def _hedging(problem: Problem, asset_index: dict[str, int]) -> dict[str, Any]:
    """The hedge and delta-band fields of a layout (docs/hedging.md); the accounts' isolated parents."""
    account = {a.id: k for k, a in enumerate(problem.accounts)}
    bands = [(k, asset_index[u]) for k, a in enumerate(problem.accounts) for u in a.max_net_delta]
    bands += [(-1, asset_index[u]) for u in problem.max_net_delta]
    return {"hedge_account": np.array([account[h.account] for h in problem.hedges], dtype=int),
            "hedge_asset": np.array([asset_index[h.underlying] for h in problem.hedges], dtype=int),
            "hedge_names": tuple(h.instrument for h in problem.hedges),
            "delta_owner": np.array([k for k, _ in bands], dtype=int),
            "delta_asset": np.array([a for _, a in bands], dtype=int),
            "parent": np.array([account[a.parent] if a.parent is not None else -1 for a in problem.accounts],
                               dtype=int)}
