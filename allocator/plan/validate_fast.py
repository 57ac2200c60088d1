"""A vectorised replay that proves a plan clean, so that validate.py's step-by-step replay need not run.

validate.py replays a plan one step at a time on a :class:`~allocator.plan.ledger.Ledger` and says what is wrong
with it; that replay is the definition. Most plans the engine checks have nothing wrong, and without risk limits
or curved credit every check is a running sum: a cell's holding before each step (no overdraw), an account's
collateral after each step it sends from (no floor broken) and every cell's holding at the end (the targets).
:func:`replays_clean` computes those sums for all steps at once with numpy and answers True only when every check
passes with room to spare for the rounding of both replays: then the step-by-step replay finds nothing, and
``validate_plan`` returns no violation without running it. Anything else (a check that fails or comes within
that room, an unknown asset or route, a bad quantity, risk limits, curves) answers False and the step-by-step
replay runs and reports, so every violation is still found and worded by validate.py alone.

The sums are in currency (units times price): one array of events sorted by cell, a cumulative sum, and each
cell's part of it. Their rounding error is at most a few times the number of events times the float epsilon times
the sums' sizes (``ROOM``); the tolerances are 1e-9 of the book (``TOLERANCE``), millions of times more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain, repeat

import numpy as np

from allocator.plan.ledger import Ledger
from allocator.program._allocation import TOLERANCE
from allocator.results.cell_rows import CellRows
from allocator.results.result import Step, Target

#: Room left for rounding, in float epsilons per event times the magnitude summed: a bound on the error of the
#: step-by-step replay's sequential sums and of this module's cumulative sums together, with a margin of two.
ROOM = 8.0


def replays_clean(ledger: Ledger, steps: Sequence[Step], targets: Iterable[Target] | None) -> bool:
    """True when replaying ``steps`` on ``ledger`` (not changed here) step by step, then comparing with ``targets``,
    finds no violation (module docstring); False when it may find one or this replay does not apply."""
    if ledger.risk is not None or any(ledger.curves.values()):
        return False
    price = ledger.price
    assets = [s.asset for s in steps]
    sources = [s.from_ for s in steps]
    destinations = [s.to for s in steps]
    quantity = np.array([s.quantity for s in steps], dtype=float)
    if not (np.all(np.isfinite(quantity)) and np.all(quantity > 0)) or not _routes_allowed(ledger, assets, sources,
                                                                                            destinations):
        return False
    wanted = _wanted(targets)
    if any(asset not in price for asset, _ in wanted):
        return False
    # cells: today's holdings, then those the steps and the targets name
    leaving, arriving = list(zip(assets, sources, strict=True)), list(zip(assets, destinations, strict=True))
    index = {key: i for i, key in enumerate(dict.fromkeys(chain(
        (k for k, q in ledger.quantity.items() if q), leaving, arriving, wanted)))}
    n = len(steps)
    source_cell = np.fromiter(map(index.__getitem__, leaving), dtype=int, count=n)
    destination_cell = np.fromiter(map(index.__getitem__, arriving), dtype=int, count=n)
    cell_price = np.fromiter(map(price.__getitem__, (asset for asset, _ in index)), dtype=float, count=len(index))
    today = np.fromiter(map(ledger.quantity.get, index, repeat(0.0)), dtype=float, count=len(index)) * cell_price
    want = np.zeros(len(index))
    want[np.fromiter(map(index.__getitem__, wanted), dtype=int, count=len(wanted))] = list(wanted.values())
    want *= cell_price
    # an amount's tolerance, in currency: the ledger's unit tolerance (TOLERANCE of the book, over the price)
    # times the price, whose rounding the room covers
    tolerance = TOLERANCE * ledger.money_scale
    unit = np.fromiter(map(price.__getitem__, assets), dtype=float, count=n)  # each step's asset's price
    value = quantity * unit
    # the cells: each step's withdrawal, then its deposit
    cell = np.empty(2 * n, dtype=int)
    cell[0::2], cell[1::2] = source_cell, destination_cell
    delta = np.empty(2 * n)
    delta[0::2], delta[1::2] = -value, value
    before, room = _running(cell, delta, today)
    held = before[0::2]  # at each step's source, before it
    if np.any(value > held + tolerance - room):
        return False
    end = today + np.bincount(cell, weights=delta, minlength=len(index))
    if targets is not None and np.any(np.abs(end - want) > tolerance - room):
        return False
    return _floors_kept(ledger, assets, sources, destinations, quantity, unit)


def _routes_allowed(ledger: Ledger, assets: list[str], sources: list[str], destinations: list[str]) -> bool:
    price, allows = ledger.price, ledger.allows
    return all(a in price and allows(a, s, d) for a, s, d in zip(assets, sources, destinations, strict=True))


def _wanted(targets: Iterable[Target] | None) -> dict[tuple[str, str], float]:
    """The targets by cell, as validate.py's end check reads them (the last of a repeated cell); {} without."""
    if targets is None:
        return {}
    if isinstance(targets, CellRows):
        names = zip([targets.assets[i] for i in targets.asset.tolist()],
                    [targets.locations[i] for i in targets.location.tolist()], strict=True)
        return dict(zip(names, targets.columns["quantity"].tolist(), strict=True))
    return {(t.asset, t.location): t.quantity for t in targets}


def _running(group: np.ndarray, delta: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(before, room): per event, ``start[group]`` plus the deltas of the events of its group before it (in
    order), and the rounding room of every such sum (``ROOM``)."""
    order = np.argsort(group, kind="stable")
    grouped, ordered = group[order], delta[order]
    total = np.cumsum(ordered)
    prior = total - ordered  # every event's sum before it, all groups together
    first = np.concatenate([[True], grouped[1:] != grouped[:-1]]) if len(order) else np.zeros(0, bool)
    base = prior[np.flatnonzero(first)][np.cumsum(first) - 1]  # the sum before each event's group
    before = np.empty(len(delta))
    before[order] = start[grouped] + (prior - base)
    room = ROOM * (len(delta) + 1) * np.finfo(float).eps * (np.abs(delta).sum() + np.abs(start).max(initial=0.0))
    return before, room


def _floors_kept(ledger: Ledger, assets: list[str], sources: list[str], destinations: list[str],
                 quantity: np.ndarray, unit: np.ndarray) -> bool:
    """Whether every step from an account leaves it above its floor less its tolerance, with rounding room (the
    collateral as the ledger changes it: ``weight x price x quantity`` at each end that is an account)."""
    weights, n = ledger.weights, len(quantity)
    accounts = {name: i for i, name in enumerate(weights)}
    outside = len(accounts)  # a location that is not an account
    none: dict[str, float] = {}
    account = np.empty(2 * n, dtype=int)  # each step's source, then its destination
    account[0::2] = np.fromiter(map(accounts.get, sources, repeat(outside)), dtype=int, count=n)
    account[1::2] = np.fromiter(map(accounts.get, destinations, repeat(outside)), dtype=int, count=n)
    delta = np.empty(2 * n)  # weight x price x quantity, as the ledger changes an account's collateral
    delta[0::2] = np.fromiter((weights.get(s, none).get(a, 0.0) for s, a in zip(sources, assets, strict=True)),
                              dtype=float, count=n) * unit * -quantity
    delta[1::2] = np.fromiter((weights.get(d, none).get(a, 0.0) for d, a in zip(destinations, assets, strict=True)),
                              dtype=float, count=n) * unit * quantity
    names = list(accounts)
    today = np.array([ledger.collateral[k] for k in names] + [0.0])
    floor = np.array([ledger.floor[k] for k in names] + [-np.inf])
    tolerance = np.array([ledger.floor_tolerance[k] for k in names] + [np.inf])
    before, room = _running(account, delta, today)
    after = before[0::2] + delta[0::2]  # each step's source, after it
    source = account[0::2]
    checked = source < outside
    return bool(np.all(floor[source[checked]] - after[checked] <= tolerance[source[checked]] - room))
