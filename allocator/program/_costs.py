"""Capital cost: carry forgone (net of yields paid) on value posted at accounts, plus the cost of moving value.

``cost = sum_{a,k} (carry[a] - yield[a,k]) * horizon/365 * value[a,k] + sum_{a,e} cost_bps[e]/1e4 * moved[a,e]``,
in units of ``Scale.cost``, plus the hedges' funding and fees (_hedges.py). Written once: ``capital_cost`` builds
the cvxpy expression, and ``Allocation.carry_cost``/``transfer_cost``/``hedge_cost`` evaluate the same sums in numpy
for the verification.
"""

from __future__ import annotations

import cvxpy as cp

from allocator.program._coverage import select
from allocator.program._hedges import hedge_cost
from allocator.program._layout import Layout
from allocator.program._parameters import Parameters
from allocator.program._variables import Variables


def capital_cost(layout: Layout, v: Variables, p: Parameters) -> cp.Expression:
    posted = select(layout.account_cells, layout.n_cells) @ v.holding
    cost = p.carry @ posted + p.move @ v.move
    return cost if p.hedges is None else cost + hedge_cost(v, p.hedges)  # funding and fees (_hedges.py)
