"""The batch specification: which problems, which scenarios, and how they are keyed.

A SPEC is a TOML file::

    chunk_size = 100                          # scenarios per task and per result file (default 100)

    [[jobs]]
    problem = "problems/desk.toml"            # relative to the spec file
    scenarios = "scenarios/stress.toml"       # optional: .toml/.json ([[scenarios]]), .csv or .parquet (flat)
    base = true                               # optional: also solve the problem unchanged (default: true
                                              # when the job has neither scenarios nor a grid)
    [jobs.grid]                               # optional: every combination of these flat fields
    "shock.BTC" = [-0.1, -0.2, -0.3]
    "haircut_shift.*" = [0.0, 0.05]

or a directory of problem files (each solved once, unchanged). Every scenario has a key: the SHA-256 of the
problem's canonical JSON and the scenario's, so re-running a batch recognises the work already done.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.errors import InputError, InputIssue
from allocator.loading import load_problem
from allocator.problem import Problem

PROBLEM_SUFFIXES = (".toml", ".json")


@dataclass(frozen=True)
class Unit:
    """One scenario of one problem: the smallest piece of batch work."""

    key: str
    job: int
    scenario_id: str
    scenario: dict[str, Any]  # nested or flat scenario fields; {} is the problem unchanged


@dataclass(frozen=True)
class Job:
    name: str
    problem: Problem
    problem_hash: str
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class Spec:
    jobs: tuple[Job, ...]
    chunk_size: int = 100

    @property
    def units(self) -> list[Unit]:
        return [unit for job in self.jobs for unit in job.units]


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=float)


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in PROBLEM_SUFFIXES)
        if not files:
            raise InputError([InputIssue(str(path), "no .toml or .json problem files in this directory", "empty")])
        return Spec(tuple(_job(index, f.name, load_problem(f), [("base", {})]) for index, f in enumerate(files)))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InputError([InputIssue(str(path), f"cannot read the batch spec: {error}", "syntax")]) from None
    issues: list[InputIssue] = []
    unknown = set(data) - {"chunk_size", "jobs"}
    issues += [InputIssue(key, f"unknown field {key!r}", "unknown_field") for key in sorted(unknown)]
    chunk_size = data.get("chunk_size", 100)
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        issues.append(InputIssue("chunk_size", f"{chunk_size!r} is not a positive integer", "out_of_range"))
    jobs = []
    for index, entry in enumerate(data.get("jobs") or []):
        try:
            jobs.append(_job_from_entry(index, entry, path.parent))
        except InputError as error:
            issues += [InputIssue(f"jobs[{index}].{i.location}".rstrip("."), i.message, i.code) for i in error.issues]
    if not jobs and not issues:
        issues.append(InputIssue("jobs", "the spec lists no jobs", "empty"))
    issues += _duplicate_keys(jobs)
    if issues:
        raise InputError(issues)
    return Spec(tuple(jobs), chunk_size)


def _duplicate_keys(jobs: list[Job]) -> list[InputIssue]:
    """Two identical (problem, scenario) pairs would be one key solved twice: name them instead."""
    first: dict[str, tuple[int, str]] = {}
    issues = []
    for index, job in enumerate(jobs):
        for unit in job.units:
            seen = first.setdefault(unit.key, (index, unit.scenario_id))
            if seen != (index, unit.scenario_id):
                issues.append(InputIssue(f"jobs[{index}]", f"scenario {unit.scenario_id!r} is the same problem and "
                                         f"changes as jobs[{seen[0]}] scenario {seen[1]!r}; keep one",
                                         "duplicate_scenario"))
    return issues


def _job_from_entry(index: int, entry: dict[str, Any], root: Path) -> Job:
    unknown = set(entry) - {"problem", "scenarios", "grid", "base", "name"}
    if unknown:
        raise InputError([InputIssue(key, f"unknown field {key!r}", "unknown_field") for key in sorted(unknown)])
    if "problem" not in entry:
        raise InputError([InputIssue("problem", "is required", "missing_field")])
    problem = load_problem(root / entry["problem"])
    scenarios: list[tuple[str, dict[str, Any]]] = []
    if "scenarios" in entry:
        scenarios += read_scenarios(root / entry["scenarios"])
    grid = entry.get("grid") or {}
    if grid:
        fields = sorted(grid)
        for values in itertools.product(*(grid[f] for f in fields)):
            combo = dict(zip(fields, values, strict=True))
            scenarios.append((",".join(f"{f}={v}" for f, v in combo.items()), combo))
    if entry.get("base", not scenarios):
        scenarios.insert(0, ("base", {}))
    return _job(index, entry.get("name", entry["problem"]), problem, scenarios)


def _job(index: int, name: str, problem: Problem, scenarios: list[tuple[str, dict[str, Any]]]) -> Job:
    problem_hash = digest(canonical(problem.model_dump(by_alias=True)))
    units = tuple(Unit(digest(problem_hash, canonical(scenario)), index, ident, scenario)
                  for ident, scenario in scenarios)
    return Job(name, problem, problem_hash, units)


def read_scenarios(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(id, fields) per scenario from a .toml/.json file (``scenarios`` list) or a flat .csv/.parquet table."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".toml", ".json"):
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
            rows = data.get("scenarios") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise InputError([InputIssue(str(path), "expected a list of [[scenarios]]", "not_a_list")])
        elif suffix in (".csv", ".parquet"):
            frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
            rows = frame.to_dict(orient="records")
        else:
            raise InputError([InputIssue(str(path), f"unknown scenario file type {suffix!r}", "unknown_format")])
    except (OSError, ValueError, tomllib.TOMLDecodeError) as error:
        raise InputError([InputIssue(str(path), f"cannot read scenarios: {error}", "syntax")]) from None
    out = []
    for index, row in enumerate(rows):
        fields = {k: v for k, v in row.items() if k != "id" and not (isinstance(v, float) and v != v)}
        ident = row.get("id")
        out.append((str(ident) if ident is not None and ident == ident else str(index), fields))
    return out
