"""Risk figures (issue: risk): fund.toml with 500 Monte Carlo draws and the parametric limit, and generated
problems with a factor-model cone and stress scenarios per account (working set, program/scenarios.py).
No assertions on time: the figures are recorded in docs/performance.md."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUND = ROOT / "fixtures" / "problems" / "fund.toml"

pytestmark = pytest.mark.benchmark

_FUND = """
import time, sys
import allocator
start = time.perf_counter()
result = allocator.optimize(allocator.load_problem(sys.argv[1]))
print(time.perf_counter() - start, result.objective.total)
"""

_GENERATED = """
import json, resource, sys, time
import allocator
from allocator.generate import generate_problem
n, k, s, topology = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
problem = generate_problem(n, 2, k, seed=1, risk=True, scenarios=s, factor_model=True, topology=topology)
start = time.perf_counter()
engine = allocator.Allocator(problem)
first = engine.solve(plan=False)
first_s = time.perf_counter() - start
rounds, slots = len(engine.records), engine.layout.stress_slots
start = time.perf_counter()
again = engine.solve(plan=False)
print(json.dumps({"first_s": round(first_s, 2), "compile_s": round(first.diagnostics.compile_seconds, 2),
                  "solver_s": round(first.diagnostics.solve_seconds, 2), "rounds": rounds, "slots": slots,
                  "resolve_s": round(time.perf_counter() - start, 2), "objective": first.objective.total,
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def test_fund_end_to_end(record):
    runs = [subprocess.run([sys.executable, "-c", _FUND, str(FUND)], check=True, capture_output=True,
                           text=True).stdout.split() for _ in range(5)]
    seconds = [float(r[0]) for r in runs]
    record("fund.toml end to end (load with EWMA estimation, 500 CVaR draws, parametric, stress, plan), wall s "
           "after import", median=round(statistics.median(seconds), 3), max=round(max(seconds), 3))


@pytest.mark.parametrize("size", [(100, 10, 200, "none"), (250, 20, 300, "none"), (500, 30, 500, "none"),
                                  (100, 10, 200, "hub"), (250, 20, 300, "hub")],
                         ids=lambda s: "x".join(map(str, s)))
def test_generated_scenarios_and_cones(record, size):
    out = subprocess.run([sys.executable, "-c", _GENERATED, *map(str, size)], check=True, capture_output=True,
                         text=True, timeout=1800).stdout
    n, k, s, topology = size
    record(f"generated {n} assets x {k} risk accounts x {s} stress scenarios, factor cone, moves {topology}",
           **json.loads(out.strip().splitlines()[-1]))
