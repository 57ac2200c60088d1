"""When every account can be covered but not under its end-state risk limits (transition/risk.py).

The elastic program (diagnose.py's) relaxes an account's coverage and its risk rows by one shortfall; its
diagnosis reads the shortfall of coverage alone, which is then zero. This reads the elastic shortfall itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.solve.status import Status
from allocator.transition.data import TransitionData
from allocator.transition.diagnose import TransitionDiagnosis, TransitionInfeasibleError
from allocator.transition.periods import Periods
from allocator.transition.program import build
from allocator.transition.solve import solve


class RiskInfeasibleError(TransitionInfeasibleError):
    """Every account can be covered, but not while meeting its end-state risk limits: ``diagnosis.shortfalls``
    is what each account lacks under them (currency, from the elastic program, which relaxes coverage and the
    risk rows of an account by one shortfall)."""

    def __init__(self, diagnosis: TransitionDiagnosis) -> None:
        super().__init__(diagnosis)
        short = "; ".join(f"{k} short by {v:,.2f}" for k, v in diagnosis.shortfalls.items())
        self.args = (f"no schedule meets the end-state risk limits (stress scenarios, parametric limit) of every "
                     f"account: {short} under them; relax the scenarios or the limits, or check with `optimize`",)


def risk_shortfalls(periods: Periods, data: TransitionData, solver: str, **options: Any) -> RiskInfeasibleError | None:
    """The accounts short under their risk limits in the elastic program (no margins), or None if none is or the
    solve fails."""
    program = build(periods, data, coverage_margin=0.0, limit_margin=0.0, elastic=True)
    record = solve(program, solver, None, **options)
    short = program.variables.short
    if record.status != Status.OPTIMAL or short is None or short.value is None:
        return None
    amount = np.asarray(short.value) * data.account_money
    found = {periods.base.accounts[k]: float(amount[k]) for k in np.flatnonzero(amount > 1e-6 * data.account_money)}
    return RiskInfeasibleError(TransitionDiagnosis(found)) if found else None
