"""The duals behind shadow prices, marginal values and binding labels satisfy the KKT conditions (tests/kkt.py), on
every solved fixture and on random problems, and the shadow prices users see are the ones those duals give."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS
from kkt import kkt

import allocator
from allocator.io.generate import generate_problem

#: Residual bounds in program units (money scaled to order one): a simplex vertex is exact, an interior point
#: stops within about its tolerances (1e-9 in the profiles, relative to data of order one).
TOLERANCE = {"HIGHS": 1e-9, "CLARABEL": 1e-6}


def _solved(problem: allocator.Problem, solver: str | None = None) -> tuple[allocator.Allocator, allocator.Result]:
    """The cost phase only (the moves phase re-solves another problem over the same variables), on the cvxpy program
    whose duals these tests read (the linear path's own KKT test is in test_fast_lp.py)."""
    engine = allocator.Allocator(problem, solver, minimise_moves=False, backend="cvxpy")
    return engine, engine.solve(plan=False)


@pytest.mark.parametrize(("name", "solver"), [("desk", None), ("desk", "CLARABEL"), ("swap", None),
                                              ("fund", None), ("perps-risk", None)])
def test_fixtures_satisfy_kkt(name, solver):
    engine, _ = _solved(allocator.load_problem(PROBLEMS / f"{name}.toml"), solver)
    residuals = kkt(engine.program.problem)
    assert residuals.worst() <= TOLERANCE[engine.solver], residuals


@pytest.mark.parametrize("seed", range(6))
def test_random_linear_problems_satisfy_kkt(seed):
    problem = generate_problem(n_assets=6 + seed, n_wallets=2, n_accounts=3 + seed % 3, seed=seed,
                               topology=("hub", "complete", "none")[seed % 3], limits=seed % 2 == 0)
    engine, _ = _solved(problem)
    assert kkt(engine.program.problem).worst() <= TOLERANCE["HIGHS"]


@pytest.mark.parametrize("seed", range(3))
def test_random_risk_problems_satisfy_kkt(seed):
    problem = generate_problem(n_assets=6, n_wallets=1, n_accounts=3, seed=seed, topology="hub", risk=True,
                               scenarios=3)
    engine, _ = _solved(problem)
    assert kkt(engine.program.problem).worst() <= TOLERANCE[engine.solver]


def test_shadow_prices_are_the_kkt_duals_in_currency(desk):
    """``shadow_price`` of an account = d(cost)/d(requirement): the coverage row's dual (checked above) times
    (1 + buffer), in currency per currency (rate scale over the account's scale). Positive: a higher requirement
    costs more; accounts with room have 0."""
    engine, result = _solved(desk)
    coverage = next(c for c in engine.program.constraints if c.family == "coverage")
    dual = np.asarray(coverage.constraint.dual_value, dtype=float)
    scale = engine.program.scale
    buffer = np.array([a.buffer for a in desk.accounts])
    expected = dual * (1.0 + buffer) * scale.rate / scale.accounts
    reported = np.array([row.shadow_price for row in result.accounts])
    assert reported == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert (reported >= 0).all() and (reported > 0).any()
    assert all(row.shadow_price == 0 or row.excess <= 1e-6 * row.required for row in result.accounts)


def test_the_helper_catches_wrong_duals(desk):
    engine, _ = _solved(desk)
    coverage = next(c for c in engine.program.constraints if c.family == "coverage").constraint
    right = coverage.dual_value
    coverage.save_dual_value(-np.asarray(right) - 1.0)  # wrong-signed: dual infeasible and not stationary
    wrong = kkt(engine.program.problem)
    coverage.save_dual_value(right)
    assert wrong.dual > 0.1 and wrong.stationarity > 0.1
