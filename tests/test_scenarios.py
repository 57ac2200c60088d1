"""Stress scenarios as a working set (program/_scenarios.py) and the factor-model market."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_verified, relative_gap

import allocator
import allocator.program._scenarios as working_set
from allocator.io.generate import generate_problem


@pytest.fixture(scope="module")
def many_scenarios() -> allocator.Problem:
    return generate_problem(12, 2, 3, seed=7, risk=True, scenarios=60, factor_model=True, tightness=0.9)


def test_working_set_meets_every_scenario_at_the_full_optimum(many_scenarios, monkeypatch):
    engine = allocator.Allocator(many_scenarios)
    assert engine.program.stress_slots < len(engine.layout.stress)  # a working set, not every scenario
    lazy = engine.solve()
    assert_verified(many_scenarios, lazy)
    monkeypatch.setattr(working_set, "ALL_SCENARIOS", 10_000)  # every scenario a row from the start
    full = allocator.Allocator(many_scenarios)
    assert full.program.stress_slots == len(full.layout.stress)
    every = full.solve()
    assert relative_gap(lazy.objective.total, every.objective.total,
                        abs(every.objective.carry) + abs(every.objective.transfer)) < 1e-7


def test_full_slots_rebuild_the_program_with_more(many_scenarios, monkeypatch):
    monkeypatch.setattr(working_set, "FIRST_SLOTS", 1)
    monkeypatch.setattr(working_set, "FIRST_PICKS", 1)
    engine = allocator.Allocator(many_scenarios)
    result = engine.solve()
    assert_verified(many_scenarios, result)
    assert engine.program.stress_slots > 1
    reference = allocator.Allocator(many_scenarios).solve()
    assert abs(result.objective.total - reference.objective.total) <= 1e-7 * max(1.0, abs(reference.objective.total))


def test_binding_stress_rows_are_named_by_scenario(many_scenarios):
    result = allocator.optimize(many_scenarios)
    names = {s.name for s in many_scenarios.stress_scenarios}
    stress = [b.label for b in result.binding if b.label.startswith("stress[")]
    assert all(label.split(",", 1)[1].rstrip("]") in names for label in stress), stress
    worst = {row.id: row.worst_scenario for row in result.accounts}
    assert all(name in names for name in worst.values())


def test_infeasible_scenario_outside_the_first_working_set_is_diagnosed(many_scenarios):
    data = many_scenarios.model_dump(by_alias=True)
    crash = {asset["id"]: -0.95 for asset in data["assets"]}
    data["stress_scenarios"].append({"name": "wipe-out", "returns": crash})
    problem = allocator.Problem.model_validate(data)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.optimize(problem)
    assert caught.value.diagnosis.shortfalls, caught.value


def factor_desk(**market) -> allocator.Problem:  # type: ignore[no-untyped-def]
    base = {"assets": ["BTC", "ETH", "USDC"],
            "loadings": {"BTC": [0.45, 0.1], "ETH": [0.55, -0.2], "USDC": [0.0, 0.0]},
            "specific_volatility": {"BTC": 0.2, "ETH": 0.3, "USDC": 0.004}}
    base.update(market)
    return allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 95_000.0}, {"id": "ETH", "price": 2_600.0, "carry": 0.02},
                   {"id": "USDC", "price": 1.0, "carry": 0.045}],
        "holdings": [{"asset": "BTC", "location": "custody", "quantity": 30.0},
                     {"asset": "ETH", "location": "custody", "quantity": 800.0},
                     {"asset": "USDC", "location": "custody", "quantity": 3e6}],
        "accounts": [{"id": "perps", "requirement": 1e6, "haircuts": {"BTC": 0.05, "ETH": 0.05, "USDC": 0.0},
                      "risk": {"horizon_days": 2, "confidence": 0.99}}],
        "positions": [{"account": "perps", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                       "quantity": 20.0}],
        "market": base})


def test_factor_model_equals_the_same_covariance_given_as_correlations():
    factor = factor_desk()
    covariance = factor.market.covariance()
    vol = np.sqrt(np.diag(covariance))
    data = factor.model_dump(by_alias=True)
    names = ["BTC", "ETH", "USDC"]
    data["market"] = {"assets": names, "volatility": dict(zip(names, vol.tolist(), strict=True)),
                      "correlation": (covariance / np.outer(vol, vol)).tolist()}
    given = allocator.Problem.model_validate(data)
    first, second = allocator.optimize(factor), allocator.optimize(given)
    assert_verified(factor, first)
    assert abs(first.objective.total - second.objective.total) <= 1e-6 * max(1.0, abs(second.objective.total))
    assert first.accounts[0].sigma == pytest.approx(second.accounts[0].sigma, rel=1e-6)


@pytest.mark.parametrize(("market", "location", "code"), [
    ({"loadings": {"BTC": [0.4], "ETH": [0.5, 0.1], "USDC": [0.0]}}, "market.loadings", "bad_shape"),
    ({"specific_volatility": None}, "market.specific_volatility", "missing_field"),
    ({"specific_volatility": {"BTC": 0.2, "ETH": 0.3}}, "market.specific_volatility.USDC", "missing_field"),
    ({"volatility": {"BTC": 0.5, "ETH": 0.6, "USDC": 0.01}}, "market.volatility", "conflicting_fields"),
    ({"loadings": {"BTC": [0.4, 0.0], "ETH": [0.5, 0.1], "USDC": [0.0, 0.0], "SOL": [1.0, 0.0]}},
     "market.loadings.SOL", "misaligned"),
    ({"loadings": {"BTC": [0.4, float("nan")], "ETH": [0.5, 0.1], "USDC": [0.0, 0.0]}}, "market.loadings.BTC[1]",
     "not_finite"),
], ids=["ragged", "no-specific", "missing-specific", "both-forms", "unknown", "nan"])
def test_bad_factor_model_is_located(market, location, code):
    data = factor_desk().model_dump(by_alias=True)
    data["market"].update(market)
    if data["market"].get("specific_volatility") is None:
        data["market"].pop("specific_volatility")
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert (location, code) in {(i.location, i.code) for i in caught.value.issues}, caught.value.issues


def linear(problem: allocator.Problem) -> allocator.Problem:
    data = problem.model_dump(by_alias=True)
    for account in data["accounts"]:
        if account.get("risk"):
            account["risk"]["parametric"] = False
    return allocator.Problem.model_validate(data)


def test_stress_and_cvar_without_the_cone_stay_linear_and_agree_across_solvers(many_scenarios):
    data = linear(many_scenarios).model_dump(by_alias=True)
    data["accounts"][0]["risk"].update(cvar_confidence=0.95, cvar_scenarios=100)
    problem = allocator.Problem.model_validate(data)
    engine = allocator.Allocator(problem)
    assert not engine.layout.has_cones and engine.solver == "HIGHS"
    highs = engine.solve()
    assert_verified(problem, highs)
    assert highs.accounts[0].sigma is None and highs.accounts[0].cvar is not None
    clarabel = allocator.optimize(problem, solver="CLARABEL")
    gross = abs(highs.objective.carry) + abs(highs.objective.transfer)
    # Clarabel's coverage margin is 1e-6 of the money scale (HiGHS: 1e-9)
    assert relative_gap(highs.objective.total, clarabel.objective.total, gross) < 1e-5
