"""Randomized invariants (hypothesis; derandomized in CI, see conftest): monotonicity, permutation, scaling,
planted shortfalls and determinism on random feasible problems."""

from __future__ import annotations

import random

import pytest
from helpers import assert_verified, random_problems, relative_gap
from hypothesis import assume, given
from hypothesis import strategies as st

import allocator
from allocator.io.generate import generate_problem

problems = random_problems(max_assets=8, max_wallets=2, max_accounts=4, max_tightness=0.95)


def objective(problem: allocator.Problem) -> float:
    return allocator.optimize(problem).objective.total


def edited(problem: allocator.Problem, edit) -> allocator.Problem:  # type: ignore[no-untyped-def]
    data = problem.model_dump(by_alias=True)
    edit(data)
    return allocator.Problem.model_validate(data)


def tolerance(problem: allocator.Problem) -> float:
    """Objective noise allowed between two solves: the coverage margins' price, far below a cent per $1M."""
    value = sum(h.quantity * next(a.price for a in problem.assets if a.id == h.asset) for h in problem.holdings)
    return 1e-7 * value * 0.1 + 1e-9


@given(problems, st.integers(0, 10**6), st.floats(0.01, 2.0))
def test_more_inventory_at_a_wallet_never_raises_the_cost(problem, pick, extra):
    wallets = [loc for loc in problem.locations if loc not in problem.account_ids]
    assume(wallets)
    wallet, asset = wallets[pick % len(wallets)], problem.assets[pick % len(problem.assets)]

    def add(data):
        for holding in data["holdings"]:
            if holding["asset"] == asset.id and holding["location"] == wallet:
                holding["quantity"] *= 1 + extra
                return
        data["holdings"].append({"asset": asset.id, "location": wallet, "quantity": extra * 1e4 / asset.price})

    assert objective(edited(problem, add)) <= objective(problem) + tolerance(problem)


@given(problems, st.integers(0, 10**6), st.one_of(st.just(0.0), st.floats(0.01, 0.99)))
def test_a_lower_requirement_never_raises_the_cost(problem, pick, factor):
    index = pick % len(problem.accounts)

    def lower(data):
        data["accounts"][index]["requirement"] *= factor

    assert objective(edited(problem, lower)) <= objective(problem) + tolerance(problem)


@given(problems, st.integers(0, 10**6), st.floats(0.0, 1.0))
def test_a_lower_haircut_never_raises_the_cost(problem, pick, factor):
    """Holds for an asset without a concentration limit there (a lower haircut raises a limited asset's share)."""
    pairs = [(k, a) for k, account in enumerate(problem.accounts) for a in account.haircuts
             if a not in account.concentration]
    assume(pairs)
    index, asset = pairs[pick % len(pairs)]

    def lower(data):
        data["accounts"][index]["haircuts"][asset] *= factor

    assert objective(edited(problem, lower)) <= objective(problem) + tolerance(problem)


@given(problems, st.randoms(use_true_random=False))
def test_reordering_changes_nothing_but_the_order(problem, rng: random.Random):
    def shuffle(data):
        for key in ("assets", "holdings", "accounts"):
            rng.shuffle(data[key])
        if data.get("routes"):
            rng.shuffle(data["routes"])
        for account in data["accounts"]:
            for table in ("haircuts", "concentration", "yields"):
                items = list(account[table].items())
                rng.shuffle(items)
                account[table] = dict(items)

    shuffled = edited(problem, shuffle)
    first, second = allocator.optimize(problem), allocator.optimize(shuffled)
    assert relative_gap(first.objective.total, second.objective.total,
                        abs(first.objective.carry) + abs(first.objective.transfer)) < 1e-7
    moved_first = sum(s.value for s in first.plan)
    moved_second = sum(s.value for s in second.plan)
    assert moved_second == pytest.approx(moved_first, rel=1e-6, abs=1e-6 * tolerance(problem) * 1e7)
    assert_verified(shuffled, second)


@given(problems, st.integers(-3, 6))
def test_scaling_all_money_scales_the_objective_and_keeps_the_plan(problem, power):
    base = edited(problem, lambda data: _scale(data, 1e-2))  # keep 10^6 times the money inside the range
    factor = 10.0 ** power
    scaled = edited(base, lambda data: _scale(data, factor))
    first, second = allocator.optimize(base), allocator.optimize(scaled)
    gross = abs(first.objective.carry) + abs(first.objective.transfer)
    assert relative_gap(second.objective.total / factor, first.objective.total, gross) < 1e-9
    assert [(s.asset, s.from_, s.to) for s in second.plan] == [(s.asset, s.from_, s.to) for s in first.plan]
    for a, b in zip(first.plan, second.plan, strict=True):
        assert b.quantity == pytest.approx(a.quantity, rel=1e-9)


def _scale(data: dict, factor: float) -> None:
    for asset in data["assets"]:
        asset["price"] *= factor
    for account in data["accounts"]:
        account["requirement"] *= factor


@given(problems, st.floats(0.05, 0.95), st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_a_planted_shortfall_is_found_at_its_account_with_its_amount(problem, cover, haircut, buffer):
    """An extra account that accepts only one extra asset, held in too small a quantity: its shortfall is exactly
    known, and the rest of the problem stays feasible."""
    required = 1e6
    value = cover * required * (1 + buffer) / (1 - haircut)  # what the asset is worth: covers `cover` of it
    wallet = next(loc for loc in problem.locations if loc not in problem.account_ids) \
        if any(loc not in problem.account_ids for loc in problem.locations) else problem.account_ids[0]

    def plant(data):
        data["assets"].append({"id": "PLANT", "price": 10.0})
        data["holdings"].append({"asset": "PLANT", "location": wallet, "quantity": value / 10.0})
        data["accounts"].append({"id": "planted", "requirement": required, "buffer": buffer,
                                 "haircuts": {"PLANT": haircut}})
        if data.get("routes") is not None:
            data["routes"].append({"from": wallet, "to": "planted", "assets": ["PLANT"]})

    planted = edited(problem, plant)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(planted)
    expected = required * (1 + buffer) - (1 - haircut) * value
    assert caught.value.diagnosis.by_account() == pytest.approx({"planted": expected}, rel=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_same_input_same_json_across_processes(seed, tmp_path):
    import subprocess
    import sys

    problem = generate_problem(10, 2, 4, seed=seed)
    path = tmp_path / "p.json"
    path.write_text(problem.model_dump_json(by_alias=True))
    script = ("import allocator,sys; p=allocator.load_problem(sys.argv[1]); "
              "sys.stdout.write(allocator.optimize(p).to_json(timings=False))")
    runs = {subprocess.run([sys.executable, "-c", script, str(path)], check=True, capture_output=True,
                           text=True).stdout for _ in range(2)}
    assert len(runs) == 1
