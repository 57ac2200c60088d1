"""What-if tables: one compiled program, many scenarios, one row each (infeasible scenarios are rows too).

Every scenario is validated against the problem before anything is solved: a bad one raises InputError
listing every issue, located as ``scenarios[3].shock.DOGE``. Solving uses one compiled program per process;
``workers > 1`` spreads contiguous chunks over local processes (each compiles once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeAlias

import pandas as pd

from allocator.analysis.rows import outcome_row
from allocator.errors import InputError, InputIssue
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario
from allocator.solve._engine import Allocator

Scenarios: TypeAlias = pd.DataFrame | Sequence[Scenario | dict[str, Any]]


def changed_problems(problem: Problem, scenarios: Scenarios) -> list[tuple[str, Problem]]:
    """(id, changed problem) per scenario, validated. Scenarios come as a DataFrame (one flat row each) or a
    list of Scenario/dicts. InputError lists every issue of every scenario at once."""
    rows: Iterable[Any] = scenarios.to_dict(orient="records") if isinstance(scenarios, pd.DataFrame) else scenarios
    out: list[tuple[str, Problem]] = []
    issues: list[InputIssue] = []
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        where = f"scenarios[{index}]"
        try:
            scenario = Scenario.parse(row, where=where)
            ident = scenario.id or str(index)
            if first.setdefault(ident, index) != index:
                issues.append(InputIssue(f"{where}.id", f"duplicate scenario id {ident!r} "
                                         f"(first at scenarios[{first[ident]}])", "duplicate_id"))
            out.append((ident, scenario.apply(problem, where=where)))
        except InputError as error:
            issues.extend(error.issues)
    if issues:
        raise InputError(issues)
    return out


def what_if(problem: Problem, scenarios: Scenarios, solver: str | None = None, *, workers: int = 1,
            progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per scenario (see analysis/rows.py for the columns), in the order given."""
    changed = changed_problems(problem, scenarios)
    if workers <= 1 or len(changed) < 2 * workers:
        engine = Allocator(problem, solver)
        rows = []
        for ident, case in changed:
            rows.append(outcome_row(engine, ident, case))
            if progress:
                progress(1)
        return pd.DataFrame(rows)
    size = -(-len(changed) // workers)
    chunks = [changed[i:i + size] for i in range(0, len(changed), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_solve_chunk, problem, solver, chunk) for chunk in chunks]
        frames = []
        for future in futures:
            frames.append(future.result())
            if progress:
                progress(len(frames[-1]))
    return pd.concat(frames, ignore_index=True)


def _solve_chunk(problem: Problem, solver: str | None, chunk: list[tuple[str, Problem]]) -> pd.DataFrame:
    engine = Allocator(problem, solver)
    return pd.DataFrame([outcome_row(engine, ident, case) for ident, case in chunk])
