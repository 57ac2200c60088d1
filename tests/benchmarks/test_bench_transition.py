"""Transition figures (issue 4): derisk.toml end to end, a generated 100 assets x 10 accounts x 48 periods
problem (time and peak memory), and the MILP with max_moves on derisk.toml within a 30 s limit. No assertions on
time: the figures are recorded in docs/performance.md."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DERISK = ROOT / "fixtures" / "problems" / "derisk.toml"

pytestmark = pytest.mark.benchmark

_DERISK = """
import resource, sys, time
import allocator
from allocator.transition import plan_transition     # import time is not counted
start = time.perf_counter()
result = plan_transition(allocator.load_problem(sys.argv[1]))
print(time.perf_counter() - start, result.costs.total, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_GENERATED = """
import json, resource, sys, time
from allocator.transition import plan_transition, validate_transition
from allocator.transition.generate import generate_transition
from allocator.transition.periods import Periods
problem = generate_transition(100, 10, 48, seed=1, eligible_share=0.2, venue_assets=20, restrict_routes=True)
periods = Periods.from_problem(problem)
start = time.perf_counter()
result = plan_transition(problem)
wall = time.perf_counter() - start
assert validate_transition(problem, result) == []
print(json.dumps({"wall_s": round(wall, 2), "solver_s": round(result.diagnostics.solve_seconds, 2),
                  "moves": periods.n_moves, "legs": periods.n_legs, "cells": periods.base.n_cells,
                  "steps": len(result.steps), "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""

_MILP = """
import json, sys, time
import allocator
from allocator.transition import plan_transition
problem = allocator.load_problem(sys.argv[1])
schedule = problem.schedule.model_copy(update={"max_moves": int(sys.argv[2]), "min_move_value": float(sys.argv[3])})
problem = problem.with_changes(schedule=schedule.model_dump())
out = {}
for mode in ("heuristic", "integer"):
    start = time.perf_counter()
    result = plan_transition(problem, **{mode: True}, time_limit=30)
    out[mode] = {"s": round(time.perf_counter() - start, 2), "cost": round(result.costs.total, 2),
                 "gap": round(result.diagnostics.gap, 5), "milp_gap": result.diagnostics.milp_gap,
                 "relaxation": round(result.diagnostics.relaxation_cost, 2), "steps": len(result.steps)}
print(json.dumps(out))
"""


def _run(script: str, *args: str, timeout: float = 900) -> str:
    return subprocess.run([sys.executable, "-c", script, *args], check=True, capture_output=True, text=True,
                          timeout=timeout).stdout


def test_derisk_end_to_end(record):
    runs = [_run(_DERISK, str(DERISK)).split() for _ in range(5)]
    seconds = [float(r[0]) for r in runs]
    record("derisk.toml transition (build, solve, verify, plan, validate), wall s after import",
           median=round(statistics.median(seconds), 3), max=round(max(seconds), 3), runs=len(seconds),
           cost=round(float(runs[0][1]), 2), peak_gb=round(int(runs[0][2]) / 1e6, 3))


def test_generated_100_assets_10_accounts_48_periods(record):
    record("generated transition 100 assets x 10 accounts x 48 periods (eligible share 0.2, routes carry what "
           "their account accepts or holds, venues 20 assets)", **json.loads(_run(_GENERATED)))


@pytest.mark.parametrize(("max_moves", "min_value"), [(40, 100_000.0), (200, 250_000.0)])
def test_milp_max_moves_on_derisk(record, max_moves, min_value):
    record(f"derisk.toml max_moves={max_moves} min_move_value={min_value:g}: heuristic and MILP (30 s limit)",
           **json.loads(_run(_MILP, str(DERISK), str(max_moves), str(min_value))))
