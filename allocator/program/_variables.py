"""The decision variables, all in scaled value units.

Non-negativity is stated as labelled constraints (``NonNegative``), not as variable attributes, so that their
duals, the reduced costs, are available: the moves phase uses them to stay on the optimal face.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp

from allocator.program._layout import Layout


@dataclass(frozen=True, eq=False)
class Variables:
    holding: cp.Variable  # (cells,) value at each asset and location after the moves
    move: cp.Variable  # (move slots,) value moved along each (asset, edge)
    collateral: cp.Variable  # (K,) haircut-adjusted collateral of each account, in units of its account scale
    credit: cp.Variable  # (max(Pc, 1),) credit of each curved pair (_credit.py), in units of its account scale
    # hedges (program/_hedges.py); None without [[hedges]]
    hedge: cp.Variable | None = None  # (2H,) [long; short] parts of each hedge's notional, in its account's scale
    hedge_money: cp.Variable | None = None  # (H,) the signed notional in money-scale units (cones only: _hedges.py)

    @classmethod
    def create(cls, layout: Layout) -> Variables:
        hedges = layout.n_hedges
        return cls(
            holding=cp.Variable(layout.n_cells, name="holding"),
            move=cp.Variable(layout.n_move_slots, name="move"),
            collateral=cp.Variable(len(layout.accounts), name="collateral"),
            credit=cp.Variable(max(len(layout.curve_pairs), 1), name="credit"),
            hedge=cp.Variable(2 * hedges, name="hedge") if hedges else None,  # >= 0: a row (HedgeLimit)
            hedge_money=cp.Variable(hedges, name="hedge_money") if hedges else None,
        )
