"""Transition figures (docs/performance.md, transition): derisk.toml end to end, a generated 100 assets x 10
accounts x 48 periods problem, and the MILP with max_moves on derisk.toml within a 30 s limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from _cases import Figures, case, fresh_runs, spread

ROOT = Path(__file__).resolve().parents[2]
DERISK = ROOT / "fixtures" / "problems" / "derisk.toml"

_DERISK = """
import sys, time
import allocator
from allocator.transition import plan_transition     # import time is not counted
start = time.perf_counter()
result = plan_transition(allocator.load_problem(sys.argv[1]))
print(time.perf_counter() - start, result.costs.total)
"""


@case()
def derisk_end_to_end() -> Figures:
    """derisk.toml transition (build, solve, verify, plan, validate), wall s after import, 5 fresh processes"""
    runs = fresh_runs(_DERISK, DERISK, 5, timeout=900)
    seconds = [float(r[0]) for r in runs]
    return {**spread(seconds, 3), "runs": len(seconds), "cost": round(float(runs[0][1]), 2)}


@case(params={"100x10x48": (100, 10, 48), "100x10x48-exact": (100, 10, 48, 20, "exact"),
              "30x5x24": (30, 5, 24, 8, "linear"), "30x5x24-exact": (30, 5, 24, 8, "exact")})
def generated(assets: int, accounts: int, periods: int, venue_assets: int = 20, impact: str = "auto") -> Figures:
    """generated transition assets x accounts x periods (eligible share 0.2, routes carry what their account
    accepts or holds, venues 20 assets): wall, process and solver s, size, steps, the linear path's bound; the plan
    is validated after timing (impact: "auto" takes the linear path at this size, "exact" the convex program)"""
    from allocator.transition import plan_transition, validate_transition
    from allocator.transition._generate import generate_transition
    from allocator.transition._periods import Periods

    problem = generate_transition(assets, accounts, periods, seed=1, eligible_share=0.2, venue_assets=venue_assets,
                                  restrict_routes=True)
    shape = Periods.from_problem(problem)
    load = [round(x, 2) for x in os.getloadavg()]
    start, cpu = time.perf_counter(), time.process_time()
    result = plan_transition(problem, impact=impact)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    d = result.diagnostics
    return {"wall_s": round(wall, 2), "process_s": round(cpu, 2), "solver_s": round(d.solve_seconds, 2),
            "mode": d.mode, "solver": d.solver, "status": d.status, "cost": round(result.costs.total, 2),
            "lower_bound": None if d.lower_bound is None else round(d.lower_bound, 2),
            "bound_gap": None if d.bound_gap is None else round(d.bound_gap, 2),
            "moves": shape.n_moves, "legs": shape.n_legs, "cells": shape.base.n_cells, "steps": len(result.steps),
            "violations": len(validate_transition(problem, result)),
            "load_start_end": [load, [round(x, 2) for x in os.getloadavg()]]}


@case(params={"40-100000": (40, 100_000.0), "200-250000": (200, 250_000.0)})
def milp_max_moves_on_derisk(max_moves: int, min_move_value: float) -> Figures:
    """derisk.toml with max_moves and min_move_value: the heuristic and the MILP (30 s limit), cost and gaps"""
    import allocator
    from allocator.transition import plan_transition

    problem = allocator.load_problem(DERISK)
    schedule = problem.schedule.model_copy(update={"max_moves": max_moves, "min_move_value": min_move_value})
    problem = problem.with_changes(schedule=schedule.model_dump())
    figures: Figures = {}
    for mode in ("heuristic", "integer"):
        start = time.perf_counter()
        result = plan_transition(problem, **{mode: True}, time_limit=30)
        figures[mode] = {"s": round(time.perf_counter() - start, 2), "cost": round(result.costs.total, 2),
                         "gap": round(result.diagnostics.gap, 5), "milp_gap": result.diagnostics.milp_gap,
                         "relaxation": round(result.diagnostics.relaxation_cost, 2), "steps": len(result.steps)}
    return figures
