"""What-if tables: one compiled program, many scenarios, one row each (infeasible scenarios are rows too).

Every scenario is validated against the problem before anything is solved: a bad one raises InputError
listing every issue, located as ``scenarios[3].shock.DOGE``. Solving uses one compiled program per process;
``workers > 1`` spreads contiguous chunks over local processes (each compiles once).

Validating a scenario applies it (the changed problem is checked as a whole). The changed problems are kept for
the solves while ``scenarios x (assets + holdings)`` stays within ``KEEP_CHANGED``; a larger table (a 2000-asset
book's changed problem holds about 10 MB of Python objects, so a thousand of them would not fit in memory) keeps
only the scenarios and applies each again when it is solved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeAlias

import pandas as pd

from allocator.analysis.rows import outcome_row
from allocator.errors import InputError, InputIssue
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario, reference_issues
from allocator.solve._engine import Allocator

Scenarios: TypeAlias = pd.DataFrame | Sequence[Scenario | dict[str, Any]]

#: Scenarios x (assets + holdings) up to which the problems changed while validating are kept for the solves (about
#: 2.5 KB of Python objects per asset or holding of each: 250 MB at most); above, they are applied again.
KEEP_CHANGED = 100_000

#: A scenario to solve: its id and the changed problem, or the scenario (applied to the problem when solved).
Case: TypeAlias = tuple[str, Problem | Scenario]


def changed_problems(problem: Problem, scenarios: Scenarios) -> list[tuple[str, Problem]]:
    """(id, changed problem) per scenario, validated. Scenarios come as a DataFrame (one flat row each) or a
    list of Scenario/dicts. InputError lists every issue of every scenario at once."""
    cases = _validated(problem, scenarios, keep=True)
    return [(ident, changed) for ident, changed in cases if isinstance(changed, Problem)]  # every one, kept


def _validated(problem: Problem, scenarios: Scenarios, keep: bool | None = None) -> list[Case]:
    """Every scenario parsed and applied (InputError with every issue of every one); the changed problems kept when
    ``keep`` (None: while within KEEP_CHANGED), else the scenarios."""
    rows: list[Any] = scenarios.to_dict(orient="records") if isinstance(scenarios, pd.DataFrame) else list(scenarios)
    if keep is None:
        keep = len(rows) * (len(problem.assets) + len(problem.holdings)) <= KEEP_CHANGED
    out: list[Case] = []
    issues: list[InputIssue] = []
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        where = f"scenarios[{index}]"
        try:
            try:
                scenario = Scenario.parse(row, where=where)
            except InputError as error:  # its keys are checked too: a bad value and a typo in an id, one error
                raise InputError([*error.issues, *reference_issues(row, problem, where)]) from None
            ident = scenario.id or str(index)
            if first.setdefault(ident, index) != index:
                issues.append(InputIssue(f"{where}.id", f"duplicate scenario id {ident!r} "
                                         f"(first at scenarios[{first[ident]}])", "duplicate_id"))
            changed = scenario.apply(problem, where=where)
            out.append((ident, changed if keep else scenario))
        except InputError as error:
            issues.extend(error.issues)
    if issues:
        raise InputError(issues)
    return out


def what_if(problem: Problem, scenarios: Scenarios, solver: str | None = None, *, workers: int = 1,
            progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per scenario (see analysis/rows.py for the columns), in the order given."""
    cases = _validated(problem, scenarios)
    if workers <= 1 or len(cases) < 2 * workers:
        engine = Allocator(problem, solver)
        rows = []
        for ident, case in cases:
            rows.append(_row(engine, problem, ident, case))
            if progress:
                progress(1)
        return pd.DataFrame(rows)
    size = -(-len(cases) // workers)
    chunks = [cases[i:i + size] for i in range(0, len(cases), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_solve_chunk, problem, solver, chunk) for chunk in chunks]
        frames = []
        for future in futures:
            frames.append(future.result())
            if progress:
                progress(len(frames[-1]))
    return pd.concat(frames, ignore_index=True)


def _row(engine: Allocator, problem: Problem, ident: str, case: Problem | Scenario) -> dict[str, Any]:
    changed = case if isinstance(case, Problem) else case.apply(problem)  # validated before: applies again cleanly
    return outcome_row(engine, ident, changed)


def _solve_chunk(problem: Problem, solver: str | None, chunk: list[Case]) -> pd.DataFrame:
    engine = Allocator(problem, solver)
    return pd.DataFrame([_row(engine, problem, ident, case) for ident, case in chunk])
