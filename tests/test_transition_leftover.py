"""The linear path's holdings as what is left after each period's departures and sales (transition/_leftover.py):
HiGHS gets an equivalent program whose available rows of periods 2 to T are column bounds. Checked against the
program as written: the same optimum, HiGHS's solution mapped back meets every row of the written program with the
same cost, and a layout the substitution does not recognise is left as it is."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS
from transition_helpers import CRASH, landing, tiny, with_risk

import allocator
from allocator.solve._highs import HighsLP
from allocator.solve._solvers import profile
from allocator.solve._status import Status
from allocator.transition._data import TransitionData
from allocator.transition._generate import generate_transition
from allocator.transition._leftover import leftover
from allocator.transition._periods import Periods
from allocator.transition._pricing import Columns
from allocator.transition._program import build
from allocator.transition._pwl import INITIAL_PIECES, OPTIONS, _bounds, _compiled, loaded

CASES = {
    "generated 12x3x12": lambda: generate_transition(12, 3, 12, seed=2, eligible_share=0.4, venue_assets=6,
                                                     restrict_routes=True),
    "generated 20x4x12 all routes": lambda: generate_transition(20, 4, 12, seed=3, eligible_share=0.3,
                                                                venue_assets=8),
    "derisk": lambda: allocator.load_problem(PROBLEMS / "derisk.toml"),
    "landing mid-period": landing,
    "stress rows (cvxpy's compile)": lambda: with_risk({"parametric": False}, CRASH),
}


def _program(problem: allocator.Problem):
    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    return build(periods, data, coverage_margin=2e-6, limit_margin=1e-7, floor_margin=1e-6, pwl=True,
                 pieces=INITIAL_PIECES)


def _solved(program, substitute: bool):
    """The program's LP (no cuts, every move open) loaded as the loop loads it, with or without the substitution,
    solved: HiGHS's objective and column values, the map back, the written program and its rows kept."""
    written, offsets, lower = _compiled(program)
    data, lift = leftover(program, written, offsets, lower) if substitute else (written, None)
    rows = data["A"].tocsr()
    rows.eliminate_zeros()
    col_lower, col_upper, kept = _bounds(program, data, offsets, rows, lower)
    lp = HighsLP({**profile("HIGHS").options, **OPTIONS})
    Columns.load(lp, rows[kept].tocsc(), np.asarray(data["c"], dtype=float), col_lower, col_upper, lower[kept],
                 np.asarray(data["b"], dtype=float)[kept])
    assert lp.solve(None, method="simplex").status is Status.OPTIMAL
    return lp.objective(), lp.solution().col_value, lift, (written, data, lower), len(kept)


@pytest.mark.parametrize("case", list(CASES))
def test_the_substituted_program_has_the_written_programs_optimum_and_maps_back_onto_it(case):
    program = _program(CASES[case]())
    plain, _, _, _, plain_rows = _solved(program, substitute=False)
    substituted, z, lift, (written, data, lower), rows = _solved(program, substitute=True)
    assert lift is not None
    L, T = len(program.periods.live_cells), program.periods.periods
    equalities = int(np.isfinite(lower).sum())
    available = slice(equalities + L, equalities + L * T)  # periods 2..T
    assert (np.diff(written["A"].tocsr().indptr)[available] > 1).any()
    assert (np.diff(data["A"].tocsr().indptr)[available] == 1).all()  # each became a column bound, w_t >= 0
    assert rows < plain_rows
    assert substituted == pytest.approx(plain, rel=1e-9, abs=1e-12)
    x = lift.holdings(z)
    same = np.diff(lift.lift.indptr) == 0  # only the substituted holdings differ
    assert (~same).any()
    np.testing.assert_array_equal(x[same], z[same])
    activity = written["A"] @ x  # every row of the written program, at HiGHS's solution mapped back
    upper = np.asarray(written["b"], dtype=float)
    assert (activity <= upper + 1e-9).all() and (activity >= lower - 1e-9).all()
    assert np.asarray(written["c"], dtype=float) @ x == pytest.approx(np.asarray(data["c"]) @ z, rel=1e-12,
                                                                        abs=1e-15)


def test_the_loop_loads_the_substituted_program_and_keeps_the_map_back():
    program = _program(CASES["generated 12x3x12"]())
    lp = HighsLP({**profile("HIGHS").options, **OPTIONS})
    data, _, _ = loaded(program, lp)
    assert data["leftover"] is not None
    L, T = len(program.periods.live_cells), program.periods.periods
    written = _compiled(program)[0]["A"].shape[0]
    assert lp.highs.getNumRow() == len(data["kept"]) < written - L * (T - 1)


def test_a_layout_it_does_not_recognise_is_left_as_written():
    program = _program(CASES["derisk"]())
    written, offsets, lower = _compiled(program)
    equalities = int(np.isfinite(lower).sum())
    L = len(program.periods.live_cells)
    hold = offsets[program.variables.hold.id]

    def changed(**update):
        return leftover(program, {**written, **update}, offsets, lower)

    b = np.asarray(written["b"], dtype=float).copy()
    b[equalities + L] = 1.0  # an available row with another right-hand side
    data, lift = changed(b=b)
    assert lift is None and data["b"] is b
    bounds = np.asarray(written["lower_bounds"], dtype=float).copy()
    bounds[hold] = 0.0  # a holding the compiled program bounds itself
    assert changed(lower_bounds=bounds)[1] is None
    shifted = dict(offsets)
    shifted[program.variables.hold.id] += 1  # the rows do not hold the columns expected
    assert leftover(program, written, shifted, lower)[1] is None
    single = _program(tiny(schedule={"periods": 1}))
    assert leftover(single, *_compiled(single))[1] is None  # one period: nothing to substitute
