"""The plan's order without risk limits (plan/order_fast.py) gives exactly the steps and funding of the general
orderer (plan/order.py's ``_Orderer``, which the risk floors use), on engine plans and on random transfer sets that
need splits, forced steps and funding or do not balance; and the grouped cycle cancellation (solve/_cycles.py) is
the per-asset one it replaced."""

from __future__ import annotations

import random

import numpy as np
import pytest

import allocator
from allocator.io.generate import generate_problem
from allocator.plan.ledger import Ledger
from allocator.plan.order import UnbalancedTransfers, _Orderer, order
from allocator.plan.order_fast import FastOrderer
from allocator.plan.transfers import Transfer, transfers_from_moves
from allocator.program._layout import Layout
from allocator.solve._cycles import _cancel_among, cancel_cycles


def _plan(orderer: type, problem: allocator.Problem, transfers: list[Transfer]) -> object:
    """Steps and funding as plain data, or the UnbalancedTransfers message."""
    copies = [Transfer(t.asset, t.source, t.destination, t.quantity) for t in transfers]
    try:
        planned = orderer(Ledger(problem), 20 * len(transfers) + 100).order(copies)
    except UnbalancedTransfers as error:
        return str(error)
    return [s.model_dump() for s in planned.steps], [f.model_dump() for f in planned.funding]


def _random_transfers(problem: allocator.Problem, rng: random.Random) -> list[Transfer]:
    """Transfers out of today's holdings (some chained onwards), between any locations: swaps between tight
    accounts, multi-hop paths and amounts that do not balance all occur."""
    locations = list(problem.locations)
    held: dict[tuple[str, str], float] = {}
    for holding in problem.holdings:
        held[(holding.asset, holding.location)] = held.get((holding.asset, holding.location), 0.0) + holding.quantity
    out = []
    for _ in range(rng.randint(1, 25)):
        (asset, source), quantity = rng.choice(sorted(held.items()))
        destination = rng.choice([x for x in locations if x != source])
        out.append(Transfer(asset, source, destination, quantity * rng.choice([0.1, 0.3333, 0.5, 1.0])))
        if rng.random() < 0.4:
            onwards = rng.choice([x for x in locations if x != destination])
            out.append(Transfer(asset, destination, onwards, out[-1].quantity * rng.choice([0.5, 1.0])))
    return out


def test_random_transfer_sets_are_ordered_alike():
    kinds = {"plans": 0, "funded": 0, "split": 0, "unbalanced": 0}
    for seed in range(150):
        rng = random.Random(seed)
        problem = generate_problem(3 + seed % 6, 1 + seed % 2, 2 + seed % 3, seed=seed, topology="none",
                                   posted_share=0.8, tightness=0.95)
        transfers = _random_transfers(problem, rng)
        general, fast = _plan(_Orderer, problem, transfers), _plan(FastOrderer, problem, transfers)
        assert fast == general, seed
        if isinstance(general, str):
            kinds["unbalanced"] += 1
        else:
            steps, funding = general
            kinds["plans"] += 1
            kinds["funded"] += bool(funding)
            kinds["split"] += len(steps) > len(transfers)
    assert all(count > 5 for count in kinds.values()), kinds  # every branch was exercised


@pytest.mark.parametrize("topology", ["hub", "none", "complete"])
def test_engine_plans_are_ordered_alike(topology):
    problem = generate_problem(40, 2, 6, seed=7, topology=topology, tightness=0.9, posted_share=0.6)
    engine = allocator.Allocator(problem, backend="highs")
    optimum = engine._optimum(problem, moves=True)
    transfers = transfers_from_moves(engine.layout, optimum.allocation.moved)
    assert _plan(FastOrderer, problem, transfers) == _plan(_Orderer, problem, transfers)
    ordered = order(Ledger(problem, (engine.layout, optimum.numbers)), transfers)
    assert [s.model_dump() for s in ordered.steps] == _plan(_Orderer, problem, transfers)[0]


def _cancel_cycles_per_asset(layout: Layout, moved: np.ndarray) -> np.ndarray:
    """The loop cancel_cycles replaced: one scan of every move per asset."""
    moved = moved.copy()
    for asset in np.unique(layout.move_asset[moved[: layout.n_moves] > 0]):
        _cancel_among(layout, moved, np.flatnonzero((layout.move_asset == asset) & (moved[: layout.n_moves] > 0)))
    return moved


@pytest.mark.parametrize("seed", range(5))
def test_cycles_are_cancelled_as_before(seed):
    layout = Layout.from_problem(generate_problem(12, 2, 4, seed=seed, topology=("complete", "none")[seed % 2]))
    rng = np.random.default_rng(seed)
    moved = np.where(rng.random(layout.n_move_slots) < 0.3, rng.random(layout.n_move_slots), 0.0)
    cancelled = cancel_cycles(layout, moved)
    assert np.array_equal(cancelled, _cancel_cycles_per_asset(layout, moved))
    assert not np.array_equal(cancelled, moved)  # there were cycles to cancel


@pytest.mark.parametrize("seed", range(8))
def test_cancelled_cycles_keep_every_net_flow_and_leave_no_cycle(seed):
    """What cycle cancelling promises, whatever cycle it meets first: each location's net change of each asset
    is kept (to rounding), no move grows, and no directed cycle is left among any asset's moves (the moves that
    can be on none are peeled off before the depth-first search)."""
    from allocator.solve._cycles import _find_cycle

    topology = ("complete", "hub", "none")[seed % 3]
    layout = Layout.from_problem(generate_problem(15, 3, 5, seed=seed, topology=topology))
    rng = np.random.default_rng(100 + seed)
    moved = np.where(rng.random(layout.n_move_slots) < 0.4, rng.random(layout.n_move_slots), 0.0)
    cancelled = cancel_cycles(layout, moved)
    assert np.all(cancelled <= moved) and np.all(cancelled >= 0)
    assert np.allclose(layout.incidence @ cancelled, layout.incidence @ moved, rtol=0, atol=1e-12)
    for asset in range(layout.n_assets):
        left = np.flatnonzero((layout.move_asset == asset) & (cancelled[: layout.n_moves] > 0))
        assert _find_cycle(layout, left) is None


def test_curved_credit_is_ordered_alike():
    """Curved credit is not a running sum: the fast orderer runs those steps on the ledger too and reads its
    collateral back, and its plans are still the general orderer's, on the engine's transfers and on random ones
    along the routes (curved cells, splits, forced steps and funding among them)."""
    problem = allocator.load_example("stress-desk")
    ledger = Ledger(problem)
    curved = {(asset, account) for account, curves in ledger.curves.items() for asset in curves}
    assert curved
    engine = allocator.Allocator(problem)  # curves: the conic path
    optimum = engine._optimum(problem, moves=True)
    transfers = transfers_from_moves(engine.layout, optimum.allocation.moved)
    assert transfers and _plan(FastOrderer, problem, transfers) == _plan(_Orderer, problem, transfers)
    kinds = {"curved": 0, "funded": 0, "split": 0}
    for seed in range(150):
        transfers = [t for t in _random_transfers(problem, random.Random(seed))
                     if (t.source, t.destination, t.asset) in problem.route_rates]  # along its routes
        general = _plan(_Orderer, problem, transfers)
        assert _plan(FastOrderer, problem, transfers) == general, seed
        if not isinstance(general, str):
            kinds["curved"] += any({(t.asset, t.source), (t.asset, t.destination)} & curved for t in transfers)
            kinds["funded"] += bool(general[1])
            kinds["split"] += len(general[0]) > len(transfers)
    assert all(count > 5 for count in kinds.values()), kinds
