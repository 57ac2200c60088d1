"""Backtest figures (docs/performance.md, backtest): a desk over 2020-01-01..2025-02-11 with every policy, each
timed after import in a fresh process, with the machine's load average; and the live rebalance of today."""

from __future__ import annotations

import os
import time
from pathlib import Path

from _cases import Figures, case

PROBLEMS = Path(__file__).resolve().parents[2] / "fixtures" / "problems"
SIX = ["isolated", "all_stable", "waterfall", "pro_rata", "optimized", "optimized_predictive"]


def _policies(name: str, reactive: bool) -> list[object]:
    bands = {"bands": {"hyperliquid": "4:8"}} if name == "defi-desk" else {}
    out: list[object] = [{"policy": p, **(bands if p != "isolated" else {})} for p in SIX]
    if reactive:
        out.append({"policy": "optimized", "haircuts": "trailing", "label": "optimized_reactive", **bands})
    return out


@case(params={"desk": ("desk", False), "desk+reactive": ("desk", True), "defi-desk+reactive": ("defi-desk", True)})
def five_years_every_policy(name: str, reactive: bool) -> Figures:
    """A desk fixture over 2020-01-01..2025-02-11 (1,869 days) with the six policies (and the reactive variant):
    market history, GARCH and trailing forecasts, every day's liquidations and moves, the optimized policies
    re-solving one compiled program; the summary per policy"""
    import allocator
    from allocator.analysis.backtest import backtest

    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    policies = _policies(name, reactive)
    load = os.getloadavg()
    start = time.perf_counter()
    result = backtest(problem, "2020-01-01", "2025-02-11", policies)
    seconds = time.perf_counter() - start
    summary = result.summary.set_index("policy")
    return {"problem": name, "days": int(result.meta["days"]), "policies": len(policies),
            "seconds": round(seconds, 1), "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "compilations": {p: int(summary.loc[p, "compilations"]) for p in summary.index
                             if "compilations" in summary and summary.loc[p, "compilations"] == summary.loc[p,
                                                                                                   "compilations"]},
            "solves": {p: int(summary.loc[p, "solves"]) for p in summary.index
                       if "solves" in summary and summary.loc[p, "solves"] == summary.loc[p, "solves"]},
            "summary": {p: {c: _figure(summary.loc[p, c]) for c in COLUMNS} for p in summary.index}}


#: The summary columns docs/backtest.md reports (section 7).
COLUMNS = ["total_cost", "carry_forgone", "carry_exchanged", "transfer_cost", "trading_cost", "liquidation_loss",
           "exchange_pnl", "liquidations", "min_coverage", "p1_coverage", "warning_days", "moves", "turnover",
           "end_value"]


def _figure(value: object) -> float | int:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() and abs(number) < 1e15 else round(number, 4 if abs(number) < 10 else 0)


@case(params={"desk": "desk", "defi-desk": "defi-desk"})
def rebalance_today(name: str) -> Figures:
    """allocator rebalance's decision for today with the optimized policy (venue haircuts) and the predictive one
    (GARCH fitted to the 400 days before today): first call after import, and the median of 3 more"""
    import statistics

    import allocator
    from allocator.analysis.backtest.rebalance import rebalance

    problem = allocator.load_problem(PROBLEMS / f"{name}.toml")
    figures: Figures = {"problem": name}
    for policy in ("optimized", "optimized_predictive"):
        times = []
        for _ in range(4):
            start = time.perf_counter()
            plan = rebalance(problem, policy)
            times.append(time.perf_counter() - start)
        figures[policy] = {"first_s": round(times[0], 3), "median_s": round(statistics.median(times[1:]), 3),
                           "action": plan.action, "steps": len(plan.steps)}
    return figures
