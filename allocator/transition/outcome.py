"""A verified schedule as a :class:`TransitionResult`: costs (numpy), steps, coverage per period, end holdings."""

from __future__ import annotations

from typing import Literal

import numpy as np

from allocator.inputs.problem import Problem
from allocator.solve.solvers import SolveRecord
from allocator.transition.costs import CostSplit, split
from allocator.transition.exposure import exposure
from allocator.transition.replay import Replay
from allocator.transition.result import (
    PeriodCoverage,
    TransitionCosts,
    TransitionDiagnostics,
    TransitionResult,
    TransitionTarget,
)
from allocator.transition.steps import plan_steps


def cost_of(replay: Replay) -> CostSplit:
    return split(replay.periods, replay.data, replay.hold, replay.move, replay.sell, replay.buy)


def outcome(problem: Problem, replay: Replay, record: SolveRecord, *, mode: Literal["convex", "milp", "heuristic"],
            total_seconds: float, notes: list[str] | None = None, relaxation: float | None = None,
            milp_gap: float | None = None, status: str = "optimal", support_solver: str | None = None
            ) -> TransitionResult:
    """``status``: "optimal" for an exact optimum, else "feasible (<why>)" (limits.py); ``support_solver`` the
    solver that chose the moves (the MILP or the heuristic's linear solves), when not the schedule's."""
    periods, data = replay.periods, replay.data
    base = periods.base
    costs = cost_of(replay)
    steps = plan_steps(replay)
    floor = replay.floor()
    end = replay.collateral(replay.hold)
    coverage = [PeriodCoverage(account=account, period=t + 1, lowest=float(replay.lowest[k, t]),
                               end=float(end[k, t]), floor=float(floor[k]), required=float(data.numbers.required[k]))
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
                                          milp_gap=milp_gap, notes=notes),
        exposure=risk,
    )
