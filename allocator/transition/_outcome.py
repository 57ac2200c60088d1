"""A verified schedule as a :class:`TransitionResult`: costs (numpy), steps, coverage per period, end holdings."""

from __future__ import annotations

from typing import Literal

import numpy as np

from allocator.inputs.problem import Problem
from allocator.solve._solvers import SolveRecord
from allocator.transition._costs import CostSplit, split
from allocator.transition._exposure import exposure
from allocator.transition._replay import Replay
from allocator.transition._result import (
    PeriodCoverage,
    TransitionCosts,
    TransitionDiagnostics,
    TransitionResult,
    TransitionTarget,
)
from allocator.transition._steps import plan_steps

#: The linear path's schedule is called optimal while its certified distance to the convex optimum
#: (``bound_gap``) is at most this share of its gross cost (every cost term without sign).
OPTIMAL_GAP = 1e-4


def cost_of(replay: Replay) -> CostSplit:
    return split(replay.periods, replay.data, replay.hold, replay.move, replay.sell, replay.buy)


def outcome(problem: Problem, replay: Replay, record: SolveRecord, *,
            mode: Literal["convex", "linear", "milp", "heuristic"], total_seconds: float,
            notes: list[str] | None = None, relaxation: float | None = None, milp_gap: float | None = None,
            status: str = "optimal", support_solver: str | None = None,
            lower_bound: float | None = None) -> TransitionResult:
    """``status``: "optimal" for an exact optimum, else "feasible (<why>)" (_limits.py); ``support_solver`` the
    solver that chose the moves (the MILP or the heuristic's linear solves), when not the schedule's;
    ``lower_bound`` (currency, the linear path's, _pwl.py): the schedule is then at most ``bound_gap = cost -
    lower_bound`` above the convex optimum, and called optimal while that is within OPTIMAL_GAP of its gross cost."""
    periods, data = replay.periods, replay.data
    base = periods.base
    costs = cost_of(replay)
    steps = plan_steps(replay)
    floor = replay.floor()
    end = replay.collateral(replay.hold)
    required = data.numbers.required  # a property computed on each read
    coverage = [PeriodCoverage(account=account, period=t + 1, lowest=float(replay.lowest[k, t]),
                               end=float(end[k, t]), floor=float(floor[k]), required=float(required[k]))
                for k, account in enumerate(base.accounts) for t in range(periods.periods)]
    price = np.repeat(data.numbers.price, base.n_locations)
    final = replay.hold[:, -1]
    targets = [TransitionTarget(asset=base.assets[c // base.n_locations], location=base.locations[c % base.n_locations],
                                quantity=float(final[c] / price[c]), value=float(final[c]),
                                initial_quantity=float(data.numbers.quantity[c]))
               for c in range(base.n_cells) if final[c] > 0 or data.numbers.quantity[c] > 0]
    held = [np.bincount(np.arange(base.n_cells) // base.n_locations, weights=v, minlength=base.n_assets)
            for v in (data.x0 * data.money, final)]
    risk, note = exposure(problem, held[0], held[1], data.money)
    notes = [*(notes or []), *([note] if note else [])]
    gap = None if relaxation is None else (costs.total - relaxation) / max(abs(relaxation), 1e-12)
    bound_gap = None if lower_bound is None else max(costs.total - lower_bound, 0.0)
    gross = abs(costs.carry) + costs.transfer + costs.fees + costs.spread + costs.impact
    if bound_gap is not None and bound_gap > OPTIMAL_GAP * max(gross, 1.0):
        status = f"feasible (within {bound_gap:,.2f} {problem.currency} of the optimum)"
    return TransitionResult(
        status="optimal" if status == "optimal" else "feasible",
        currency=problem.currency, periods=periods.periods, period_hours=periods.period_hours,
        costs=TransitionCosts(total=costs.total, carry=costs.carry, transfer=costs.transfer, fees=costs.fees,
                              spread=costs.spread, impact=costs.impact),
        steps=steps, coverage=coverage, targets=targets,
        completion_hours=max((s.arrival_hours for s in steps), default=0.0),
        diagnostics=TransitionDiagnostics(solver=support_solver or record.solver, status=status, mode=mode,
                                          schedule_solver=record.solver,
                                          solve_seconds=record.solve_seconds, total_seconds=total_seconds,
                                          money_scale=data.money, relaxation_cost=relaxation, gap=gap,
                                          milp_gap=milp_gap, lower_bound=lower_bound, bound_gap=bound_gap,
                                          notes=notes),
        exposure=risk,
    )
