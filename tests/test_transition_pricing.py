"""The linear path's fast start (issue 16): the moves guessed on a coarse clock (transition/_coarse.py), the others
closed and opened by their reduced costs (_pricing.py), implied column bounds (_bounds.py) and the margin-free
right-hand sides by a second set of parameter values (_pwl._margin_free). None of them may change the program's
optimum, and the lower bound must stay a bound whatever is left closed."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HighsRuns
from transition_helpers import CRASH, with_risk

from allocator.solve._highs import CHOOSE, DEVEX, EDGE_WEIGHTS, HighsLP, _value
from allocator.solve._solvers import profile
from allocator.solve._status import Status
from allocator.transition import _pwl, plan_transition, validate_transition
from allocator.transition._coarse import coarse_guess, coarse_moves
from allocator.transition._data import TransitionData
from allocator.transition._generate import generate_transition
from allocator.transition._periods import Periods
from allocator.transition._program import build
from allocator.transition._pwl import INITIAL_PIECES, OPTIONS, _compiled, _margin_free, free_values, loaded

MARGIN = 1e-5


def _setup(assets: int = 12, accounts: int = 3, periods: int = 12):
    problem = generate_transition(assets, accounts, periods, seed=1, eligible_share=0.4, venue_assets=6,
                                  restrict_routes=True)
    shape = Periods.from_problem(problem)
    return problem, shape, TransitionData.from_problem(problem, shape)


def _program(shape, data, margin: float = MARGIN):
    return build(shape, data, coverage_margin=margin, limit_margin=margin / 10, floor_margin=margin, pwl=True,
                 pieces=INITIAL_PIECES)


def _lp() -> HighsLP:
    return HighsLP({**profile("HIGHS").options, **OPTIONS})


def _priced_optimum(program, moves: np.ndarray | None) -> tuple[float, int]:
    """The program's LP optimum (no cuts) with ``moves`` open first and the others opened as their reduced costs
    ask; the HiGHS objective and the columns left closed."""
    lp = _lp()
    _, _, columns = loaded(program, lp, moves)
    for _ in range(20):
        record = lp.solve(None, method="simplex")
        if record.status is not Status.OPTIMAL:
            assert columns.open(lp), record.status
            continue
        if not columns.open(lp, lp.solution().row_dual):
            return lp.objective(), len(columns.closed)
    raise AssertionError("pricing did not settle")


@pytest.mark.parametrize("guess", ["coarse", "none open", "every other"])
def test_priced_columns_reach_the_whole_programs_optimum(guess):
    problem, shape, data = _setup()
    program = _program(shape, data)
    whole, closed = _priced_optimum(program, None)
    assert closed == 0
    if guess == "coarse":
        moves = coarse_moves(problem, shape, data, coverage_margin=MARGIN, limit_margin=MARGIN / 10,
                             pieces=INITIAL_PIECES)
        assert moves is not None and 0 < moves.sum() < shape.n_moves
    elif guess == "none open":  # no schedule without moves: the whole program is opened
        moves = np.zeros(shape.n_moves, dtype=bool)
    else:
        moves = np.arange(shape.n_moves) % 2 == 0
    restricted, left = _priced_optimum(program, moves)
    assert restricted == pytest.approx(whole, rel=1e-9, abs=1e-12)
    if guess == "coarse":
        assert left > 0  # pricing proved some moves unused without ever loading them


def test_the_correction_keeps_a_restricted_optimum_a_lower_bound():
    """Closed columns left closed: the restricted optimum is above the whole one, and the Lagrangian correction
    brings it back below it."""
    _, shape, data = _setup()
    program = _program(shape, data)
    whole, _ = _priced_optimum(program, None)
    lp = _lp()
    _, _, columns = loaded(program, lp, np.arange(shape.n_moves) % 3 != 0)
    assert lp.solve(None, method="simplex").status is Status.OPTIMAL
    restricted = lp.objective()
    correction = columns.correction(lp.solution().row_dual)
    assert restricted >= whole - 1e-12 and correction <= 0.0
    assert restricted + correction <= whole + 1e-12


def test_implied_bounds_change_no_optimum():
    """The program with its implied column bounds (as loaded) and as cvxpy compiles it have the same optimum."""
    _, shape, data = _setup()
    program = _program(shape, data)
    bounded, _ = _priced_optimum(program, None)
    compiled, _, lower = _compiled(program)
    matrix = compiled["A"].tocsc()
    lp = _lp()
    n = matrix.shape[1]
    lp.load_arrays(compiled["c"], compiled["lower_bounds"], np.full(n, np.inf), lower, compiled["b"],
                   matrix.indptr, matrix.indices, matrix.data)
    assert lp.solve(None, method="simplex").status is Status.OPTIMAL
    assert lp.objective() == pytest.approx(bounded, rel=1e-9, abs=1e-12)


def test_margin_free_data_match_a_compile_of_the_margin_free_program_and_restore_the_parameters():
    _, shape, data = _setup()
    program, free = _program(shape, data), _program(shape, data, margin=0.0)
    before = [np.array(p.value, copy=True) for p in program.problem.parameters()]
    swapped, _, swapped_lower = _margin_free(program, free)
    direct, _, direct_lower = _compiled(free)
    assert (swapped["A"] != direct["A"]).nnz == 0
    np.testing.assert_array_equal(swapped["b"], direct["b"])
    np.testing.assert_array_equal(swapped_lower, direct_lower)
    assert not np.array_equal(swapped["b"], _compiled(program)[0]["b"])  # the margins are in the data
    for p, value in zip(program.problem.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.value, value)


def test_a_guessed_transition_agrees_with_the_convex_program_within_the_bound():
    """End to end on a transition big enough for the guess (12 periods, 80 moves): verified, and the convex
    optimum lies in [lower_bound, cost]."""
    problem, shape, data = _setup()
    assert coarse_moves(problem, shape, data, coverage_margin=MARGIN, limit_margin=MARGIN / 10,
                        pieces=INITIAL_PIECES) is not None
    linear, exact = plan_transition(problem, impact="linear"), plan_transition(problem, impact="exact")
    assert validate_transition(problem, linear) == []
    d = linear.diagnostics
    slack = 1e-7 * max(abs(exact.costs.total), 1.0)
    assert d.lower_bound is not None and d.lower_bound <= exact.costs.total + slack
    assert exact.costs.total <= linear.costs.total + slack


def test_the_guess_solved_on_a_thread_is_the_coarse_guess_and_loads_as_an_array():
    """coarse_guess solves the coarse program on a thread while the caller goes on: the function it returns gives
    the same moves as coarse_moves, and loading the fine program with that function or with the array gives the
    same restricted program (the same columns closed, the same optimum)."""
    problem, shape, data = _setup()
    args = dict(coverage_margin=MARGIN, limit_margin=MARGIN / 10, pieces=INITIAL_PIECES)
    waiting = coarse_guess(problem, shape, data, **args)
    assert waiting is not None
    moves = coarse_moves(problem, shape, data, **args)
    program = _program(shape, data)
    lps = [_lp(), _lp()]
    first = loaded(program, lps[0], waiting)[2]
    second = loaded(program, lps[1], moves)[2]
    np.testing.assert_array_equal(first.closed, second.closed)
    assert len(first.closed) > 0
    for lp in lps:
        assert lp.solve(None, method="simplex").status is Status.OPTIMAL
    assert lps[0].objective() == pytest.approx(lps[1].objective(), rel=1e-12, abs=1e-15)


def test_no_guess_for_a_transition_too_small_to_pay():
    problem, shape, data = _setup(periods=6)
    assert coarse_guess(problem, shape, data, coverage_margin=MARGIN, limit_margin=MARGIN / 10,
                        pieces=INITIAL_PIECES) is None


def _stressed():
    """TINY with a market, a crash scenario and a risk limit (transition_helpers.with_risk): stress parameters in
    the program."""
    stressed = with_risk({"parametric": False}, CRASH)
    shape = Periods.from_problem(stressed)
    return stressed, shape, TransitionData.from_problem(stressed, shape)


@pytest.mark.parametrize("case", ["generated", "stressed"])
def test_free_values_are_the_margin_free_programs_and_compile_to_its_data(case):
    """The bound's margin-free parameter values, set afresh without building that program (_pwl.free_values), are
    exactly those of the built margin-free program, parameter by parameter (stress rows included), and the swap
    compiles to its data and restores the program's own values."""
    _, shape, data = _setup() if case == "generated" else _stressed()
    program, free = _program(shape, data), _program(shape, data, margin=0.0)
    if case == "stressed":
        assert any(p.name().startswith("stress_floor") for p in program.problem.parameters())
    values = free_values(program)
    for mine, theirs in zip(program.problem.parameters(), free.problem.parameters(), strict=True):
        np.testing.assert_array_equal(values[id(mine)], theirs.value)
    before = [np.array(p.value, copy=True) for p in program.problem.parameters()]
    swapped, _, swapped_lower = _margin_free(program)
    direct, _, direct_lower = _compiled(free)
    assert (swapped["A"] != direct["A"]).nnz == 0
    np.testing.assert_array_equal(swapped["b"], direct["b"])
    np.testing.assert_array_equal(swapped_lower, direct_lower)
    for p, value in zip(program.problem.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.value, value)


def test_a_run_asked_for_devex_prices_by_it_and_the_next_by_the_configured_weights(monkeypatch):
    """HighsLP.solve(devex=True) runs HiGHS with Devex weights where HiGHS would choose them, and leaves the options
    as they were; an explicit strategy always wins."""
    _, shape, data = _setup()
    runs = HighsRuns(monkeypatch)
    for options, configured in (({}, CHOOSE), ({EDGE_WEIGHTS: 2}, 2)):
        lp = HighsLP({**profile("HIGHS").options, **OPTIONS, **options})
        loaded(_program(shape, data), lp)
        runs.seen.clear()
        for devex in (True, False):
            assert lp.solve(None, method="simplex", devex=devex).status is Status.OPTIMAL
            assert _value(lp.highs.getOptionValue(EDGE_WEIGHTS)) == configured
        during = runs.weights
        assert during[0] == (DEVEX if configured == CHOOSE else configured)  # then HiGHS's choice if it went on
        assert set(during[1:]) == {configured}


@pytest.mark.parametrize("small", [0, 10**9])
def test_small_openings_price_by_devex_and_large_ones_re_solve_without_cuts(monkeypatch, small):
    """SMALL_OPENING (_pwl.py) decides two things. After an opening of at most that many columns the cut loop prices
    by Devex; a larger opening re-solves alone, without that round's cuts, and the next round cuts at the new
    optimum. Forced so that every opening is large (0): no run by Devex, and no opening followed by cuts before the
    next solve. Forced so that none is (10**9): both happen (an opening happens on this problem, and its first comes
    with cuts). Either way the schedule is verified and each run's cost lies within the other's certified bound:
    the choices move the path, never the guarantee."""
    problem, _, _ = _setup()
    default = plan_transition(problem, impact="linear")
    events: list[str] = []
    devex: list[bool] = []
    add_rows, open_, solve = HighsLP.add_rows, _pwl.Columns.open, HighsLP.solve

    def run(self, *args, **kwargs):
        events.append("solve")
        devex.append(bool(kwargs.get("devex", False)))
        return solve(self, *args, **kwargs)

    def rows(self, *args):
        events.append("cuts")
        return add_rows(self, *args)

    def opening(self, *args, **kwargs):
        count = open_(self, *args, **kwargs)
        events.append("open" if count else "none")
        return count

    monkeypatch.setattr(_pwl, "SMALL_OPENING", small)
    monkeypatch.setattr(HighsLP, "solve", run)
    monkeypatch.setattr(HighsLP, "add_rows", rows)
    monkeypatch.setattr(_pwl.Columns, "open", opening)
    forced = plan_transition(problem, impact="linear")
    assert validate_transition(problem, forced) == []
    assert any(devex) is (small > 0)
    after = {b for a, b in zip(events[:-1], events[1:], strict=True) if a == "open"}
    assert "open" in events and ("cuts" in after) is (small > 0), events
    slack = 1e-9 * max(abs(default.costs.total), 1.0)
    for one, other in ((default, forced), (forced, default)):
        assert one.diagnostics.lower_bound <= other.costs.total + slack
