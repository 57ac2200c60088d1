"""Stress figures (docs/performance.md, stress): the six historical episodes with cascades on a desk, and 10,000
Monte Carlo draws with cascades, each timed after import in a fresh process."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from _cases import Figures, case

PROBLEMS = Path(__file__).resolve().parents[2] / "fixtures" / "problems"


@case(params={"stress-desk": "stress-desk", "desk": "desk"})
def six_episodes_with_cascades(name: str) -> Figures:
    """The six episodes of models/stress-episodes.toml with cascades on a desk fixture: the first call after import
    (reads the market files and the episodes) and the median of 5 more"""
    import allocator
    from allocator.analysis.stress import stress

    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    start = time.perf_counter()
    report = stress(problem)
    first = time.perf_counter() - start
    repeats = []
    for _ in range(5):
        start = time.perf_counter()
        stress(problem)
        repeats.append(time.perf_counter() - start)
    return {"problem": name, "first_s": round(first, 3), "median_s": round(statistics.median(repeats), 3),
            "max_s": round(max(repeats), 3), "liquidations": int(report.summary["liquidated"].sum()),
            "cascade_accounts": {r.scenario: r.cascade_accounts for r in report.summary_rows if r.cascade_accounts}}


@case(params={"stress-desk-10000": ("stress-desk", 10_000), "desk-10000": ("desk", 10_000)})
def monte_carlo_with_cascades(name: str, draws: int) -> Figures:
    """Monte Carlo draws of one day's moves (Student-t fitted to three years of the market files) with cascades on a
    desk fixture, in one process: fit, draws, revaluation, liquidations, cascades and the report"""
    import allocator
    from allocator.analysis.stress import stress

    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    start = time.perf_counter()
    report = stress(problem, episodes=[], draws=draws, seed=7)
    seconds = time.perf_counter() - start
    mc = report.monte_carlo
    assert mc is not None
    return {"problem": name, "draws": draws, "seconds": round(seconds, 2),
            "degrees_of_freedom": round(mc.degrees_of_freedom, 3), "p_any_liquidation": mc.probability_any_liquidation,
            "p_cascade": mc.probability_cascade, "var_99": round(mc.var_99), "es_99": round(mc.expected_shortfall_99)}
