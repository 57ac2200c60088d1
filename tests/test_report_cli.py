"""``allocator report``: a result or a transition result read off its fields, what-if tables added, ``-o -`` to
standard output, the default output path, and bad input as one line per error with exit 2. The commands run in
this process through click's test runner (a subprocess spends seconds importing); one real run of the installed
console script checks the command is registered."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_cases import items, solve

from allocator.cli import main
from allocator.report import MAX_BYTES

CONSOLE_SCRIPT = Path(sys.executable).parent / "allocator"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    output: Path | None
    cwd: Path

    def __str__(self) -> str:
        return f"-> {self.returncode}\n--- stdout\n{self.stdout[:2000]}\n--- stderr\n{self.stderr}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("report-cli")
    (tmp / "desk.result.json").write_text(solve("desk.toml").to_json(), encoding="utf-8")
    (tmp / "derisk.transition.json").write_text(items("derisk-transition")[0].to_json(), encoding="utf-8")
    (tmp / "infeasible.result.json").write_text(solve("infeasible.toml").to_json(), encoding="utf-8")
    _, table, curve = items("desk-whatif")
    table.frame.to_parquet(tmp / "whatif.parquet")
    curve.frame.to_csv(tmp / "frontier.csv", index=False)
    (tmp / "broken.json").write_text('{"status": "optimal", "currency": 7}', encoding="utf-8")
    (tmp / "table.txt").write_text("scenario,status\n", encoding="utf-8")
    module = ["report"]
    commands: dict[str, tuple[list[str], Path | None]] = {
        "desk": ([*module, "desk.result.json", "-o", "desk.html"], tmp / "desk.html"),
        "default": ([*module, "derisk.transition.json"], tmp / "derisk.transition.html"),
        "infeasible": ([*module, "infeasible.result.json", "-o", "infeasible.html"], tmp / "infeasible.html"),
        "tables": ([*module, "desk.result.json", "--whatif", "whatif.parquet", "--whatif", "frontier.csv",
                    "--title", "Desk, 24 November", "-o", "tables.html"], tmp / "tables.html"),
        "stdout": ([*module, "desk.result.json", "-o", "-"], None),
        "broken": ([*module, "broken.json", "-o", "broken.html"], tmp / "broken.html"),
        "not-json": ([*module, "whatif.parquet", "-o", "not-json.html"], tmp / "not-json.html"),
        "bad-table": ([*module, "desk.result.json", "--whatif", "table.txt", "-o", "bad-table.html"],
                      tmp / "bad-table.html"),
        "no-dir": ([*module, "desk.result.json", "-o", str(tmp / "nowhere" / "r.html")], tmp / "nowhere" / "r.html"),
    }
    finished = {}
    here = Path.cwd()
    try:
        os.chdir(tmp)
        for name, (args, output) in commands.items():
            outcome = CliRunner().invoke(main, args)
            finished[name] = Run(outcome.exit_code, outcome.stdout, outcome.stderr, output, tmp)
    finally:
        os.chdir(here)
    if CONSOLE_SCRIPT.is_file():
        process = subprocess.run([str(CONSOLE_SCRIPT), "report", "desk.result.json", "-o", "console.html"], cwd=tmp,
                                 capture_output=True, text=True, timeout=300,
                                 env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        finished["console"] = Run(process.returncode, process.stdout, process.stderr, tmp / "console.html", tmp)
    return finished


def _written(run: Run) -> str:
    assert run.returncode == 0, run
    assert run.output is not None and run.output.is_file(), run
    assert run.stdout.startswith(f"report written to {run.output.name} (") or \
        run.stdout.startswith(f"report written to {run.output} ("), run
    html = run.output.read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < MAX_BYTES
    return html


def test_report_of_a_result(runs):
    html = _written(runs["desk"])
    assert "<title>allocator report: single-period allocation</title>" in html
    assert '<section id="plan"><h2>Plan</h2>' in html


def test_a_transition_result_is_recognised_and_written_beside_it_by_default(runs):
    html = _written(runs["default"])
    assert "<title>allocator report: transition</title>" in html
    assert "<h2>Schedule</h2>" in html


def test_an_infeasible_result_reports_its_diagnosis(runs):
    assert "<h2>Why no allocation exists</h2>" in _written(runs["infeasible"])


def test_what_if_and_frontier_tables_are_added(runs):
    html = _written(runs["tables"])
    assert "<title>Desk, 24 November</title>" in html
    assert "What-if (whatif.parquet): Cost" in html and "Frontier (frontier.csv): Cost" in html


def test_dash_writes_the_page_to_standard_output(runs):
    run = runs["stdout"]
    assert run.returncode == 0, run
    assert run.stdout.startswith("<!DOCTYPE html>") and run.stdout.rstrip().endswith("</html>")
    assert run.stderr == ""
    assert not (run.cwd / "-").exists()


@pytest.mark.parametrize(("name", "message"), [
    ("broken", "broken.json: currency: 7: input should be a valid string (read as a result)"),
    ("not-json", "whatif.parquet: is not UTF-8 text"),
    ("bad-table", "table.txt: unknown table type '.txt'; use .parquet or .csv"),
    ("no-dir", "cannot write the report to"),
])
def test_bad_input_is_one_line_per_error_and_exit_2(runs, name, message):
    run = runs[name]
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr and run.stdout == "", run
    lines = run.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), run
    assert any(message in line for line in lines), run
    assert run.output is not None and not run.output.exists()


def test_the_installed_console_script_writes_the_report(runs):
    if "console" not in runs:
        pytest.skip("no console script next to this Python (not installed with pip)")
    html = _written(runs["console"])
    assert "Traceback" not in runs["console"].stderr
    assert html == runs["desk"].output.read_text(encoding="utf-8")  # type: ignore[union-attr]
