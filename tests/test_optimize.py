"""End to end: the library's optimum against an independent scipy/HiGHS formulation, and re-solves."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS, assert_verified, objective_gap, relative_gap
from reference_lp import min_total_shortfall, solve_reference

import allocator
from allocator.io.generate import generate_problem


def test_desk_matches_reference(desk):
    result = allocator.optimize(desk)
    reference = solve_reference(desk)
    assert reference.status == "optimal"
    assert objective_gap(result, reference.objective) < 1e-6
    assert result.objective.total == pytest.approx(result.objective.carry + result.objective.transfer)
    assert result.plan and result.plan_safe
    assert_verified(desk, result)


def test_json_and_toml_fixtures_are_the_same_problem(desk):
    assert allocator.load_problem(PROBLEMS / "desk.json") == desk


@pytest.mark.parametrize("topology", ["hub", "none", "complete"])
@pytest.mark.parametrize("seed", range(6))
def test_generated_problems_match_reference(topology, seed):
    problem = generate_problem(15, 2, 5, seed=seed, topology=topology, route_density=0.7)
    result = allocator.optimize(problem)
    reference = solve_reference(problem)
    assert objective_gap(result, reference.objective) < 1e-6
    assert_verified(problem, result)


@pytest.mark.parametrize("backend", ["cvxpy", "highs"])
def test_covered_desk_gets_empty_plan(desk, backend):
    """Already covered at no extra cost: nothing moves, even though routes are free (on both backends)."""
    data = desk.model_dump(by_alias=True)
    data["routes"] = None
    for asset in data["assets"]:
        asset["carry"] = 0.0
    for account in data["accounts"]:
        account["requirement"] = 1000.0
        account["yields"] = {}
        account["concentration"] = {}
    problem = allocator.Problem.model_validate(data)
    result = allocator.Allocator(problem, backend=backend).solve()
    assert result.objective.total == pytest.approx(0.0, abs=1e-9)
    assert result.plan == []
    assert_verified(problem, result)


@pytest.mark.parametrize("backend", ["cvxpy", "highs"])
def test_moves_least_among_optima(backend):
    """Two equally cheap ways to cover: the one that moves less is returned (on both backends)."""
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "USDC", "location": "vault", "quantity": 1000.0},
                     {"asset": "USDC", "location": "acct", "quantity": 300.0}],
        "accounts": [{"id": "acct", "requirement": 500.0, "haircuts": {"USDC": 0.0}}],
    })
    result = allocator.Allocator(problem, backend=backend).solve()
    assert result.diagnostics.phases == ["cost", "moves"]
    assert len(result.plan) == 1
    assert result.plan[0].quantity == pytest.approx(200.0 + 500.0 * 1e-9, rel=1e-6)


def test_infeasible_fixture_reports_exact_shortfall():
    problem = allocator.load_problem(PROBLEMS / "infeasible.toml")
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(problem)
    diagnosis = caught.value.diagnosis
    assert diagnosis.by_account() == pytest.approx({"lender": 1_250_000.0}, rel=1e-9)
    assert caught.value.result.status == "infeasible"
    assert "lender" in str(caught.value)


@pytest.mark.parametrize("seed", range(4))
def test_planted_shortfall_is_the_least_total(seed):
    problem = generate_problem(10, 2, 4, seed=seed)
    data = problem.model_dump(by_alias=True)
    data["accounts"][1]["requirement"] *= 40  # far beyond what the inventory can cover
    planted = allocator.Problem.model_validate(data)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(planted)
    total, _ = min_total_shortfall(planted)
    assert relative_gap(caught.value.diagnosis.total, total) < 1e-6
    assert "acct-01" in caught.value.diagnosis.by_account()


def test_resolve_sets_parameters_only(desk):
    engine = allocator.Allocator(desk)
    first = engine.solve()
    assert engine.program.problem.is_dpp()
    compiled = engine.compilations
    data = desk.model_dump(by_alias=True)
    for asset in data["assets"]:
        asset["price"] *= 0.9 if asset["id"] in ("BTC", "ETH", "SOL") else 1.0
    for account in data["accounts"]:
        account["requirement"] *= 1.1
    changed = allocator.Problem.model_validate(data)
    again = engine.solve(changed)
    assert engine.compilations == compiled  # no recompilation
    fresh = allocator.optimize(changed)
    assert relative_gap(again.objective.total, fresh.objective.total) < 1e-7
    assert again.objective.total != pytest.approx(first.objective.total)
    assert_verified(changed, again)


def test_resolve_rejects_a_different_structure(desk):
    engine = allocator.Allocator(desk)
    data = desk.model_dump(by_alias=True)
    haircuts = data["accounts"][0]["haircuts"]
    new = next(a.id for a in desk.assets if a.id not in haircuts)
    haircuts[new] = 0.1  # a new eligible pair changes the program's structure
    with pytest.raises(ValueError, match="structure"):
        engine.solve(allocator.Problem.model_validate(data))


def test_shadow_price_predicts_requirement_change(desk):
    result = allocator.optimize(desk)
    data = desk.model_dump(by_alias=True)
    index = next(i for i, row in enumerate(result.accounts) if row.shadow_price > 0)
    step = 1_000.0
    data["accounts"][index]["requirement"] += step
    bumped = allocator.optimize(allocator.Problem.model_validate(data))
    estimate = result.accounts[index].shadow_price * step
    assert bumped.objective.total - result.objective.total == pytest.approx(estimate, rel=1e-4)


def test_clarabel_agrees_with_highs(desk):
    highs = allocator.optimize(desk, solver="HIGHS")
    clarabel = allocator.optimize(desk, solver="CLARABEL")
    assert clarabel.diagnostics.solver == "CLARABEL"
    # Clarabel's profile asks 1e-6 of each account's size as margin (interior-point answers stop near the
    # boundary): that costs about margin * account * shadow price, 1e-6 of this objective, so compare at 1e-5
    assert relative_gap(highs.objective.total, clarabel.objective.total) < 1e-5
    assert_verified(desk, clarabel)


def test_unknown_solver_is_a_solver_error(desk):
    with pytest.raises(allocator.SolverError, match="not installed"):
        allocator.optimize(desk, solver="NOPE")


def test_routes_restrict_assets_and_allow_multi_hop():
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0}, {"id": "USDC", "price": 1.0, "carry": 0.05}],
        "holdings": [{"asset": "BTC", "location": "vault", "quantity": 10.0},
                     {"asset": "USDC", "location": "vault", "quantity": 1000.0}],
        "accounts": [{"id": "acct", "requirement": 700.0, "haircuts": {"BTC": 0.5, "USDC": 0.0}}],
        "locations": [{"id": "hub"}],  # a transit point: it holds nothing, so it is declared
        "routes": [{"from": "vault", "to": "hub", "cost_bps": 10.0},
                   {"from": "hub", "to": "acct", "cost_bps": 5.0, "assets": ["USDC"]},
                   {"from": "vault", "to": "acct", "cost_bps": 100.0, "assets": ["BTC"]}],
        "horizon_days": 365,
    })
    result = allocator.optimize(problem)
    reference = solve_reference(problem)
    assert result.objective.total == pytest.approx(reference.objective, rel=1e-6)
    assert result.objective.total == pytest.approx(20.3, rel=1e-6)
    hops = [(s.asset, s.from_, s.to) for s in result.plan]
    assert hops.index(("USDC", "vault", "hub")) < hops.index(("USDC", "hub", "acct"))
    assert_verified(problem, result)


@pytest.mark.parametrize("backend", ["cvxpy", "highs"])
def test_nothing_can_move(backend):
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "USDC", "location": "acct", "quantity": 10.0}],
        "accounts": [{"id": "acct", "requirement": 5.0, "haircuts": {"USDC": 0.0}}],
        "routes": [],
    })
    result = allocator.Allocator(problem, backend=backend).solve()
    assert result.plan == [] and result.objective.total == 0.0
    assert np.isclose(result.accounts[0].collateral, 10.0)
