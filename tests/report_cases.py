"""What the report tests render: the result of every fixture problem (optimal, needing funding, or the diagnosis
of an infeasible one), the derisk transition, and a page with the desk's what-if table and a frontier. Solved once
per test process."""

from __future__ import annotations

from functools import cache

from helpers import PROBLEMS, ROOT

import allocator
from allocator.report import WhatIfTable

FIXTURES = sorted(path.name for path in PROBLEMS.iterdir() if path.suffix in (".toml", ".json"))
CASES = [*FIXTURES, "derisk-transition", "desk-whatif"]


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
