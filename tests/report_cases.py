"""What the report tests render: the result of every fixture problem (optimal, needing funding, or the diagnosis
of an infeasible one; hedge.toml with its saving against the unhedged optimum, as ``allocator hedges`` writes it),
the derisk transition, a page with the desk's what-if table and a frontier, the stress report of stress-desk.toml
(its episodes and a few hundred Monte Carlo draws) and its margin-mode comparison, and a short backtest of
desk.toml (March 2020, three policies: liquidations on Black Thursday and warning-zone days; about 3 s). Solved
once per test process."""

from __future__ import annotations

from functools import cache

from helpers import PROBLEM_FILES, PROBLEMS, ROOT

import allocator
from allocator.report import ModesTable, WhatIfTable

FIXTURES = PROBLEM_FILES
CASES = [*FIXTURES, "derisk-transition", "desk-whatif", "stress-desk-stress", "stress-desk-modes",
         "desk-backtest"]
DRAWS, SEED = 300, 1  # the stress case's Monte Carlo draws
#: The backtest case: a month with a crash (2020-03-12), the policies that are liquidated and one that is not.
BACKTEST = ("2020-03-01", "2020-03-31", ("waterfall", "optimized", "all_stable"))


def solve(name: str) -> allocator.Result:
    """The fixture's result; an infeasible fixture gives its diagnosis (the Result the CLI writes)."""
    try:
        return allocator.optimize(allocator.load_problem(PROBLEMS / name))
    except allocator.InfeasibleError as error:
        assert error.result is not None
        return error.result


@cache
def items(case: str) -> tuple[object, ...]:
    """The items the case's page reports."""
    if case == "hedge.toml":
        from allocator.analysis.hedging import hedge_savings

        return (hedge_savings(allocator.load_problem(PROBLEMS / case)).hedged,)
    if case == "stress-desk-stress":
        return (allocator.stress(allocator.load_problem(PROBLEMS / "stress-desk.toml"), draws=DRAWS, seed=SEED),)
    if case == "stress-desk-modes":
        problem = allocator.load_problem(PROBLEMS / "stress-desk.toml")
        return (ModesTable(allocator.compare_modes(problem), currency=problem.currency),)
    if case == "desk-backtest":
        from allocator.analysis.backtest import backtest

        start, end, policies = BACKTEST
        return (backtest(allocator.load_problem(PROBLEMS / "desk.toml"), start, end, list(policies)),)
    if case == "derisk-transition":
        return (allocator.plan_transition(allocator.load_problem(PROBLEMS / "derisk.toml")),)
    if case == "desk-whatif":
        from allocator.analysis.frontier import frontier
        from allocator.analysis.whatif import what_if
        from allocator.batch.spec import read_scenarios

        desk = allocator.load_problem(PROBLEMS / "desk.toml")
        scenarios = [{"id": ident, **fields} for ident, fields in read_scenarios(ROOT / "fixtures" / "scenarios" /
                                                                                  "desk-stress.toml")]
        return (solve("desk.toml"), WhatIfTable(what_if(desk, scenarios), "What-if", "USD"),
                WhatIfTable(frontier(desk, "requirement_scale", [0.5, 1.0, 1.5, 2.0, 3.0]), "Frontier", "USD"))
    return (solve(case),)
