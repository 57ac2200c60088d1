"""Risk figures (docs/performance.md, risk limits): fund.toml with 500 Monte Carlo draws and the parametric limit,
and generated problems with a factor-model cone and stress scenarios per account (working set,
program/_scenarios.py)."""

from __future__ import annotations

import time
from pathlib import Path

from _cases import OPTIMIZE, Figures, case, fresh_runs, spread

ROOT = Path(__file__).resolve().parents[2]
FUND = ROOT / "fixtures" / "problems" / "fund.toml"


@case()
def fund_end_to_end() -> Figures:
    """fund.toml end to end (EWMA estimate, 500 CVaR draws, parametric, stress, plan), wall s after import, 5 fresh
    processes"""
    return spread([float(r[0]) for r in fresh_runs(OPTIMIZE.format(clock="perf_counter"), FUND, 5)], 3)


_SIZES = [(100, 10, 200, "none"), (250, 20, 300, "none"), (500, 30, 500, "none"), (100, 10, 200, "hub"),
          (250, 20, 300, "hub")]


@case(params={"x".join(map(str, size)): size for size in _SIZES})
def generated_scenarios_and_cones(assets: int, accounts: int, scenarios: int, topology: str) -> Figures:
    """generated assets x risk accounts x stress scenarios, factor cone, moves none or hub: first solve, re-solve

    The case's fresh process is the one measured (import not counted; its peak memory is the runner's peak_mb)."""
    import allocator
    from allocator.io.generate import generate_problem
    from allocator.solve._engine import Allocator  # noqa: F401  (import allocator is lazy: the engine imported untimed)

    problem = generate_problem(assets, 2, accounts, seed=1, risk=True, scenarios=scenarios, factor_model=True,
                               topology=topology)
    start = time.perf_counter()
    engine = allocator.Allocator(problem)
    first = engine.solve(plan=False)
    first_s = time.perf_counter() - start
    rounds, slots = len(engine.records), engine.program.stress_slots
    start = time.perf_counter()
    engine.solve(plan=False)
    return {"first_s": round(first_s, 2), "compile_s": round(first.diagnostics.compile_seconds, 2),
            "solver_s": round(first.diagnostics.solve_seconds, 2), "rounds": rounds, "slots": slots,
            "resolve_s": round(time.perf_counter() - start, 2), "objective": first.objective.total}
