"""The compile-free linear path (program/_lp, solve/_fast.py) against the cvxpy program and the independent scipy LP:
the same optimum, the same duals and sensitivities, the same ladder, on every supported fixture and random problems.

Each test forces the backend (``Allocator(problem, backend=...)``); the default ("auto") takes the linear path for
every problem it serves.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from benchmarks._cases import scaled  # the benchmarks' what-if copy (tests/benchmarks/_cases.py)
from helpers import PROBLEMS, assert_verified, objective_gap, relative_gap
from reference_lp import min_total_shortfall, solve_reference

import allocator
from allocator.io.generate import generate_problem
from allocator.program._layout import Layout
from allocator.program._lp.support import unsupported
from allocator.program._lp.values import LinearValues
from allocator.program._model import Program
from allocator.program._numbers import Numbers
from allocator.solve._ladder import NO_MARGIN
from allocator.solve._solvers import choose_backend, profile
from allocator.solve._status import Status

LINEAR_FIXTURES = ["desk", "swap"]


def _both(problem: allocator.Problem, **options) -> tuple[allocator.Result, allocator.Result]:
    return (allocator.Allocator(problem, backend="cvxpy", **options).solve(),
            allocator.Allocator(problem, backend="highs", **options).solve())


def _gross(result: allocator.Result) -> float:
    return abs(result.objective.carry) + abs(result.objective.transfer)


def _assert_same_optimum(reference: allocator.Result, fast: allocator.Result, vertex: bool = True) -> None:
    """Objective to 1e-9 of the gross cost, the same shadow prices, marginal values and binding rows (the duals of
    a simplex vertex; on a degenerate optimum both paths read HiGHS's, so ``vertex=False`` where the linear path
    started on the useful columns, whose duals the caller checks by KKT), and the same least value moved."""
    assert relative_gap(reference.objective.total, fast.objective.total, _gross(reference)) <= 1e-9
    assert [a.shadow_price for a in fast.accounts] == pytest.approx([a.shadow_price for a in reference.accounts],
                                                                    rel=1e-7, abs=1e-12)
    if vertex:
        marginal = {(m.asset, m.location): m.value for m in reference.marginal_values}
        for row in fast.marginal_values:
            assert row.value == pytest.approx(marginal.pop((row.asset, row.location), 0.0), rel=1e-7, abs=1e-9)
        assert all(abs(v) <= 1e-9 for v in marginal.values())
        assert sorted(b.label for b in fast.binding) == sorted(b.label for b in reference.binding)
    moved = [sum(step.value for step in r.plan) for r in (reference, fast)]
    assert moved[1] == pytest.approx(moved[0], rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("name", LINEAR_FIXTURES)
def test_fixtures_match_the_cvxpy_program(name):
    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    reference, fast = _both(problem)
    _assert_same_optimum(reference, fast)
    assert [(t.asset, t.location, t.quantity) for t in fast.targets] == \
        [(t.asset, t.location, pytest.approx(t.quantity, rel=1e-9, abs=1e-9)) for t in reference.targets]
    assert_verified(problem, fast)
    assert objective_gap(fast, solve_reference(problem).objective) < 1e-9


@pytest.mark.parametrize("seed", range(9))
def test_random_problems_match_the_cvxpy_program_and_the_reference_lp(seed):
    topology = ("hub", "none", "complete")[seed % 3]
    problem = generate_problem(8 + 6 * seed, 1 + seed % 3, 2 + seed % 5, seed=seed, topology=topology,
                               limits=seed % 2 == 0, tightness=0.5 + 0.05 * seed, posted_share=0.1 * seed)
    reference, fast = _both(problem)
    _assert_same_optimum(reference, fast)
    assert_verified(problem, fast)
    assert objective_gap(fast, solve_reference(problem).objective) < 1e-9


def test_the_largest_ci_size_matches():
    problem = generate_problem(60, 2, 8, seed=11, topology="hub")
    reference, fast = _both(problem)
    _assert_same_optimum(reference, fast)
    assert_verified(problem, fast)


@pytest.mark.slow
@pytest.mark.parametrize(("assets", "accounts"), [(200, 20), (500, 40)])
def test_large_problems_match(assets, accounts):
    """Above REDUCE_MIN_COLUMNS the cold start solves the useful columns first (tests/test_fast_lp_paths.py): on
    these degenerate optima its duals are another optimal vertex's, so they are checked by the whole program's
    KKT conditions instead of against the cvxpy program's vertex."""
    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    reference = allocator.Allocator(problem, backend="cvxpy").solve()
    engine = allocator.Allocator(problem, backend="highs")
    fast = engine.solve()
    assert engine.fast.reduction.whole is None
    _assert_same_optimum(reference, fast, vertex=False)
    assert _kkt(engine) <= 1e-9
    assert objective_gap(fast, solve_reference(problem).objective) < 1e-9


@pytest.mark.parametrize("name", ["desk", "swap", "infeasible"])
def test_the_linear_values_are_the_cvxpy_parameter_values(name):
    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    layout = Layout.from_problem(problem)
    numbers = Numbers.from_problem(problem, layout)
    program = Program(layout)
    margins = profile("CLARABEL")  # non-zero margins on both rows
    scale = program.assign(numbers, margins)
    values = LinearValues.of(layout, numbers, scale, margins.coverage_margin, margins.limit_margin)
    p = program.parameters
    for field in ("holdings", "weight", "required", "limit", "share_weight", "carry", "move", "account_scale",
                  "limit_scale"):
        mine = getattr(values, field)
        theirs = np.asarray(getattr(p, field).value)[:len(mine)]
        assert mine == pytest.approx(theirs, rel=1e-15, abs=0), field


def _kkt(engine: allocator.Allocator) -> float:
    """The KKT residuals of the linear path's cost LP from its own matrices and HiGHS's solution: primal
    feasibility (rows and columns), dual sign at each active bound, complementary slackness and stationarity
    ``c - A'y - z = 0``; the largest, in program units."""
    fast = engine.fast
    m, sol = fast.matrices, fast.cost_solution
    a = sp.csc_matrix((m.value, m.index, m.start), shape=(len(m.row_lower), len(m.cost)))
    x, y, z = sol.col_value, sol.row_dual, sol.col_dual
    activity = a @ x
    primal = max(np.max(m.row_lower - activity, initial=0.0), np.max(activity - m.row_upper, initial=0.0),
                 np.max(m.col_lower - x, initial=0.0), np.max(x - m.col_upper, initial=0.0))
    stationarity = np.max(np.abs(m.cost - a.T @ y - z), initial=0.0)
    # y > 0 only where the row sits at its lower bound, y < 0 only at its upper; the same for z and columns
    slack_low, slack_up = activity - m.row_lower, m.row_upper - activity
    rows = np.max(np.abs(np.where(y > 0, y * np.minimum(slack_low, 1.0), -y * np.minimum(slack_up, 1.0))),
                  initial=0.0)
    cols = np.max(np.abs(np.where(z > 0, z * np.minimum(x - m.col_lower, 1.0), -z * np.minimum(m.col_upper - x, 1.0))),
                  initial=0.0)
    return float(max(primal, stationarity, rows, cols))


@pytest.mark.parametrize("seed", range(4))
def test_the_linear_path_satisfies_kkt(seed):
    problem = generate_problem(6 + 3 * seed, 2, 3 + seed % 3, seed=seed, topology=("hub", "complete", "none")[seed % 3],
                               limits=True)
    engine = allocator.Allocator(problem, backend="highs", minimise_moves=False)
    engine.solve(plan=False)
    assert _kkt(engine) <= 1e-9


def test_shadow_prices_are_the_coverage_duals_in_currency(desk):
    """``shadow_price`` = HiGHS's coverage row dual (d cost / d requirement in program units) times (1 + buffer),
    in currency per currency: the same definition as the cvxpy path's (test_kkt.py)."""
    engine = allocator.Allocator(desk, backend="highs", minimise_moves=False)
    result = engine.solve(plan=False)
    fast = engine.fast
    dual = fast.cost_solution.row_dual[fast.structure.blocks.row_slice("coverage")]
    scale = fast.scale
    buffer = np.array([a.buffer for a in desk.accounts])
    expected = dual * (1.0 + buffer) * scale.rate / scale.accounts
    assert [row.shadow_price for row in result.accounts] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert (expected > 0).any()


def test_shadow_price_predicts_a_requirement_change(desk):
    engine = allocator.Allocator(desk, backend="highs")
    base = engine.solve()
    bound = next(a for a in base.accounts if a.shadow_price > 0)
    data = desk.model_dump(by_alias=True)
    account = next(a for a in data["accounts"] if a["id"] == bound.id)
    step = 1e-4 * account["requirement"]
    account["requirement"] += step
    changed = engine.solve(allocator.Problem.model_validate(data))
    predicted = bound.shadow_price * step * (1 + account["buffer"]) / (1 + account["buffer"])
    assert changed.objective.total - base.objective.total == pytest.approx(predicted, rel=1e-4)


def test_resolves_start_from_the_home_basis_and_do_not_depend_on_history():
    """A re-solve starts from the optimal basis of the engine's own problem, never from the previous solve: the
    same changed problem gives the same answer whatever was solved before, and the optimum of a fresh solve."""
    problem = generate_problem(40, 2, 6, seed=4, topology="hub")
    first, second = scaled(problem, 1.02, 1.05), scaled(problem, 0.97, 0.9)
    engine = allocator.Allocator(problem, backend="highs")
    engine.solve()
    compiled = engine.compilations
    after_history = [engine.solve(second), engine.solve(first)][1]
    assert engine.compilations == compiled
    fresh = allocator.Allocator(problem, backend="highs").solve(first)  # solves the engine's problem first
    assert after_history.targets == fresh.targets and after_history.plan == fresh.plan
    cold = allocator.Allocator(first, backend="cvxpy").solve()
    assert relative_gap(after_history.objective.total, cold.objective.total, _gross(cold)) <= 1e-9
    assert_verified(first, after_history)


def test_infeasible_problems_get_the_same_diagnosis():
    problem = allocator.load_problem(PROBLEMS / "infeasible.toml")
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.Allocator(problem, backend="highs").solve()
    assert caught.value.diagnosis.by_account() == pytest.approx({"lender": 1_250_000.0}, rel=1e-9)
    planted = generate_problem(10, 2, 4, seed=3).model_dump(by_alias=True)
    planted["accounts"][1]["requirement"] *= 40
    planted_problem = allocator.Problem.model_validate(planted)
    with pytest.raises(allocator.InfeasibleError) as caught:
        allocator.Allocator(planted_problem, backend="highs").solve()
    total, _ = min_total_shortfall(planted_problem)
    assert relative_gap(caught.value.diagnosis.total, total) < 1e-9


def test_a_problem_covered_only_exactly_is_solved_without_margins():
    """One account whose requirement is all the collateral there is, to within rounding: the margin makes the
    program infeasible, the elastic copy finds no shortfall beyond rounding, and the ladder solves again without
    margins (a note says so), as on the cvxpy path."""
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "USDC", "price": 1.0, "carry": 0.05}],
        "holdings": [{"asset": "USDC", "location": "vault", "quantity": 999_999.999999}],
        "accounts": [{"id": "venue", "requirement": 900_000.0, "haircuts": {"USDC": 0.1}}],
    })
    result = allocator.Allocator(problem, backend="highs").solve()
    assert NO_MARGIN in result.diagnostics.notes
    assert result.accounts[0].collateral == pytest.approx(0.9 * 999_999.999999, rel=1e-12)
    assert allocator.Allocator(problem, backend="cvxpy").solve().diagnostics.notes == result.diagnostics.notes
    assert_verified(problem, result)


def test_a_time_limit_is_a_solver_error_after_the_diagnosis_fails_too():
    problem = generate_problem(40, 2, 6, seed=3)
    with pytest.raises(allocator.SolverError) as caught:
        allocator.Allocator(problem, backend="highs", time_limit=1e-9).solve()
    assert caught.value.status == Status.USER_LIMIT.value


def test_the_default_takes_the_linear_path_for_every_problem_it_serves(desk):
    assert allocator.Allocator(desk).backend == "highs"  # small or large alike
    layout = Layout.from_problem(generate_problem(60, 2, 40, seed=1, topology="hub"))
    assert choose_backend("auto", layout, "HIGHS") == "highs"
    assert choose_backend("auto", layout, "CLARABEL") == "cvxpy"
    fund = allocator.load_problem(PROBLEMS / "fund.toml")
    with pytest.raises(allocator.SolverError, match="risk limits") as caught:
        allocator.Allocator(fund, backend="highs")
    assert caught.value.status == "unsupported"
    with pytest.raises(allocator.SolverError, match="CLARABEL"):
        allocator.Allocator(desk, "CLARABEL", backend="highs")
    with pytest.raises(ValueError, match="backend"):
        allocator.Allocator(desk, backend="scipy")  # type: ignore[arg-type]


def test_an_unknown_layout_feature_goes_to_the_cvxpy_program(desk):
    """A feature added to the cvxpy program later (a new Layout field) is never dropped by the linear path: set,
    it sends the problem to cvxpy; empty, it changes nothing."""

    @dataclasses.dataclass(frozen=True, eq=False)
    class Extended(Layout):
        collars: tuple[str, ...] = ()

    layout = Layout.from_problem(desk)
    plain = Extended(**{f.name: getattr(layout, f.name) for f in dataclasses.fields(layout)})
    assert unsupported(plain) == []
    extended = dataclasses.replace(plain, collars=("BTC-COLLAR",))
    assert unsupported(extended) == ["layout feature 'collars', unknown to the linear path"]
    assert choose_backend("auto", extended, "HIGHS") == "cvxpy"
    with pytest.raises(allocator.SolverError, match="collars"):
        choose_backend("highs", extended, "HIGHS")


def test_a_fallback_solver_goes_through_cvxpy(desk):
    engine = allocator.Allocator(desk, backend="highs", fallback="CLARABEL")
    engine.solver = "CLARABEL"
    assert engine._fast is None  # the linear path serves HiGHS only
    engine.solver = engine.primary
    result = engine.solve()
    assert result.diagnostics.solver == "HIGHS"
    assert_verified(desk, result)


def test_incremental_cost_reads_the_cvxpy_program_whatever_the_default(desk):
    """incremental_cost's estimate is the cvxpy program's Lagrangian: with the linear path as the default it still
    builds the cvxpy program instead of reading one that was never solved."""
    from allocator.analysis.incremental import incremental_cost

    assert allocator.Allocator(desk).backend == "highs"
    account = desk.accounts[0].id
    cost = incremental_cost(desk, {"requirement_scale": {account: 1.001}})
    assert cost.exact == pytest.approx(cost.estimate, rel=1e-3, abs=1e-6)


def test_no_figure_is_a_negative_zero(desk):
    """HiGHS returns some zero duals as -0.0; the shadow prices and marginal values users read never show "-0.00"."""
    import math

    result = allocator.Allocator(desk, backend="highs").solve()
    figures = [a.shadow_price for a in result.accounts] + [m.value for m in result.marginal_values] + [
        b.shadow_price for b in result.binding]
    assert not [x for x in figures if x == 0.0 and math.copysign(1.0, x) < 0]


def test_solver_options_the_linear_path_cannot_take_send_auto_to_cvxpy(desk):
    """A cvxpy solve argument (not a HiGHS option) is honoured by the cvxpy program, never dropped: "auto" takes
    cvxpy, "highs" forced is an "unsupported" SolverError naming it."""
    engine = allocator.Allocator(desk, solver_options={"canon_backend": "SCIPY"})
    assert engine.backend == "cvxpy"
    assert_verified(desk, engine.solve())
    with pytest.raises(allocator.SolverError, match="canon_backend") as caught:
        allocator.Allocator(desk, backend="highs", solver_options={"canon_backend": "SCIPY"})
    assert caught.value.status == "unsupported"
    assert allocator.Allocator(desk, solver_options={"simplex_strategy": 1}).backend == "highs"  # a HiGHS option


def test_verbose_turns_on_the_highs_log_and_time_limit_has_one_place(desk):
    """``verbose`` (cvxpy's switch for a solver's log) is HiGHS's ``output_flag`` on the linear path, not dropped;
    ``time_limit`` is the Allocator's own argument on either path, never a solver option."""
    engine = allocator.Allocator(desk, solver_options={"verbose": True})
    assert engine.fast is not None
    flag = engine.fast.lp.highs.getOptionValue("output_flag")
    assert (flag[1] if isinstance(flag, tuple) else flag) is True
    for backend in ("auto", "cvxpy"):
        with pytest.raises(ValueError, match="time_limit="):
            allocator.Allocator(desk, backend=backend, solver_options={"time_limit": 1.0})
