"""The benchmark runner (tests/benchmarks/run.py): benchmarks are scripts pytest never collects, every command in
docs/performance.md names a case that exists, and a run records figures, wall time, peak memory and the machine."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys

import pytest
from helpers import ROOT

RUNNER = ROOT / "tests" / "benchmarks" / "run.py"


def runner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUNNER), *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_pytest_collects_nothing_from_the_benchmarks():
    """pytest collects test_*.py and *_test.py files (pyproject sets no other pattern): the benchmarks are neither."""
    names = [path.name for path in (ROOT / "tests" / "benchmarks").glob("*.py")]
    assert names and not [n for n in names if n.startswith("test_") or n.endswith("_test.py")]
    assert "python_files" not in (ROOT / "pyproject.toml").read_text()


def test_every_command_in_performance_md_names_a_case():
    text = (ROOT / "docs" / "performance.md").read_text()
    selectors = {m.strip("'") for m in re.findall(r"run\.py ('[^']+'|[a-z_]+(?:\.[a-z_0-9]+)?)(?=[ `])", text)}
    selectors -= {"--list"}
    assert {"core", "risk", "transition", "whatif", "core.generated_hub_and_spoke[500x40]",
            "transition.milp_max_moves_on_derisk[40-100000]", "whatif.scenario_batch[10000]"} <= selectors
    listed = runner("--list", *sorted(selectors))
    assert listed.returncode == 0, listed.stderr
    ids = {line.split()[0] for line in listed.stdout.splitlines()}
    assert {s for s in selectors if "[" in s} <= ids


def test_an_unknown_case_is_a_usage_error():
    run = runner("core.no_such_case", "nowhere")
    assert run.returncode == 2
    assert "core.no_such_case, nowhere" in run.stderr and run.stdout == ""


@pytest.mark.slow  # a real case in a fresh process: about 20 s on a busy machine
def test_a_case_records_its_figures_wall_time_peak_memory_and_machine(tmp_path):
    record = tmp_path / "run.jsonl"
    run = runner("core.solver_comparison[desk-HIGHS]", "--record", str(record))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and record.read_text().splitlines() == lines
    line = json.loads(lines[0])
    assert line["case"] == "core.solver_comparison[desk-HIGHS]" and line["status"] == "ok"
    assert line["figures"]["solver"] == "HIGHS" and line["figures"]["gap_vs_reference"] < 1e-6
    assert line["wall_s"] > 0
    assert 50 < line["peak_mb"] < 10_000  # MB: a process that imported cvxpy and solved, not KB or bytes
    assert line["python"] == platform.python_version() and line["cpus"] == os.cpu_count()
    assert line["versions"]["cvxpy"] and line["date"]
