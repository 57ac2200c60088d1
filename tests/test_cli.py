"""The real command line, run as subprocesses: exit codes, summaries, JSON results and one-line errors.

Exit codes (docs/cli.md, allocator/cli/exits.py): 0 optimal and safe, 4 optimal but needs temporary funding, 3
infeasible, 2 bad input or usage (an unknown solver too), 5 solver failure. Each process spends about two seconds
importing cvxpy, so the module fixture starts every invocation at once and the tests read the finished runs. The
other commands and the output convention are tested in process (test_cli_*.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BAD_PROBLEM

import allocator

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "fixtures" / "problems"
CONSOLE_SCRIPT = Path(sys.executable).parent / "allocator"

BAD_PROBLEM_LOCATIONS = ["accounts[0].bufer", "accounts[0].haircuts.USDC"]


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    output: Path | None  # where the result JSON should be (or must not be)

    def result(self) -> allocator.Result:
        assert self.output is not None and self.output.is_file(), f"no result file at {self.output}"
        return allocator.Result.from_json(self.output.read_text(encoding="utf-8"))

    def __str__(self) -> str:  # shown by pytest when an assertion on a run fails
        return f"{' '.join(self.args)} -> {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _module(*args: str) -> list[str]:
    return [sys.executable, "-m", "allocator.cli", *args]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("cli")
    bad = tmp / "bad.toml"
    bad.write_text(BAD_PROBLEM, encoding="utf-8")
    console = tmp / "console"
    console.mkdir()
    shutil.copy(PROBLEMS / "desk.toml", console / "desk.toml")
    desk = str(PROBLEMS / "desk.toml")

    # name: (command, working directory, result path)
    commands: dict[str, tuple[list[str], Path, Path | None]] = {
        "desk": (_module("optimize", "fixtures/problems/desk.toml", "-o", str(tmp / "result.json")), ROOT,
                 tmp / "result.json"),
        "infeasible": (_module("optimize", str(PROBLEMS / "infeasible.toml"), "-o", str(tmp / "infeasible.json")),
                       tmp, tmp / "infeasible.json"),
        "swap": (_module("optimize", str(PROBLEMS / "swap.toml"), "-o", str(tmp / "swap.json")), tmp,
                 tmp / "swap.json"),
        "bad": (_module("optimize", str(bad), "-o", str(tmp / "bad.json")), tmp, tmp / "bad.json"),
        "missing": (_module("optimize", str(tmp / "no-such-problem.toml"), "-o", str(tmp / "missing.json")), tmp,
                    tmp / "missing.json"),
        "clarabel": (_module("optimize", desk, "--solver", "CLARABEL", "-o", str(tmp / "clarabel.json")), tmp,
                     tmp / "clarabel.json"),
        "nope": (_module("optimize", desk, "--solver", "NOPE", "-o", str(tmp / "nope.json")), tmp,
                 tmp / "nope.json"),
        "no-output-dir": (_module("optimize", desk, "-o", str(tmp / "no-such-dir" / "result.json")), tmp,
                          tmp / "no-such-dir" / "result.json"),
        "help": (_module("--help"), tmp, None),
    }
    if CONSOLE_SCRIPT.is_file():  # default output: PROBLEM with .result.json
        commands["console"] = ([str(CONSOLE_SCRIPT), "optimize", "desk.toml", "--quiet"], console,
                               console / "desk.result.json")

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    started = {name: subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
               for name, (command, cwd, _) in commands.items()}
    finished = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        command, _, output = commands[name]
        finished[name] = Run(tuple(command[1:]), process.returncode, stdout, stderr, output)
    return finished


def _no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _finished(run: Run, code: int, status: str) -> allocator.Result:
    """Exit ``code``, a result file of ``status``, no traceback: the result, for the test's own checks."""
    assert run.returncode == code, run
    _no_traceback(run)
    result = run.result()
    assert result.status == status
    return result


def test_optimize_desk_prints_a_summary_and_writes_the_result(runs):
    run = runs["desk"]
    result = _finished(run, 0, "optimal")
    desk = allocator.load_problem(PROBLEMS / "desk.toml")
    for account in desk.account_ids:
        assert account in run.stdout, (account, run)
    assert "plan" in run.stdout
    assert "status: optimal" in run.stdout
    assert run.stdout.strip().splitlines()[-1] == (  # the outcome line closes the summary
        f"optimal: capital cost {result.objective.total:,.2f} USD, {len(result.plan)} transfers in a safe order; "
        f"result written to {run.output}")
    assert result.plan_safe and result.plan
    assert [row.id for row in result.accounts] == desk.account_ids
    assert allocator.validate_plan(desk, result) == []


def test_infeasible_problem_exits_3_with_the_shortfall(runs):
    run = runs["infeasible"]
    result = _finished(run, 3, "infeasible")
    assert result.plan == [] and result.objective is None
    shortfalls = {row.account: row.amount for row in result.shortfalls}
    assert list(shortfalls) == ["lender"]
    assert shortfalls["lender"] == pytest.approx(1_250_000.0, rel=1e-6)
    assert "lender" in run.stderr and "infeasible" in run.stderr
    assert f"diagnosis written to {run.output}" in run.stdout


def test_plan_needing_temporary_funding_exits_4(runs):
    run = runs["swap"]
    result = _finished(run, 4, "optimal")
    assert result.plan_safe is False
    assert result.funding, "a plan that is not safe must say what funding it needs"
    assert any(step.needs_funding for step in result.plan)
    assert "funding" in run.stderr


def test_bad_problem_exits_2_with_one_line_per_error(runs):
    run = runs["bad"]
    assert run.returncode == 2, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == len(BAD_PROBLEM_LOCATIONS), run
    for location in BAD_PROBLEM_LOCATIONS:
        assert sum(location in line for line in lines) == 1, (location, lines)
    assert any("1.2 is not in [0, 1)" in line for line in lines), lines
    assert not run.output.exists(), "no result may be written for bad input"
    _no_traceback(run)


def _failed_cleanly(run, code: int, mentions: str) -> None:  # type: ignore[no-untyped-def]
    """Exit ``code``, one line on stderr naming ``mentions``, no result file, no traceback."""
    assert run.returncode == code, run
    assert mentions in _one_line(run.stderr)
    assert not run.output.exists()
    _no_traceback(run)


def test_missing_problem_file_exits_2(runs):
    _failed_cleanly(runs["missing"], 2, "no-such-problem.toml")


def test_clarabel_gives_the_same_objective_as_highs(runs):
    highs, clarabel = runs["desk"], runs["clarabel"]
    assert clarabel.returncode == 0, clarabel
    assert "CLARABEL" in clarabel.stdout
    first, second = highs.result(), clarabel.result()
    assert first.diagnostics.solver == "HIGHS" and second.diagnostics.solver == "CLARABEL"
    assert second.objective.total == pytest.approx(first.objective.total, rel=1e-5)


def test_unknown_solver_is_a_usage_error(runs):
    """An unknown --solver is a usage error (exit 2, click's message naming the option), before any solve."""
    run = runs["nope"]
    assert run.returncode == 2, run
    assert "Invalid value for '--solver': 'NOPE' is not an installed solver" in run.stderr
    assert not run.output.exists()
    _no_traceback(run)


def test_unwritable_output_path_is_a_one_line_usage_error(runs):
    run = runs["no-output-dir"]
    _no_traceback(run)
    assert run.returncode == 2, run
    assert "no-such-dir" in _one_line(run.stderr)


def test_help(runs):
    run = runs["help"]
    assert run.returncode == 0, run
    assert run.stdout.startswith("Usage:") and "optimize" in run.stdout
    _no_traceback(run)


def test_console_script_runs_with_the_default_output(runs):
    assert CONSOLE_SCRIPT.is_file() and os.access(CONSOLE_SCRIPT, os.X_OK), CONSOLE_SCRIPT
    run = runs["console"]
    assert run.returncode == 0, run
    outcome = _one_line(run.stdout)  # --quiet: the outcome line only, and it says what happened
    result = run.result()
    assert outcome == (f"optimal: capital cost {result.objective.total:,.2f} USD, {len(result.plan)} transfers in a "
                       f"safe order; result written to {run.output.name}")
    assert result.status == "optimal"
    assert json.loads(run.output.read_text(encoding="utf-8"))["objective"]["total"] == pytest.approx(
        runs["desk"].result().objective.total, rel=1e-9)
