"""The output convention of docs/cli.md, in process on the desk: -o/--output by extension, '-' for standard output,
--json with nothing else on standard output, the hidden --out alias, tables of one number format per column that
fit 80 columns, --wide, and the outcome line even with --quiet."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import PROBLEMS, ROOT

import allocator
from allocator.cli import main

DESK = str(PROBLEMS / "desk.toml")
STRESS = str(ROOT / "fixtures" / "scenarios" / "desk-stress.toml")
MONEY = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}$")
RATIO = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}%$")
PRICE = re.compile(r"^\d+\.\d{4}%$")
QUANTITY = re.compile(r"^\d{1,3}(,\d{3})*\.\d{4}$")


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    run = CliRunner().invoke(main, list(args), env={"COLUMNS": "80", **(env or {})})
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    return run


@pytest.fixture(scope="module")
def desk_run(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("desk") / "desk.json"
    return invoke("optimize", DESK, "-o", str(out)), out


def _table(stdout: str, title: str) -> list[list[str]]:
    """The rows of the table under ``title`` (split on runs of 2+ spaces is not safe: split on one space after
    the id), as lists of cells."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 3:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_the_result_goes_where_o_says_and_the_outcome_line_closes_the_output(desk_run):
    run, out = desk_run
    assert run.exit_code == 0, run.output
    result = allocator.Result.from_json(out.read_text(encoding="utf-8"))
    last = run.stdout.strip().splitlines()[-1]
    assert last == (f"optimal: capital cost {result.objective.total:,.2f} USD, {len(result.plan)} transfers in a "
                    f"safe order; result written to {out}")


def test_one_number_format_per_column_and_80_columns(desk_run):
    run, out = desk_run
    result = allocator.Result.from_json(out.read_text(encoding="utf-8"))
    assert max(len(line) for line in run.stdout.splitlines() if not line.startswith("optimal:")) <= 80
    accounts = _table(run.stdout, "accounts")
    assert [row[0] for row in accounts] == [a.id for a in result.accounts]
    for row in accounts:  # account | required | collateral | coverage | excess | shadow price
        assert all(MONEY.match(cell) for cell in (row[1], row[2], row[4])), row
        assert RATIO.match(row[3]) and PRICE.match(row[5]), row
    by_id = {row[0]: row for row in accounts}
    for account in result.accounts:  # the same figures as the result, rounded for reading
        assert by_id[account.id][1] == f"{account.required:,.2f}"
        assert by_id[account.id][5] == f"{account.shadow_price:.4%}"
    plan = _table(run.stdout, "plan:")
    assert len(plan) == len(result.plan)
    for row in plan:  # step | asset | from | to | quantity | value | cost
        assert QUANTITY.match(row[4]) and MONEY.match(row[5]) and MONEY.match(row[6]), row
    assert "e-0" not in run.stdout and "e+0" not in run.stdout  # no scientific notation anywhere


def test_wide_adds_the_other_columns(tmp_path):
    narrow = invoke("optimize", DESK, "-o", str(tmp_path / "r.json"))
    wide = invoke("optimize", DESK, "-o", str(tmp_path / "r.json"), "--wide")
    header = next(line for line in wide.stdout.splitlines() if line.startswith("account "))
    assert "requirement" in header and "today" in header and "P&L" in header
    assert "requirement" not in next(line for line in narrow.stdout.splitlines() if line.startswith("account "))


def test_quiet_prints_the_outcome_line_only(tmp_path):
    run = invoke("optimize", DESK, "-o", str(tmp_path / "r.json"), "--quiet")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("optimal: capital cost "), lines
    infeasible = invoke("optimize", str(PROBLEMS / "infeasible.toml"), "-o", str(tmp_path / "i.json"), "--quiet")
    assert infeasible.exit_code == 3
    assert infeasible.stdout.splitlines() == [
        f"infeasible: lender short by 1,250,000.00 USD; diagnosis written to {tmp_path / 'i.json'}"]


def test_dash_writes_the_result_to_stdout_and_no_file_named_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = invoke("optimize", DESK, "-o", "-")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["status"] == "optimal"  # standard output is exactly one JSON document
    assert not (tmp_path / "-").exists() and list(tmp_path.iterdir()) == []
    assert "optimal: capital cost" in run.stderr and "result on standard output" in run.stderr


def test_json_prints_only_json_on_stdout(tmp_path):
    run = invoke("optimize", DESK, "--json", "-o", str(tmp_path / "r.json"))
    assert run.exit_code == 0
    assert json.loads(run.stdout) == json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) | {
        "diagnostics": json.loads(run.stdout)["diagnostics"]}
    assert "result written to" in run.stderr
    infeasible = invoke("optimize", str(PROBLEMS / "infeasible.toml"), "--json")
    assert infeasible.exit_code == 3
    assert json.loads(infeasible.stdout)["status"] == "infeasible"
    assert "lender" in infeasible.stderr


def test_json_and_dash_together_and_unknown_extensions_are_usage_errors(tmp_path):
    both = invoke("optimize", DESK, "-o", "-", "--json")
    assert both.exit_code == 2 and "both write to standard output" in both.stderr
    csv = invoke("optimize", DESK, "-o", str(tmp_path / "r.csv"))
    assert csv.exit_code == 2 and "does not end in .json" in csv.stderr
    assert not (tmp_path / "r.csv").exists()


def test_the_old_out_spelling_still_works_with_a_warning(tmp_path):
    run = invoke("example", "swap", "--out", str(tmp_path / "swap.toml"))
    assert run.exit_code == 0, run.output
    assert (tmp_path / "swap.toml").read_text(encoding="utf-8") == (PROBLEMS / "swap.toml").read_text("utf-8")
    assert "warning: --out is deprecated: use -o/--output" in run.stderr
    assert not re.search(r"--out\b", invoke("transition", "--help").stdout)  # hidden
    both = invoke("example", "swap", "--out", "a.toml", "-o", "b.toml")
    assert both.exit_code == 2


@pytest.mark.parametrize("suffix", ["csv", "parquet", "json"])
def test_a_table_in_each_format_by_extension(tmp_path, suffix):
    out = tmp_path / f"w.{suffix}"
    run = invoke("whatif", DESK, STRESS, "-o", str(out))
    assert run.exit_code == 0, run.output
    frame = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}[suffix](out)
    assert list(frame["scenario"])[:2] == ["base", "black-thursday-2020-03-12"]
    assert (frame["status"] == "optimal").all()
    assert run.stdout.strip() == f"6 scenarios: 6 optimal; written to {out}"


def test_a_table_on_stdout_as_csv_or_json():
    csv = invoke("whatif", DESK, STRESS, "-o", "-")
    assert csv.exit_code == 0
    assert list(pd.read_csv(io.StringIO(csv.stdout))["scenario"])[0] == "base"
    assert "6 scenarios" in csv.stderr and "6 scenarios" not in csv.stdout
    rows = json.loads(invoke("whatif", DESK, STRESS, "--json").stdout)
    assert rows[0]["scenario"] == "base" and rows[0]["objective"] > 0
    missing = invoke("whatif", DESK, STRESS)
    assert missing.exit_code == 2 and "give -o PATH" in missing.stderr


def test_example_as_json_is_a_valid_problem(tmp_path):
    out = tmp_path / "desk.json"
    assert invoke("example", "desk", "-o", str(out)).exit_code == 0
    assert allocator.load_problem(out) == allocator.load_example("desk")
    fund = tmp_path / "fund.json"  # its price histories are named by absolute paths: the file works anywhere
    assert invoke("example", "fund", "-o", str(fund)).exit_code == 0
    market, shipped = allocator.load_problem(fund).market, allocator.load_example("fund").market
    assert market is not None and shipped is not None and market.history is not None and shipped.history
    assert {a: Path(p).resolve() for a, p in market.history.items()} == {
        a: Path(p).resolve() for a, p in shipped.history.items()}
    listing = json.loads(invoke("example", "--json").stdout)
    assert [row["name"] for row in listing] == list(allocator.example_names())


def test_the_names_the_old_cli_module_offered_still_resolve(tmp_path):
    """Command modules written against the single-module cli.py (``from allocator.cli import _fail_input, _write,
    summary``) fold into the package unchanged for one release (allocator/cli/compat.py)."""
    from allocator.cli import _fail_input, _fail_solver, _write, _write_table, summary  # noqa: F401

    result = allocator.optimize(allocator.load_problem(DESK))
    _write(tmp_path / "r.json", result)
    assert allocator.Result.from_json((tmp_path / "r.json").read_text(encoding="utf-8")).plan == result.plan
    _write_table(tmp_path / "a.csv", result.accounts_frame.reset_index())
    assert list(pd.read_csv(tmp_path / "a.csv")["id"]) == [a.id for a in result.accounts]
    text = summary(result)
    assert text.startswith("status: optimal") and "cex-perps" in text and "0.0202%" in text
    with pytest.raises(AttributeError):
        import allocator.cli as cli

        cli.no_such_name  # noqa: B018


def test_a_long_plan_shows_its_first_steps_and_counts_the_rest(tmp_path):
    """A plan of more than MAX_ROWS transfers: the first MAX_ROWS rows and a line counting the rest, every row with
    --wide; the result file has them all either way."""
    from allocator.cli.tables import MAX_ROWS
    from allocator.io.generate import generate_problem

    path = tmp_path / "book.json"
    path.write_text(generate_problem(60, 2, 8, seed=1, topology="hub").model_dump_json(by_alias=True))
    short = invoke("optimize", str(path), "-o", str(tmp_path / "short.json"))
    steps = len(allocator.Result.from_json((tmp_path / "short.json").read_text()).plan)
    assert steps > MAX_ROWS
    title = next(line for line in short.stdout.splitlines() if line.startswith("plan:"))

    def numbered(stdout: str) -> list[int]:  # the step numbers of the plan table's rows
        return [int(row[0]) for row in _table(stdout, title) if row[0].isdigit()]

    assert numbered(short.stdout) == list(range(1, MAX_ROWS + 1))
    assert f"... and {steps - MAX_ROWS:,} more transfers (--wide shows every one; all in the result)" in short.stdout
    wide = invoke("optimize", str(path), "--wide", "-o", str(tmp_path / "wide.json"))
    assert numbered(wide.stdout) == list(range(1, steps + 1)) and "more transfers" not in wide.stdout
