"""Backtest sweeps in a batch: ``[[backtests]]`` tables of a spec, one unit (and one result row) per policy,
parameter combination and date window (docs/batch.md, "Backtest sweeps").

    [[backtests]]
    name = "desk-bands"
    problem = "../problems/desk.toml"
    policies = ["waterfall", "optimized"]            # default: the six shipped
    windows = [["2020-01-01", "2020-12-31"], ["2022-01-01", "2022-12-31"]]   # or start = ..., end = ...
    params = { bands = { hyperliquid = "4:8" } }     # given to every policy that takes them
    [backtests.grid]                                 # every combination
    band = ["1.1:1.5", "1.2:1.6"]
    every_days = [0, 7]

A grid parameter goes only to the policies that take it (``every_days`` to the optimized ones, not to the
waterfall), so each policy gets one unit per distinct combination of *its* parameters: one row per (policy,
parameters, window). Every policy is built once per combination when the spec is read, so a bad name or value is
reported then, located (``backtests[0].grid``). A unit's key is the SHA-256 of the problem and of the policy, its
parameters and its window: a re-run skips what is done.
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Any

from pydantic import Field

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Day, Id, StrictModel
from allocator.inputs.problem import Problem

#: Most units one ``[[backtests]]`` table may expand to.
MAX_UNITS = 10_000
Value = float | int | str | bool | dict[str, Any]


class BacktestEntry(StrictModel):
    """One ``[[backtests]]`` table."""

    problem: Annotated[str, Field(min_length=1)]
    name: Id | None = None
    policies: list[Id] = Field(default_factory=lambda: _default_policies(), min_length=1)
    start: Day | None = None
    end: Day | None = None
    windows: list[Annotated[list[Day], Field(min_length=2, max_length=2)]] = Field(default_factory=list)
    params: dict[str, Value] = Field(default_factory=dict)
    grid: dict[str, Annotated[list[Value], Field(min_length=1)]] = Field(default_factory=dict)


def _default_policies() -> list[str]:
    from allocator.analysis.backtest.policies import DEFAULT_POLICIES  # the backtest loads when a sweep runs

    return list(DEFAULT_POLICIES)


def units_of(index: int, entry: BacktestEntry) -> list[tuple[str, dict[str, Any]]]:
    """(scenario id, fields) of every unit of the table; InputError for bad windows, policies or parameters."""
    from allocator.analysis.backtest import make_policy
    from allocator.analysis.backtest.policies import policy_parameters

    where = f"backtests[{index}]"
    issues = []
    windows = [tuple(w) for w in entry.windows]
    if entry.start is not None or entry.end is not None:
        if entry.start is None or entry.end is None:
            issues.append(InputIssue(where, "give both start and end (or windows)", "missing_field"))
        else:
            windows.insert(0, (entry.start, entry.end))
    if not windows and not issues:
        issues.append(InputIssue(where, "give start and end, or windows", "missing_field"))
    issues += [InputIssue(f"{where}.windows[{i}]", f"{a} is not before {b}", "bad_window")
               for i, (a, b) in enumerate(windows) if a >= b]
    combinations = math.prod(len(v) for v in entry.grid.values()) * len(entry.policies) * max(len(windows), 1)
    if combinations > MAX_UNITS:
        issues.append(InputIssue(f"{where}.grid", f"{combinations:,} runs; at most {MAX_UNITS:,} per table",
                                 "too_large"))
    if issues:
        raise InputError(issues)
    fields = sorted(entry.grid)
    out: list[tuple[str, dict[str, Any]]] = []
    for policy in entry.policies:
        try:
            accepted = policy_parameters(policy) - {"label"}
        except InputError as error:
            issues += [InputIssue(f"{where}.policies", issue.message, issue.code) for issue in error.issues]
            continue
        seen = set()
        for values in itertools.product(*(entry.grid[f] for f in fields)):
            params = {**{k: v for k, v in entry.params.items() if k in accepted},
                      **{f: v for f, v in zip(fields, values, strict=True) if f in accepted}}
            label = ",".join(f"{k}={params[k]}" for k in sorted(params) if k in entry.grid)
            if label in seen:
                continue
            seen.add(label)
            try:
                make_policy(policy, **params)
            except InputError as error:
                issues += [InputIssue(f"{where}.grid" if label else f"{where}.policies",
                                      f"{policy}[{label}]: {issue.message}", issue.code) for issue in error.issues]
                continue
            for start, end in windows:
                ident = f"{policy}[{label}]@{start}..{end}"
                out.append((ident, {"backtest": {"policy": policy, "params": params, "start": start, "end": end}}))
    if issues:
        raise InputError(issues)
    return out


def backtest_row(problem: Problem, ident: str, run: dict[str, Any]) -> dict[str, Any]:
    """The summary row of one unit, with its policy, parameters (``param.<name>``) and window."""
    from allocator.analysis.backtest import backtest

    result = backtest(problem, run["start"], run["end"], [{"policy": run["policy"], **run["params"]}])
    row = {key: (None if isinstance(value, float) and math.isnan(value) else value)
           for key, value in result.summary.iloc[0].to_dict().items()}
    row.pop("policy", None)
    params = {f"param.{k}": str(v) for k, v in run["params"].items()}
    return {"scenario": ident, "status": "done", "policy": run["policy"], "start": run["start"], "end": run["end"],
            **params, **row, "notes": "; ".join(result.notes)}
