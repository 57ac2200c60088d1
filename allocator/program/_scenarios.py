"""Stress scenarios as a working set: only the scenarios that matter become rows of the program.

With ``S`` scenarios and ``K`` risk accounts the full stress block has ``S * K`` rows of the accounts' pairs
(``S * pairs`` non-zeros): at 500 assets x 30 accounts x 500 scenarios it dwarfs the rest of the program. Each
risk account instead gets ``slots`` rows whose coefficients are parameters (stress_weight, stress_floor). Up to
``ALL_SCENARIOS`` scenarios every scenario has its slot and nothing else happens. Beyond that the engine starts
with the few scenarios worst for a proxy allocation (initial_working_set), solves, evaluates every scenario for
every account in numpy, puts the most violated ones (``ADD_PER_ROUND`` per account) in free slots, re-solves by
setting parameters only, and stops when no scenario is violated: the answer then meets every scenario, and
since each round only adds rows of the true problem, its cost is the true optimum. When an account's slots are
full the program is rebuilt with twice as many (counted in ``Allocator.compilations``). Large conic programs
are compiled afresh on each solve anyway (solve/_solvers.DPP_TENSOR_LIMIT).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from allocator.program._layout import Layout
    from allocator.program._numbers import Numbers

#: Up to this many stress scenarios all of them are rows from the start.
ALL_SCENARIOS = 16
#: Slots per risk account of a first build beyond ALL_SCENARIOS.
FIRST_SLOTS = 16
#: Most-violated scenarios added per account and round.
ADD_PER_ROUND = 5


def slots_for(n_scenarios: int, n_risk_accounts: int) -> int:
    if not n_scenarios or not n_risk_accounts:
        return 0
    return n_scenarios if n_scenarios <= ALL_SCENARIOS else FIRST_SLOTS


def is_static(layout: Layout, slots: int) -> bool:
    """Whether every scenario has one of the ``slots`` stress rows per risk account (no working set rounds)."""
    return slots >= len(layout.stress)


#: Scenarios per account in the first working set beyond ALL_SCENARIOS.
FIRST_PICKS = 8


def initial_working_set(layout: Layout, slots: int, numbers: Numbers | None = None) -> list[list[int]]:
    """Per risk account, the scenarios in its slots before the first solve: all of them when they fit;
    otherwise (given the numbers) the FIRST_PICKS worst for a proxy allocation: today's posted collateral, or,
    at an account holding none of its eligible assets, its requirement spread evenly over them."""
    if is_static(layout, slots):
        return [list(range(len(layout.stress))) for _ in layout.risk_accounts]
    if numbers is None:
        return [[] for _ in layout.risk_accounts]
    value = numbers.value(layout).copy()
    for k in layout.risk_accounts:
        mine = layout.pair_cell[layout.pair_account == k]
        if len(mine) and not value[mine].any():
            value[mine] = numbers.required[k] / len(mine)
    stressed = stressed_collateral(layout, numbers, value)
    return [[int(s) for s in np.argsort(stressed[:, k], kind="stable")[:FIRST_PICKS]] for k in layout.risk_accounts]


def most_violated(stressed: np.ndarray, floor: np.ndarray, active: list[list[int]],
                  risk_accounts: np.ndarray) -> dict[int, list[int]]:
    """Per risk account position ``j``, the scenarios outside its working set whose stressed collateral
    ``stressed[s, k]`` (currency) is below ``floor[k]``, most violated first, at most ADD_PER_ROUND of them."""
    out: dict[int, list[int]] = {}
    for j, k in enumerate(risk_accounts):
        gap = stressed[:, k] - floor[k]
        gap[active[j]] = np.inf
        order = [int(s) for s in np.argsort(gap, kind="stable") if gap[s] < 0][:ADD_PER_ROUND]
        if order:
            out[j] = order
    return out


def stressed_collateral(layout: Layout, numbers: Numbers, value: np.ndarray,
                        accounts: Sequence[int] | None = None) -> np.ndarray:
    """(S, K) collateral of each risk account (or only of ``accounts``) after each scenario plus its positions'
    P&L (currency), for the cell values ``value`` (currency), exact for curved pairs; zero for other accounts."""
    from allocator.program._credit import stressed_credit

    out = np.zeros((len(layout.stress), len(layout.accounts)))
    for k in (layout.risk_accounts if accounts is None else accounts):
        out[:, k] = stressed_credit(layout, numbers, value, k, numbers.stress_returns) + numbers.stress_pnl[:, k]
    return out
