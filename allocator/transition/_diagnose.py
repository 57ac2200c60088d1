"""Why no schedule meets every end-state requirement and limit in time: the elastic program and the binding limits.

The elastic copy of the program relaxes the end-state coverage (a shortfall per account) and concentration (an
excess per limit) and minimises the total shortfall. Intermediate floors need no relaxation (doing nothing keeps
them). Shortfalls and excesses are recomputed in numpy from the elastic schedule, in currency; a problem whose
elastic optimum leaves neither is covered only exactly (the caller solves it again without margins).

A limit *binds* when lifting it reduces what is left uncovered (shortfalls plus excesses). Each family of limits is
lifted in turn and the elastic program re-solved (only parameter values change): route capacities, withdrawal
limits, the participation and liquidation limits set to a value no schedule can reach, the floors lowered to
zero, the concentration shares raised above one, and time (the schedule rebuilt with twice as many
periods). Limits are reported with what their lifting covers (currency), largest first, and named by the rows
with a positive dual in the elastic optimum (``capacity[sol-wallet->eth-wallet]``) where there are any.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.errors import InfeasibleError, SolverError
from allocator.inputs.problem import Problem
from allocator.solve._status import Status
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods
from allocator.transition._program import TransitionProgram, build
from allocator.transition._replay import Replay
from allocator.transition._risk import has_limits, shortfalls
from allocator.transition._solve import schedule, solve

#: Duals below this (shortfall per unit of limit, scaled) do not name a row.
DUAL = 1e-6
#: The families of limits, and how a report names them.
LIMITS = {"capacity": "route capacity", "withdrawal": "withdrawal limit", "participation": "participation limit",
          "liquidation": "what can be liquidated within liquidation_days",
          "floor": "an account may not fall below min(collateral today, requirement) on the way",
          "concentration": "an end-state concentration limit",
          "time": "too little time: moves would land after the last period",
          "combined": "no single limit, but lifting all of them together helps",
          "structure": "no limit: the routes do not bring enough eligible collateral"}
#: A lifted limit (scaled value per period): more than the whole book.
LIFTED = 10.0


@dataclass(frozen=True)
class BindingLimit:
    family: str  # a key of LIMITS
    name: str  # e.g. "capacity[sol-wallet->eth-wallet]"
    periods: int  # in how many periods its rows have a positive dual (0 when no row is named)
    relief: float  # shortfall removed by lifting the family (currency)

    def __str__(self) -> str:
        if self.family == "structure":
            return f"{self.name} ({LIMITS[self.family]})"
        return f"{self.name} ({LIMITS[self.family]}; lifting it covers {self.relief:,.2f} more)"


@dataclass(frozen=True)
class TransitionDiagnosis:
    shortfalls: dict[str, float]  # account -> currency uncovered at the end, under coverage or its risk limits
    binding: list[BindingLimit] = field(default_factory=list)
    exceeded: dict[str, float] = field(default_factory=dict)  # concentration limit -> currency over it at the end
    risk: dict[str, float] = field(default_factory=dict)  # end-state risk row (stress[..], risk[..]) -> currency short

    def by_account(self) -> dict[str, float]:
        return dict(self.shortfalls)

    def summary(self) -> str:
        parts = [f"{k} short by {v:,.2f}" for k, v in self.shortfalls.items()]
        parts += [f"{k} exceeded by {v:,.2f}" for k, v in self.exceeded.items()]
        parts += [f"end-state risk limit {k} short by {v:,.2f}" for k, v in self.risk.items()]
        limits = ", ".join(str(b) for b in self.binding[:5]) or "none identified"
        return (f"no schedule meets every requirement and limit by the end of the transition: "
                f"{'; '.join(parts)}. Binding limits: {limits}")


class TransitionInfeasibleError(InfeasibleError):
    """No schedule meets every end-state requirement and limit within the schedule's time and capacity limits.
    ``diagnosis`` names the uncovered accounts (currency), the exceeded limits and the binding limits."""

    def __init__(self, diagnosis: TransitionDiagnosis) -> None:
        super().__init__(diagnosis)
        self.diagnosis: TransitionDiagnosis = diagnosis


def diagnose(problem: Problem, periods: Periods, data: TransitionData, solver: str,
             **options: Any) -> TransitionInfeasibleError | None:
    """The error to raise when no schedule meets every end-state requirement and limit; None when the elastic
    copy (no margins) meets them all (covered only exactly). Raises SolverError when the elastic solve fails."""
    program = build(periods, data, coverage_margin=0.0, limit_margin=0.0, elastic=True)
    elastic = _elastic(program, solver, options)
    if elastic is None:
        raise SolverError("the elastic copy of the transition program was not solved to optimality",
                          solver=solver, status="solver_error")
    tolerance = 1e-6 * data.account_money
    base = periods.base
    short = elastic.shortfall()
    shortfalls = {base.accounts[k]: float(short[k]) for k in np.flatnonzero(short > tolerance)}
    risk = {label: gap for label, k, gap in elastic.risk_rows() if gap > tolerance[k]}
    excess = elastic.limit_excess() if len(base.limit_pair) else np.zeros(0)
    over = tolerance[base.pair_account[base.limit_pair]] if len(base.limit_pair) else np.zeros(0)
    exceeded = {base.limit_label(int(i)): float(excess[i]) for i in np.flatnonzero(excess > over)}
    if not shortfalls and not exceeded:
        return None
    named = _named_rows(program)
    total = elastic.uncovered()
    least = float(tolerance.min())
    binding = []
    p = program.parameters
    for family, parameter in (("capacity", p.capacity), ("withdrawal", p.withdrawal),
                              ("participation", p.participation), ("liquidation", p.liquidation),
                              ("floor", p.floor), ("concentration", p.limit)):
        if not any(f.name == family for f in program.families):
            continue
        saved = parameter.value
        parameter.value = np.full(parameter.shape, 0.0 if family == "floor" else LIFTED)
        lifted = _elastic(program, solver, options)
        parameter.value = saved
        if lifted is not None and total - lifted.uncovered() > least:
            binding += _limits(family, named, total - lifted.uncovered())
    more_time = _longer(problem, periods)
    lifted = _elastic(more_time, solver, options)
    if lifted is not None and total - lifted.uncovered() > least:
        binding.append(BindingLimit("time", f"time[{periods.periods} x {periods.period_hours:g} h]", 0,
                                    total - lifted.uncovered()))
    if not binding:  # no single limit: all of them together, or the routes and eligibility themselves
        q = more_time.parameters
        for parameter in (q.capacity, q.withdrawal, q.participation, q.liquidation, q.limit):
            parameter.value = np.full(parameter.shape, LIFTED)
        q.floor.value = np.zeros(q.floor.shape)
        lifted = _elastic(more_time, solver, options)
        relief = total - lifted.uncovered() if lifted is not None else 0.0
        binding.append(BindingLimit("combined", "capacity, withdrawal, participation, liquidation, floors, "
                                    "concentration and time together", 0, relief) if relief > least else
                       BindingLimit("structure", "routes and eligibility: no schedule of any length covers it", 0,
                                    0.0))
    binding.sort(key=lambda b: -b.relief)
    return TransitionInfeasibleError(TransitionDiagnosis(shortfalls, binding, exceeded, risk))


#: The longest schedule the time test builds (periods): beyond it only absurd inputs (periods of 1e-300 hours
#: against delays of hours) would need more, and those are then reported as their routes' structure.
LONGEST = 2_000


def _longer(problem: Problem, periods: Periods) -> TransitionProgram:
    """The elastic program over a schedule long enough for any path: twice the periods, plus two of every lag
    (from the delays themselves: ``move_lag`` is capped at the schedule), at most ``LONGEST`` periods."""
    assert problem.schedule is not None
    lag = float(np.max(periods.move_delay, initial=0.0)) / periods.period_hours
    count = int(min(2 * periods.periods + 4 * (min(np.ceil(lag), LONGEST) + 1), LONGEST))
    count = max(count, 2 * periods.periods)
    longer = problem.model_copy(update={"schedule": problem.schedule.model_copy(update={"periods": count})})
    longer_periods = Periods.from_problem(longer)
    return build(longer_periods, TransitionData.from_problem(longer, longer_periods), coverage_margin=0.0,
                 limit_margin=0.0, elastic=True)


@dataclass(frozen=True)
class _Elastic:
    """An elastic optimum's schedule (replayed in numpy) and the concentration shares it was solved under."""

    replay: Replay
    limit: np.ndarray  # (C,)

    @property
    def end(self) -> np.ndarray:
        return self.replay.end

    def limit_excess(self) -> np.ndarray:
        return self.replay.limit_excess(self.limit)

    def risk_rows(self) -> list[tuple[str, int, float]]:
        """Every end-state risk row (transition/_risk.py) with what the end state lacks under it (currency)."""
        periods = self.replay.periods
        return shortfalls(periods, self.replay.data, self.replay.hold[:, -1], self.end)[1] if has_limits(periods) \
            else []

    def shortfall(self) -> np.ndarray:
        """(K,) currency each account lacks at the end: under its coverage or under its end-state risk limits."""
        periods, data = self.replay.periods, self.replay.data
        short = np.asarray(data.numbers.required - self.end)
        if has_limits(periods):
            short = np.maximum(short, shortfalls(periods, data, self.replay.hold[:, -1], self.end)[0])
        return short

    def uncovered(self) -> float:
        """Currency left uncovered at the end: shortfalls (coverage or risk limits) plus concentration excess."""
        short = self.shortfall()
        excess = self.limit_excess() if len(self.limit) else np.zeros(0)
        return float(short[short > 0].sum() + excess[excess > 0].sum())


def _elastic(program: TransitionProgram, solver: str, options: dict[str, Any]) -> _Elastic | None:
    """The elastic optimum under the program's current parameters, or None if the solve failed."""
    record = solve(program, solver, None, **options)
    if record.status != Status.OPTIMAL:
        return None
    limit = np.asarray(program.parameters.limit.value)[:len(program.periods.base.limit_pair)]
    return _Elastic(schedule(program, record), limit)


def _named_rows(program: TransitionProgram) -> dict[str, dict[str, int]]:
    """family -> {row name: periods with a positive dual} in the last elastic solve."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for family in program.families:
        if family.name not in LIMITS or family.constraint.dual_value is None:
            continue
        dual = np.atleast_2d(np.asarray(family.constraint.dual_value, dtype=float))
        for row, t in zip(*np.nonzero(np.abs(dual) > DUAL), strict=True):
            label = family.label(int(row), int(t))
            name = label.split(",t")[0] + "]" if ",t" in label else label
            out[family.name][name] = out[family.name].get(name, 0) + 1
    return out


def _limits(family: str, named: dict[str, dict[str, int]], relief: float) -> list[BindingLimit]:
    rows = named.get(family, {})
    if not rows:
        return [BindingLimit(family, family, 0, relief)]
    return [BindingLimit(family, name, count, relief) for name, count in sorted(rows.items(), key=lambda r: -r[1])]
