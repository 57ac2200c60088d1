"""The numpy side of the transition around the solver (issue 16's Python on the critical path, made cheaper): the
repair of over-sending cells (_solve._repaired), the check's report of an overdrawn cell (_verify.check) and the
single-entry rows folded into column bounds (_pwl._singletons). Each against its rule written out here."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from helpers import PROBLEMS

import allocator
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods
from allocator.transition._pwl import _singletons
from allocator.transition._replay import Replay
from allocator.transition._solve import _repaired
from allocator.transition._verify import check


def _derisk() -> tuple[Periods, TransitionData]:
    problem = allocator.load_problem(PROBLEMS / "derisk.toml")
    periods = Periods.from_problem(problem)
    return periods, TransitionData.from_problem(problem, periods)


def _overdrawn(periods: Periods, data: TransitionData) -> tuple[Replay, int, int]:
    """A replay whose first move sends twice what its cell holds today, in period 1; that move and its cell."""
    base = periods.base
    hold = data.x0 * data.money
    source = [base.cell(base.move_asset[m], base.edge_from[base.move_edge[m]]) for m in range(periods.n_moves)]
    m = next(m for m in range(periods.n_moves) if hold[source[m]] > 0)
    move = np.zeros((periods.n_moves, periods.periods))
    move[m, 0] = 2.0 * hold[source[m]]
    zero = np.zeros((periods.n_legs, periods.periods))
    return Replay(periods, data, move, zero, zero), m, int(source[m])


def test_an_overdrawn_cell_is_reported_by_its_label():
    periods, data = _derisk()
    replay, m, cell = _overdrawn(periods, data)
    overdrawn = [v for v in check(replay) if v.startswith("available[")]
    held = data.x0[cell] * data.money
    # short by the holding in period 1, and from then on every period starts that much below zero
    label = periods.base.cell_label(cell)
    assert overdrawn == [f"available[{label},t{t + 1}] off by {-held:,.6g}" for t in range(periods.periods)]


def test_an_over_sending_cell_sends_what_it_holds():
    """The repair scales the period's departures out of a cell that would send more than it holds by
    ``held / needed``: here one move sending twice the cell's holding sends half of it, exactly the holding."""
    periods, data = _derisk()
    replay, m, cell = _overdrawn(periods, data)
    repaired = _repaired(replay, np.zeros(len(periods.base.accounts)))
    held = data.x0[cell] * data.money
    assert periods.base.cell_label(cell) == "USDC@sol-wallet"  # a wallet: no floor cuts it further
    assert repaired.move[m, 0] == (2.0 * held) * (held / (2.0 * held))
    assert np.count_nonzero(repaired.move) == 1
    assert not [v for v in check(repaired) if v.startswith("available[")]


def test_single_entry_rows_become_column_bounds_and_the_rest_are_kept_in_order():
    # rows: 2 x0 <= 4 (single), an empty row, x0 + x1 <= 3, -x1 <= 1 (single, flips to x1 >= -1), x1 == 5 (an
    # equality: first, as compiled programs put them, with lower = b)
    rows = sp.csr_matrix(np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, -1.0]]))
    b = np.array([5.0, 4.0, 0.0, 3.0, 1.0])
    lower = np.array([5.0, -np.inf, -np.inf, -np.inf, -np.inf])
    col_lower, col_upper, kept = _singletons({"b": b, "lower_bounds": np.array([0.0, -10.0])}, rows, lower)
    np.testing.assert_array_equal(kept, [2, 3])  # what np.setdiff1d of every row and the single ones gave
    np.testing.assert_array_equal(col_lower, [0.0, 5.0])
    np.testing.assert_array_equal(col_upper, [2.0, 5.0])
