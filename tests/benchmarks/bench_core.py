"""Core figures (docs/performance.md, core allocator and solver choice): desk end to end, generated hub-and-spoke
problems against a hand-built scipy LP, re-solve cost, HiGHS against Clarabel, warm start and the DPP compile."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from _cases import OPTIMIZE, Figures, case, fresh_runs, scaled, spread

import allocator
from allocator.io.generate import generate_problem
from allocator.solve._engine import Allocator  # noqa: F401  (import allocator is lazy: the engine imported untimed)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference_lp import solve_reference  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DESK = ROOT / "fixtures" / "problems" / "desk.toml"


@case()
def desk_end_to_end_process_time() -> Figures:
    """desk end to end (load, build, solve, verify, plan), process s after import, median of 7 fresh processes"""
    seconds = [float(r[0]) for r in fresh_runs(OPTIMIZE.format(clock="process_time"), DESK, 7)]
    return {**spread(seconds, 4), "runs": len(seconds)}


@case(params={"200x20": (200, 2, 20), "500x40": (500, 2, 40), "1000x60": (1000, 2, 60), "2000x100": (2000, 2, 100),
              "200x20-cvxpy": (200, 2, 20, "cvxpy"),
              "500x40-cvxpy": (500, 2, 40, "cvxpy")})
def generated_hub_and_spoke(assets: int, wallets: int, accounts: int, backend: str = "auto") -> Figures:
    """generated assets x accounts x wallets, hub-and-spoke: first solve, scipy LP, 5 re-solves with new data
    (backend "auto": the compile-free linear path at these sizes; "cvxpy": the cvxpy program)"""
    problem = generate_problem(assets, wallets, accounts, seed=1, topology="hub")
    start = time.perf_counter()
    engine = allocator.Allocator(problem, backend=backend)  # type: ignore[arg-type]
    result = engine.solve()
    first = time.perf_counter() - start
    compiled = engine.compilations

    start = time.perf_counter()
    reference = solve_reference(problem)
    scipy_seconds = time.perf_counter() - start
    gross = abs(result.objective.carry) + abs(result.objective.transfer)

    walls, ratios, cvxpy_ratios = [], [], []
    for step in range(5):
        changed = scaled(problem, 1.0 + 0.01 * (step + 1), 1.0 + 0.02 * (step + 1))
        start = time.perf_counter()
        engine.solve(changed)
        wall = time.perf_counter() - start
        solver = sum(r.solve_seconds for r in engine.records)
        walls.append(wall)
        ratios.append(wall / solver)
        cvxpy_ratios.append(sum(r.wall_seconds for r in engine.records) / solver)
    return {"backend": engine.backend, "moves": engine.layout.n_moves, "end_to_end_s": round(first, 3),
            "compile_s": round(result.diagnostics.compile_seconds, 3),
            "solve_s": round(result.diagnostics.solve_seconds, 3), "scipy_highs_lp_s": round(scipy_seconds, 3),
            "objective": round(result.objective.total, 4), "scipy_objective": round(reference.objective, 4),
            "gap_vs_gross_cost": abs(result.objective.total - reference.objective) / max(gross, 1.0),
            "resolve_s": round(statistics.median(walls), 3),
            "resolve_over_solver": round(statistics.median(ratios), 3),
            "cvxpy_resolve_over_solver": round(statistics.median(cvxpy_ratios), 3),
            "recompilations": engine.compilations - compiled}


@case(params={f"{problem}-{solver}": (problem, solver) for problem in ("desk", "60x8")
              for solver in ("HIGHS", "CLARABEL")})
def solver_comparison(problem_name: str, solver: str) -> Figures:
    """one solver on desk.toml or a generated 60 x 8: median of 5 end-to-end solves, gap to the scipy LP"""
    problem = allocator.load_problem(DESK) if problem_name == "desk" else generate_problem(60, 2, 8, seed=2)
    reference = solve_reference(problem)
    seconds, results = [], []
    for _ in range(5):
        start = time.perf_counter()
        results.append(allocator.optimize(problem, solver=solver))
        seconds.append(time.perf_counter() - start)
    result = results[-1]
    gross = abs(result.objective.carry) + abs(result.objective.transfer)
    return {"solver": solver, "median_s": round(statistics.median(seconds), 4),
            "gap_vs_reference": abs(result.objective.total - reference.objective) / max(gross, 1.0),
            "solve_s": round(result.diagnostics.solve_seconds, 4)}


@case(params={"200x20": (200, 2, 20)})
def warm_start_and_dpp_paths(assets: int, wallets: int, accounts: int) -> Figures:
    """HiGHS warm start on DPP re-solves, and the first DPP compile against a plain build (ignore_dpp), cost phase

    The two traps named in the what-if issue: prices and requirements change between three re-solves."""
    from allocator.program._model import Program
    from allocator.program._numbers import Numbers
    from allocator.solve._solvers import profile, run

    problem = generate_problem(assets, wallets, accounts, seed=1)
    layout = allocator.Allocator(problem).layout
    numbers = Numbers.from_problem(problem, layout)
    figures: Figures = {}
    changed = [Numbers.from_problem(scaled(problem, 1.0 + 0.02 * i, 1.0 + 0.03 * i), layout) for i in range(1, 4)]
    for warm in (False, True):
        program = Program(layout)
        program.assign(numbers, profile("HIGHS"))
        first = run(program.problem, "HIGHS", warm_start=warm)
        again = []
        for other in changed:
            program.assign(other, profile("HIGHS"))
            again.append(run(program.problem, "HIGHS", warm_start=warm).wall_seconds)
        figures[f"warm_start_{warm}"] = {"first_s": round(first.wall_seconds, 3),
                                         "compile_s": round(first.compile_seconds, 3),
                                         "resolve_s": round(statistics.median(again), 3)}
    plain = Program(layout)
    plain.assign(numbers, profile("HIGHS"))
    start = time.perf_counter()
    plain.problem.solve(solver="HIGHS", ignore_dpp=True, **profile("HIGHS").options)
    figures["plain_build_first_solve_s"] = round(time.perf_counter() - start, 3)
    figures["plain_build_compile_s"] = round(plain.problem.compilation_time or 0.0, 3)
    return figures
