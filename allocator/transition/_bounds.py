"""Bounds every feasible schedule of the linear path meets, implied by its rows: given to HiGHS as column bounds.

Value only shrinks in trades and moves carry it unchanged, so the desk holds at most its value today (``sum x0``,
the money scale is at least that), and of an asset ``a`` at most what it holds today plus what the participation
limit lets it buy over the schedule (``x0_a + T * participation_a``; nothing for an asset no venue trades). So
every holding of ``a`` (a live cell's, at the end of any period), every move of ``a`` in any period and every sale
of ``a`` lies in ``[0, cap_a]``; a purchase of ``a`` is at most ``participation_a`` per period. A holding is at
least zero: the ``available`` row of the next period (``x - out - sold >= 0``) or, at the end, the balance row
(what is left plus what was bought and arrived) says so.

These change no optimum and no dual bound, but the holdings, free columns to cvxpy, become boxed, and a move that
pricing opens (_pricing.py) goes to a bound near its asset's value, not the whole book's: the dual simplex's
re-solves start from far smaller infeasibilities.
"""

from __future__ import annotations

import numpy as np

from allocator.transition._program import TransitionProgram


def implied(program: TransitionProgram, offsets: dict[int, int], col_lower: np.ndarray,
            col_upper: np.ndarray) -> None:
    """Tighten ``col_lower`` / ``col_upper`` (the compiled program's columns, in place) to the bounds above."""
    periods, v, p = program.periods, program.variables, program.parameters
    base, T = periods.base, periods.periods
    x0 = np.asarray(p.x0.value, dtype=float)
    book = float(x0.sum())
    cap = np.asarray(x0.reshape(base.n_assets, base.n_locations).sum(axis=1), dtype=float)
    participation = np.zeros(base.n_assets)
    traded = periods.traded_assets
    if periods.n_legs:
        participation[traded] = np.asarray(p.participation.value, dtype=float)[:len(traded)]
    cap = np.minimum(cap + T * participation, book)

    def tighten(variable_id: int, size: int, upper: np.ndarray, lower: float | None = None) -> None:
        columns = offsets[variable_id] + np.arange(size)
        col_upper[columns] = np.minimum(col_upper[columns], upper)
        if lower is not None:
            col_lower[columns] = np.maximum(col_lower[columns], lower)

    live = len(periods.live_cells)
    if live:
        rows = np.full(v.hold.shape[0], book)
        rows[:live] = cap[periods.live_cells // base.n_locations]
        tighten(v.hold.id, v.hold.size, np.repeat(rows[:, None], T, axis=1).ravel(order="F"), lower=0.0)
    moves = np.full(v.move.shape[0], book)
    moves[:periods.n_moves] = cap[base.move_asset]
    tighten(v.move.id, v.move.size, np.repeat(moves[:, None], T, axis=1).ravel(order="F"))
    if periods.n_legs:
        sells, buys = np.zeros(v.sell.shape[0]), np.zeros(v.buy.shape[0])
        sells[:periods.n_legs] = cap[periods.leg_asset]
        buys[:periods.n_legs] = participation[periods.leg_asset]
        tighten(v.sell.id, v.sell.size, np.repeat(sells[:, None], T, axis=1).ravel(order="F"))
        tighten(v.buy.id, v.buy.size, np.repeat(buys[:, None], T, axis=1).ravel(order="F"))
