"""The linear path's program as HiGHS's matrices, written straight from the structure: no cvxpy compile.

cvxpy's compile of the ``pwl`` program (``build(pwl=True)``, _program.py) took 0.3-0.5 s at 100 x 10 x 48, and the
coarse guess's another 0.2 s (_coarse.py), both before HiGHS could start: most of the Python left on the linear
path's critical path (docs/performance.md). ``lp_data`` writes the same LP from the periods' incidence arrays and
the program's parameter *values* (read at the call, so the margin-free bound's swapped values are honoured,
_pwl._margin_free): the same columns in the same order (cvxpy's offsets), the same rows in the same order (every
equality first, then the inequalities, each family's rows column-major over its shape) and the same coefficients,
computed by the same floating-point operations. tests/test_transition_direct.py checks that the matrices are
*identical* to cvxpy's (every entry, right-hand side, cost and bound) on generated problems and derisk.toml; the
cvxpy program stays the reference, built as before (its variables receive the values; its objective is the one
evaluated).

Only the plain ``pwl`` program is written here: a program with collateral curves, stress rows, the virtual hub,
move-limit binaries, lower bounds or elastic variables returns None, and is compiled by cvxpy as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from allocator.transition._costs import tangent_points
from allocator.transition._program import TransitionProgram

#: The families of the plain ``pwl`` program, in their order (optional ones may be missing).
FAMILIES = ("today", "balance", "available", "window", "window", "window", "capacity", "withdrawal", "participation",
            "venue", "floor", "floor", "collateral", "coverage", "liquidation", "concentration")


class _Columns:
    """The LP's columns: each variable's offset (cvxpy's order) and its entries' columns, column-major."""

    def __init__(self, program: TransitionProgram) -> None:
        # cvxpy's order: each variable where it first appears in the objective and the constraints (without venues
        # the impacts' epigraphs first appear after the end collateral)
        self.order = program.problem.variables()
        self.offsets: dict[int, int] = {}
        at = 0
        for variable in self.order:
            self.offsets[variable.id] = at
            at += variable.size
        self.n = at

    def of(self, variable: Any, row: np.ndarray, t: np.ndarray | int = 0) -> np.ndarray:
        return self.offsets[variable.id] + row + np.asarray(t) * variable.shape[0]


def _supported(program: TransitionProgram) -> int | None:
    """The tangent pieces of a plain ``pwl`` program (module docstring), else None."""
    v, periods = program.variables, program.periods
    if (v.sell_impact is None or v.buy_impact is None or v.short is not None or v.excess is not None
            or v.credit is not None or program.binaries is not None or periods.base.has_hub
            or not len(periods.live_cells)):
        return None
    names = [f.name for f in program.families]
    if [n for n in FAMILIES if n in names] != names or names.count("window") != 3 or names.count("floor") != 2:
        return None
    expected = {v.start.id, v.hold.id, v.move.id, v.sell.id, v.buy.id, v.sell_impact.id, v.buy_impact.id, v.end.id}
    if {variable.id for variable in program.problem.variables()} != expected:
        return None
    extra = len(program.problem.constraints) - len(program.families)
    if extra <= 0 or extra % 2:
        return None
    return extra // 2


def lp_data(program: TransitionProgram) -> tuple[dict[str, Any], dict[int, int], np.ndarray] | None:
    """``_pwl._compiled``'s answer without cvxpy: ``{"A", "b", "c", "lower_bounds", "upper_bounds"}`` (``A x <= b``
    after the equalities, whose rows' lower bounds are their ``b``), the variables' column offsets and the rows'
    lower bounds; None for a program this module does not write."""
    pieces = _supported(program)
    if pieces is None:
        return None
    periods, data, v, p = program.periods, program.data, program.variables, program.parameters
    base, T = periods.base, periods.periods
    cols = _Columns(program)
    C, live = base.n_cells, periods.live_cells
    L, K = len(live), len(base.accounts)
    times = np.arange(T)
    where = np.full(C, -1)
    where[live] = np.arange(L)

    def holding(cells: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Columns of the holdings of ``cells`` at the end of periods ``t`` (>= 0; dead cells: ``start``)."""
        row = where[cells]
        return np.where(row >= 0, cols.of(v.hold, np.maximum(row, 0), t), cols.of(v.start, cells))

    def previous(cells: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Columns of the holdings at the start of periods ``t`` (period 0: today's, ``start``)."""
        return np.where(t == 0, cols.of(v.start, cells), holding(cells, np.maximum(t - 1, 0)))

    # incidence: (cell, move) for departures and per lag for arrivals; (cell, leg) for the legs
    dep = periods.departures()[:, :periods.n_moves].tocoo()
    arrivals = [(lag, periods.arrivals(lag)[:, :periods.n_moves].tocoo()) for lag in periods.lags]
    leg_cell, legs = periods.leg_cell, np.arange(periods.n_legs)

    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row, column, value) per block
    b: list[np.ndarray] = []
    count = 0

    def family(n_rows: int, bound: np.ndarray | float) -> int:
        nonlocal count
        start = count
        count += n_rows
        b.append(np.broadcast_to(np.asarray(bound, dtype=float), (n_rows,)).copy())
        return start

    def put(row: np.ndarray, column: np.ndarray, value: np.ndarray | float) -> None:
        row, column = np.broadcast_arrays(np.asarray(row), np.asarray(column))
        rows.append((row.ravel(), column.ravel(), np.broadcast_to(np.asarray(value, dtype=float),
                                                                   row.shape).ravel()))

    def flows(first: int, cells_row: np.ndarray, sign: float, *, out: bool, sold: bool, bought: bool,
              arrived: bool, n_rows: int) -> None:
        """Entries ``sign * (out + sold - bought - arrived)`` of the rows ``first + r + t n_rows`` where ``r`` is
        the row of a cell (``cells_row``: row per cell, -1 for none)."""
        if out:
            r = cells_row[dep.row]
            keep = r >= 0
            put(first + r[keep][:, None] + times * n_rows, cols.of(v.move, dep.col[keep][:, None], times), sign)
        if sold or bought:
            r = cells_row[leg_cell]
            keep = r >= 0
            for variable, on, s in ((v.sell, sold, sign), (v.buy, bought, -sign)):
                if on:
                    put(first + r[keep][:, None] + times * n_rows, cols.of(variable, legs[keep][:, None], times), s)
        if arrived:
            for lag, matrix in arrivals:
                if not matrix.nnz:
                    continue
                r = cells_row[matrix.row]
                keep = r >= 0
                t = times[lag:]
                put(first + r[keep][:, None] + t * n_rows, cols.of(v.move, matrix.col[keep][:, None], t - lag),
                    -sign)

    value = {name: np.asarray(getattr(p, name).value, dtype=float) for name in
             ("x0", "weight", "required", "floor", "limit", "participation", "capacity", "withdrawal", "liquidation",
              "move_upper", "sell_upper", "buy_upper", "trade_rate", "impact", "income", "move_rate",
              "move_unearned", "buy_unearned")}

    # --- equalities: today, balance, collateral
    first = family(C, value["x0"])
    put(first + np.arange(C), cols.of(v.start, np.arange(C)), 1.0)
    first = family(L * T, 0.0)
    put(first + np.arange(L)[:, None] + times * L, cols.of(v.hold, np.arange(L)[:, None], times), 1.0)
    put(first + np.arange(L)[:, None] + times * L, previous(live[:, None], times), -1.0)
    flows(first, where, 1.0, out=True, sold=True, bought=True, arrived=True, n_rows=L)
    flat = np.setdiff1d(np.arange(len(base.pair_asset)), base.curve_pairs)
    weight = value["weight"][flat]
    first_collateral = family(K, 0.0)
    put(first_collateral + np.arange(K), cols.of(v.end, np.arange(K)), 1.0)
    put(first_collateral + base.pair_account[flat], holding(base.pair_cell[flat], np.full(len(flat), T - 1)),
        -weight)
    equalities = count

    # --- inequalities, in the families' order
    first = family(L * T, 0.0)  # available: prev - out - sold >= 0
    put(first + np.arange(L)[:, None] + times * L, previous(live[:, None], times), -1.0)
    flows(first, where, 1.0, out=True, sold=True, bought=False, arrived=False, n_rows=L)
    for variable, window in ((v.move, "move_upper"), (v.sell, "sell_upper"), (v.buy, "buy_upper")):
        n = variable.shape[0]
        first = family(n * T, value[window].ravel(order="F"))
        put(first + np.arange(n * T), cols.of(variable, np.arange(n)[:, None], times).ravel(order="F"), 1.0)
    names = [f.name for f in program.families]
    for name, matrix in (("capacity", periods.route_sum), ("withdrawal", periods.withdrawal_sum)):
        if name in names:
            summed = matrix()[:, :periods.n_moves].tocoo()
            n = summed.shape[0]
            first = family(n * T, np.repeat(value[name][None, :n], T, axis=0).ravel())
            put(first + summed.row[:, None] + times * n, cols.of(v.move, summed.col[:, None], times), 1.0)
    if "participation" in names:
        summed = periods.asset_sum()[:, :periods.n_legs].tocoo()
        n = summed.shape[0]
        first = family(n * T, np.repeat(value["participation"][None, :n], T, axis=0).ravel())
        for variable in (v.sell, v.buy):
            put(first + summed.row[:, None] + times * n, cols.of(variable, summed.col[:, None], times), 1.0)
    if "venue" in names:  # buy + rate (sell + buy) + impacts - sell <= 0, per venue
        n = max(len(periods.venues), 1)
        first = family(n * T, 0.0)
        rate = value["trade_rate"][:periods.n_legs][:, None]
        row = first + periods.leg_venue[:, None] + times * n
        put(row, cols.of(v.buy, legs[:, None], times), np.broadcast_to(1.0 + rate, (len(legs), T)))
        put(row, cols.of(v.sell, legs[:, None], times), np.broadcast_to(rate - 1.0, (len(legs), T)))
        for epigraph in (v.sell_impact, v.buy_impact):
            put(row, cols.of(epigraph, legs[:, None], times), 1.0)
    floor = value["floor"]
    owner = np.full(C, -1)
    owner[base.pair_cell[flat]] = base.pair_account[flat]
    cell_weight = np.zeros(C)
    cell_weight[base.pair_cell[flat]] = weight
    for trades in (False, True):  # floor - collateral(prev - out [- sold + bought]) <= 0
        first = family(K * T, -np.repeat(floor[None, :], T, axis=0).ravel())
        cells = base.pair_cell[flat]
        put(first + base.pair_account[flat][:, None] + times * K, previous(cells[:, None], times),
            -weight[:, None])
        _weighted_flows(put, cols, v, periods, first, owner, cell_weight, dep, trades, K, times)
    # coverage: required - end <= 0
    first = family(K, -value["required"])
    put(first + np.arange(K), cols.of(v.end, np.arange(K)), -1.0)
    if "liquidation" in names:
        pairs = periods.liquidation_pairs
        first = family(len(pairs), value["liquidation"][:len(pairs)])
        put(first + np.arange(len(pairs)), holding(base.pair_cell[pairs], np.full(len(pairs), T - 1)), 1.0)
    if "concentration" in names:  # weight x - limit end <= 0
        pairs = base.limit_pair
        first = family(len(pairs), 0.0)
        put(first + np.arange(len(pairs)), holding(base.pair_cell[pairs], np.full(len(pairs), T - 1)),
            value["weight"][pairs])
        put(first + np.arange(len(pairs)), cols.of(v.end, base.pair_account[pairs]),
            -value["limit"][:len(pairs)])
    # the impact's tangents: impact (slope u - offset) - e <= 0, per piece, sells then buys
    impact = value["impact"][:, None]
    n = v.sell.shape[0]
    for variable, epigraph in ((v.sell, v.sell_impact), (v.buy, v.buy_impact)):
        for slope, offset in tangent_points(periods, data, pieces):
            first = family(n * T, np.broadcast_to(impact * offset[:, None], (n, T)).ravel(order="F"))
            row = first + np.arange(n)[:, None] + times * n
            put(row, cols.of(variable, np.arange(n)[:, None], times), np.broadcast_to(impact * slope[:, None], (n, T)))
            put(row, cols.of(epigraph, np.arange(n)[:, None], times), -1.0)

    r, c, x = (np.concatenate(part) for part in zip(*rows, strict=True))
    matrix = sp.csr_matrix((x, (r, c)), shape=(count, cols.n))
    upper = np.concatenate(b)
    lower = np.concatenate([upper[:equalities], np.full(count - equalities, -np.inf)])
    return ({"A": matrix, "b": upper, "c": _cost(program, cols, value), "lower_bounds": _lower(program, cols),
             "upper_bounds": None}, cols.offsets, lower)


def _weighted_flows(put: Any, cols: _Columns, v: Any, periods: Any, first: int, owner: np.ndarray,
                    cell_weight: np.ndarray, dep: sp.coo_matrix, trades: bool, K: int, times: np.ndarray) -> None:
    """A floor row's flows: ``+ w out`` (and ``+ w sold - w bought`` after the trades) on the account's cells."""
    k = owner[dep.row]
    keep = k >= 0
    put(first + k[keep][:, None] + times * K, cols.of(v.move, dep.col[keep][:, None], times),
        cell_weight[dep.row[keep]][:, None])
    if trades:
        legs = np.arange(periods.n_legs)
        k = owner[periods.leg_cell]
        keep = k >= 0
        w = cell_weight[periods.leg_cell[keep]][:, None]
        put(first + k[keep][:, None] + times * K, cols.of(v.sell, legs[keep][:, None], times), w)
        put(first + k[keep][:, None] + times * K, cols.of(v.buy, legs[keep][:, None], times), -w)


def _cost(program: TransitionProgram, cols: _Columns, value: dict[str, np.ndarray]) -> np.ndarray:
    """The objective's costs (_costs.objective): income forgone on ``start`` and the holdings, transfer rates plus
    the income a move misses in the period it lands on the moves, the value lost in trades on the legs plus the
    income a purchase misses in its period on the bought legs."""
    periods, data, v = program.periods, program.data, program.variables
    T, C = periods.periods, periods.base.n_cells
    weights = data.time_weight
    income = value["income"]
    c = np.zeros(cols.n)
    start = np.full(C, float(weights.sum()))
    dead = np.ones(C, dtype=bool)
    dead[periods.live_cells] = False
    start[dead] = start[dead] - sum(float(w) for w in weights)
    c[cols.of(v.start, np.arange(C))] = income * start
    live = periods.live_cells
    c[cols.of(v.hold, np.arange(len(live))[:, None], np.arange(T))] = income[live][:, None] * -weights[None, :]
    c[cols.of(v.move, np.arange(v.move.shape[0])[:, None], np.arange(T))] = (value["move_rate"]
                                                                              + value["move_unearned"])[:, None]
    legs = (np.arange(v.sell.shape[0])[:, None], np.arange(T))
    c[cols.of(v.sell, *legs)] = 1.0 / data.rate
    c[cols.of(v.buy, *legs)] = (-1.0 / data.rate + value["buy_unearned"])[:, None]
    return c


def _lower(program: TransitionProgram, cols: _Columns) -> np.ndarray:
    """Column lower bounds: zero for the non-negative variables (moves, legs, impacts), else none."""
    out = np.full(cols.n, -np.inf)
    for variable in cols.order:
        if variable.is_nonneg():
            out[cols.offsets[variable.id] + np.arange(variable.size)] = 0.0
    return out
