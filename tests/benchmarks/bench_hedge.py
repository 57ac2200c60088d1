"""Hedging figures (docs/performance.md, hedging): what hedges as decisions add to the solve time of the desk and of
the generated 200 x 20 problem (docs/hedging.md). The issue's figure: under 20%."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from _cases import Figures, case

import allocator
from allocator.io.generate import generate_problem

ROOT = Path(__file__).resolve().parents[2]
DESK = ROOT / "fixtures" / "problems" / "desk.toml"
RUNS = 9


def _desk() -> dict[str, Any]:
    """desk.toml with six hedges: BTC, ETH and SOL perps at the CEX perps account and the prime broker."""
    data = allocator.load_problem(DESK).model_dump(by_alias=True)
    data["hedges"] = [{"account": account, "instrument": f"{asset}-PERP", "underlying": asset, "funding_rate": 0.1095,
                       "fee_bps": 4.5, "max_notional": 2e6, "margin_rate": 0.05}
                      for account in ("cex-perps", "prime-broker") for asset in ("BTC", "ETH", "SOL")]
    return data


def _generated() -> dict[str, Any]:
    """The generated 200 x 20 hub-and-spoke problem of bench_core with one hedge per account (on the account's own
    asset ``A0kk``)."""
    data = generate_problem(200, 2, 20, seed=1, topology="hub").model_dump(by_alias=True)
    data["hedges"] = [{"account": account["id"], "instrument": f"A{k:03d}-PERP", "underlying": f"A{k:03d}",
                       "funding_rate": 0.05, "fee_bps": 3.0, "max_notional": 1e6, "margin_rate": 0.05}
                      for k, account in enumerate(data["accounts"])]
    return data


def _timed(problem: allocator.Problem, backend: str = "auto") -> tuple[float, float, float]:
    """(end to end incl. building and compiling, solver seconds, re-solve with a price moved 1%), process time
    (the machine's other work is not counted; HiGHS runs on one thread)."""
    start = time.process_time()
    engine = allocator.Allocator(problem, backend=backend)  # type: ignore[arg-type]
    result = engine.solve()
    first = time.process_time() - start
    data = problem.model_dump(by_alias=True)
    data["assets"][0]["price"] *= 1.01
    changed = allocator.Problem.model_validate(data)
    start = time.process_time()
    engine.solve(changed)
    return first, result.diagnostics.solve_seconds, time.process_time() - start


@case(params={"desk": ("desk", "auto"), "desk-highs": ("desk", "highs"), "200x20": ("200x20", "auto")})
def hedging_overhead(name: str, backend: str = "auto") -> Figures:
    """solve time with hedges over without: end to end (build, compile, solve, verify, plan; process s), solver
    only (wall), and a DPP re-solve; median of 9 alternating runs in one process (desk: 6 hedges; 200 x 20: one per
    account); ``backend`` for both books ("desk-highs": the desk on the linear path, which "auto" takes only from
    FAST_MIN_VARIABLES up)"""
    hedged = allocator.Problem.model_validate(_desk() if name == "desk" else _generated())
    plain_data = hedged.model_dump(by_alias=True)
    plain_data["hedges"] = []
    plain = allocator.Problem.model_validate(plain_data)
    times: dict[str, list[tuple[float, float, float]]] = {"plain": [], "plain_cvxpy": [], "hedged": []}
    for _ in range(RUNS):  # "auto": the same path for both books (the 200 x 20 takes the compile-free HiGHS path)
        for label, problem, chosen in (("plain", plain, backend), ("plain_cvxpy", plain, "cvxpy"),
                                       ("hedged", hedged, backend)):
            times[label].append(_timed(problem, chosen))
    median = {label: [statistics.median(run[i] for run in runs) for i in range(3)] for label, runs in times.items()}
    result = allocator.optimize(hedged)
    return {"hedges": len(hedged.hedges), "traded": len(result.hedges),
            "plain_end_to_end_s": round(median["plain"][0], 4), "hedged_end_to_end_s": round(median["hedged"][0], 4),
            "end_to_end_ratio": round(median["hedged"][0] / median["plain"][0], 3),
            "plain_cvxpy_end_to_end_s": round(median["plain_cvxpy"][0], 4),
            "end_to_end_ratio_same_program": round(median["hedged"][0] / median["plain_cvxpy"][0], 3),
            "plain_solver_s": round(median["plain"][1], 4), "hedged_solver_s": round(median["hedged"][1], 4),
            "plain_resolve_s": round(median["plain"][2], 4), "hedged_resolve_s": round(median["hedged"][2], 4),
            "solver_ratio": round(median["hedged"][1] / median["plain"][1], 3),
            "resolve_ratio": round(median["hedged"][2] / median["plain"][2], 3)}
