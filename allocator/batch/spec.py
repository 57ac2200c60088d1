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

or a directory of problem files (each solved once, unchanged). The spec is validated like a problem (strict
types: ``base = "no"`` is an error, not true), and so is every file it names; every issue of every file is
reported at once, located in its file (``problems/bad.toml: accounts[0].haircuts.SOL``). Every scenario has a
key: the SHA-256 of the problem's canonical JSON and the scenario's, so re-running a batch recognises the work
already done.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from allocator.batch.backtests import BacktestEntry, units_of
from allocator.batch.scenario_files import read_scenarios
from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Id, StrictModel
from allocator.inputs.issues import issues_from_pydantic, without_refused
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario
from allocator.io.documents import parse, read_text
from allocator.io.loading import load_problem

__all__ = ["Job", "Spec", "Unit", "canonical", "digest", "load_spec", "read_scenarios"]

PROBLEM_SUFFIXES = (".toml", ".json")
#: Most scenarios one job's grid may expand to.
MAX_GRID = 1_000_000
FilePath = Annotated[str, Field(min_length=1)]


class JobEntry(StrictModel):
    """One ``[[jobs]]`` table of a spec file."""

    problem: FilePath
    scenarios: FilePath | None = None
    grid: dict[str, Annotated[list[float], Field(min_length=1)]] = Field(default_factory=dict)
    base: bool | None = None
    name: Id | None = None


class SpecFile(StrictModel):
    """A spec file: ``chunk_size`` and at least one job or backtest sweep (backtests.py)."""

    chunk_size: int = Field(default=100, ge=1)
    backtests: list[BacktestEntry] = Field(default_factory=list)
    jobs: list[JobEntry]

    @model_validator(mode="before")
    @classmethod
    def _backtests_only(cls, data: Any) -> Any:
        """A spec of backtest sweeps alone needs no ``[[jobs]]``."""
        if isinstance(data, dict) and data.get("backtests") and "jobs" not in data:
            return {**data, "jobs": []}
        return data

    @field_validator("jobs")
    @classmethod
    def _some(cls, jobs: list[JobEntry], info: ValidationInfo) -> list[JobEntry]:
        if not jobs and not info.data.get("backtests"):
            raise ValueError("a spec needs at least one [[jobs]] or [[backtests]] table")
        return jobs


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
    chunk_size: int | None = None  # units per chunk when not the spec's (a backtest: one)


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
    """A validated spec from a TOML file or a directory of problem files; InputError with every issue."""
    path = Path(path)
    files = _Files()
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in PROBLEM_SUFFIXES)
        if not found:
            raise InputError([InputIssue(str(path), "no .toml or .json problem files in this directory", "empty")])
        problems = {f: files.problem(f) for f in found}
        files.raise_issues()
        return Spec(tuple(_job(index, f.name, problem, [("base", {})])
                          for index, (f, problem) in enumerate(problems.items()) if problem is not None))
    data = parse(read_text(path, "batch spec"), "toml", str(path))
    refused: list[InputIssue] = []
    try:
        spec = SpecFile.model_validate(data)
    except ValidationError as error:
        # the rest of the spec (its jobs' files and grids) is still checked, so every issue is reported at once
        refused = issues_from_pydantic(error)
        try:
            spec = SpecFile.model_validate(without_refused(data, error) if isinstance(data, dict) else data)
        except ValidationError:
            raise InputError(refused) from None
    jobs = [_job_from_entry(index, entry, path.parent, files) for index, entry in enumerate(spec.jobs)]
    jobs += [_backtest_job(len(spec.jobs) + index, index, entry, path.parent, files)
             for index, entry in enumerate(spec.backtests)]
    built = [job for job in jobs if job is not None]
    issues = [*refused, *files.issues, *(_duplicate_keys(built) if not files.issues else [])]
    if issues:
        raise InputError(issues)
    return Spec(tuple(built), spec.chunk_size)


class _Files:
    """Each file a spec names, read once (two jobs may share a problem); its issues located in the file."""

    def __init__(self) -> None:
        self.problems: dict[Path, Problem | None] = {}
        self.issues: list[InputIssue] = []

    def problem(self, path: Path) -> Problem | None:
        if path not in self.problems:
            self.problems[path] = self._read(path, load_problem)
        return self.problems[path]

    def scenarios(self, path: Path) -> list[tuple[str, dict[str, Any]]] | None:
        return self._read(path, read_scenarios)

    def _read(self, path: Path, read: Any) -> Any:
        try:
            return read(path)
        except InputError as error:
            name = str(path)
            self.issues += [issue if issue.location.startswith(name) else
                            InputIssue(f"{name}: {issue.location}" if issue.location else name, issue.message,
                                       issue.code) for issue in error.issues]
            return None

    def raise_issues(self) -> None:
        if self.issues:
            raise InputError(self.issues)


def _job_from_entry(index: int, entry: JobEntry, root: Path, files: _Files) -> Job | None:
    problem = files.problem(root / entry.problem)
    scenarios: list[tuple[str, dict[str, Any]]] = []
    if entry.scenarios is not None:
        scenarios += files.scenarios(root / entry.scenarios) or []
    combinations = math.prod(len(values) for values in entry.grid.values())
    if combinations > MAX_GRID:  # expanding it would exhaust memory long before anything is solved
        files.issues.append(InputIssue(f"jobs[{index}].grid", f"{combinations:,} combinations; at most {MAX_GRID:,} "
                                       "per job (split the grid over several jobs or batches)", "too_large"))
    elif entry.grid:
        fields = sorted(entry.grid)
        _check_grid(index, entry.grid, files)
        for values in itertools.product(*(entry.grid[f] for f in fields)):
            combo = dict(zip(fields, values, strict=True))
            scenarios.append((",".join(f"{f}={v}" for f, v in combo.items()), combo))
    base = entry.base if entry.base is not None else (entry.scenarios is None and not entry.grid)
    if base:
        scenarios.insert(0, ("base", {}))
    if problem is None:
        return None
    return _job(index, entry.name or entry.problem, problem, scenarios)


def _backtest_job(job: int, index: int, entry: BacktestEntry, root: Path, files: _Files) -> Job | None:
    """A ``[[backtests]]`` table as a job of one-unit chunks (backtests.py)."""
    problem = files.problem(root / entry.problem)
    try:
        units = units_of(index, entry)
    except InputError as error:
        files.issues += error.issues
        return None
    if problem is None:
        return None
    built = _job(job, entry.name or entry.problem, problem, units)
    return Job(built.name, built.problem, built.problem_hash, built.units, chunk_size=1)


def _check_grid(index: int, grid: dict[str, list[float]], files: _Files) -> None:
    """Each grid field and value parsed as a flat scenario field (``shock.BTC`` in (-1, 100])."""
    for field, values in grid.items():
        for position, value in enumerate(values):
            try:
                Scenario.parse({field: value}, where=f"jobs[{index}].grid")
            except InputError as error:
                files.issues += [InputIssue(f"jobs[{index}].grid.{field}[{position}]", issue.message, issue.code)
                                 for issue in error.issues]
                break


def _duplicate_keys(jobs: list[Job]) -> list[InputIssue]:
    """Two identical (problem, scenario) pairs would be one key solved twice: name them instead."""
    first: dict[str, tuple[int, str]] = {}
    issues = []
    for job in jobs:
        for unit in job.units:
            seen = first.setdefault(unit.key, (unit.job, unit.scenario_id))
            if seen != (unit.job, unit.scenario_id):
                issues.append(InputIssue(f"jobs[{unit.job}]", f"scenario {unit.scenario_id!r} is the same problem "
                                         f"and changes as jobs[{seen[0]}] scenario {seen[1]!r}; keep one",
                                         "duplicate_scenario"))
    return issues


def _job(index: int, name: str, problem: Problem, scenarios: list[tuple[str, dict[str, Any]]]) -> Job:
    """The job's units, keyed by the problem's canonical JSON without defaults (so that a version adding an
    optional field keeps the keys of an earlier run) and the scenario's fields."""
    problem_hash = digest(canonical(problem.model_dump(by_alias=True, exclude_defaults=True)))
    units = tuple(Unit(digest(problem_hash, canonical(scenario)), index, ident, scenario)
                  for ident, scenario in scenarios)
    return Job(name, problem, problem_hash, units)
