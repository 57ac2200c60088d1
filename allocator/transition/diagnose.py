"""Why no schedule covers every account in time: the elastic program and the limits that bind.

The elastic copy of the program relaxes the end-state coverage (a shortfall per account) and concentration (an
excess per limit) and minimises the total shortfall, in currency. Intermediate floors need no relaxation (doing
nothing keeps them). The shortfalls are recomputed in numpy from the elastic schedule. The *binding limits* are
the families of time and capacity limits whose rows have positive duals in the elastic optimum, i.e. whose
relaxation would reduce the shortfall: route capacity, withdrawal limits, participation, the departure window
(moves that would land after the last period: too little time), the floors and the available holdings. They are
ranked by the sum of their duals (shortfall removed per unit of extra limit, in money-scale units).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.errors import AllocatorError, SolverError
from allocator.problem import Problem
from allocator.solve.status import Status
from allocator.transition.data import TransitionData
from allocator.transition.periods import Periods
from allocator.transition.program import build
from allocator.transition.solve import schedule, solve

#: Duals below this (shortfall per unit of limit, scaled) do not make a limit binding.
DUAL = 1e-6
#: The families that are limits of time and capacity, and how a report names them.
LIMITS = {"capacity": "route capacity", "withdrawal": "withdrawal limit", "participation": "participation limit",
          "window": "time: moves that would land after the last period", "floor": "account floor during the transition",
          "available": "holdings available at the start of a period"}


@dataclass(frozen=True)
class BindingLimit:
    family: str  # capacity | withdrawal | participation | window | floor | available
    name: str  # e.g. "capacity[sol-wallet->eth-wallet]"
    periods: int  # in how many periods it binds
    weight: float  # sum of its duals

    def __str__(self) -> str:
        return f"{self.name} ({LIMITS[self.family]}, binding in {self.periods} period(s))"


@dataclass(frozen=True)
class TransitionDiagnosis:
    shortfalls: dict[str, float]  # account -> currency uncovered at the end (positive only)
    binding: list[BindingLimit] = field(default_factory=list)

    def by_account(self) -> dict[str, float]:
        return dict(self.shortfalls)

    def summary(self) -> str:
        short = "; ".join(f"{k} short by {v:,.2f}" for k, v in self.shortfalls.items()) or "no account short"
        limits = ", ".join(str(b) for b in self.binding[:5]) or "none identified"
        return f"no schedule covers every account by the end of the transition: {short}. Binding limits: {limits}"


class TransitionInfeasibleError(AllocatorError):
    """No schedule meets every end-state requirement within the schedule's time and capacity limits.
    ``diagnosis`` names the uncovered accounts (currency) and the binding limits."""

    def __init__(self, diagnosis: TransitionDiagnosis) -> None:
        self.diagnosis = diagnosis
        super().__init__(diagnosis.summary())


def diagnose(problem: Problem, periods: Periods, data: TransitionData, solver: str,
             **options: Any) -> AllocatorError:
    program = build(periods, data, coverage_margin=0.0, limit_margin=0.0, elastic=True)
    record = solve(program, solver, None, **options)
    if record.status != Status.OPTIMAL:
        return SolverError(f"the transition is not feasible and its elastic diagnosis failed ({record.raw_status})",
                           solver=solver, status=str(record.status))
    replay = schedule(program, record)
    short = data.numbers.required - replay.end
    tolerance = 1e-6 * data.account_money
    shortfalls = {periods.base.accounts[k]: float(short[k]) for k in np.flatnonzero(short > tolerance)}
    binding: dict[str, list[float]] = defaultdict(list)
    family_of: dict[str, str] = {}
    for family in program.families:
        if family.name not in LIMITS or family.constraint.dual_value is None:
            continue
        dual = np.atleast_2d(np.asarray(family.constraint.dual_value, dtype=float))
        for row, t in zip(*np.nonzero(np.abs(dual) > DUAL), strict=True):
            label = family.label(int(row), int(t))
            name = label.split(",t")[0].rstrip("]") + "]" if ",t" in label else label
            binding[name].append(float(abs(dual[row, t])))
            family_of[name] = family.name
    ranked = sorted((BindingLimit(family_of[n], n, len(d), sum(d)) for n, d in binding.items()),
                    key=lambda b: -b.weight)
    if not shortfalls:
        return SolverError("the transition program reported infeasible but its elastic copy covers every account; "
                           "try another solver", solver=solver, status="inconsistent")
    return TransitionInfeasibleError(TransitionDiagnosis(shortfalls, ranked))
