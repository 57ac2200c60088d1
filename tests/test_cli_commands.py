"""The commands that solve nothing: ``validate`` (every located error at once, exit 2; 'valid' otherwise),
``schema`` (the JSON Schema of each file kind, which every shipped file satisfies and a wrong one does not) and
``rulebooks`` (venue, parameters' as-of date and review date of every rulebook, as its file says)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from helpers import BAD_PROBLEM, PROBLEMS, ROOT

import allocator
from allocator.cli import main
from allocator.cli.schemas import KINDS, schema
from allocator.venues.rulebooks.loader import NOT_RULEBOOKS

#: The venue rulebooks among the reviewed data files of models/ (the stress episodes are not one).
RULEBOOK_FILES = sorted(p for p in (ROOT / "models").glob("*.toml") if p.stem not in NOT_RULEBOOKS)



def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    run = CliRunner().invoke(main, list(args), env=env)
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    return run


def test_validate_a_valid_problem():
    run = invoke("validate", str(PROBLEMS / "desk.toml"))
    assert run.exit_code == 0
    assert run.stdout == f"valid: {PROBLEMS / 'desk.toml'} (8 assets, 4 accounts, 23 holdings)\n"
    verdict = json.loads(invoke("validate", str(PROBLEMS / "desk.toml"), "--json").stdout)
    assert verdict == {"valid": True, "problem": str(PROBLEMS / "desk.toml"), "issues": []}


def test_validate_reports_every_located_error_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD_PROBLEM, encoding="utf-8")
    run = invoke("validate", str(path))
    assert run.exit_code == 2 and run.stdout == ""
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert sorted(e.split(":")[1].strip() for e in errors) == ["accounts[0].bufer", "accounts[0].haircuts.USDC"]
    assert any("1.2 is not in [0, 1)" in e for e in errors)
    assert run.stderr.splitlines()[-1] == f"invalid: {path}: 2 issues"
    verdict = json.loads(invoke("validate", str(path), "--json").stdout)
    assert verdict["valid"] is False
    assert sorted(i["location"] for i in verdict["issues"]) == ["accounts[0].bufer", "accounts[0].haircuts.USDC"]


def test_validate_a_missing_file_is_located(tmp_path):
    run = invoke("validate", str(tmp_path / "none.toml"))
    assert run.exit_code == 2 and "none.toml" in run.stderr


def _plain(value: object) -> object:
    return json.loads(json.dumps(value, default=str))  # TOML dates as the ISO strings JSON files hold


SHIPPED = {"problem": sorted(PROBLEMS.glob("*.toml")) + [PROBLEMS / "desk.json"],
           "scenario": sorted((ROOT / "fixtures" / "scenarios").glob("*.toml")),
           "batch": sorted((ROOT / "fixtures" / "batch").glob("*.toml")),
           "rulebook": RULEBOOK_FILES}


@pytest.mark.parametrize("kind", KINDS)
def test_every_shipped_file_satisfies_its_schema(kind):
    run = invoke("schema", kind)
    assert run.exit_code == 0
    printed = json.loads(run.stdout)
    assert printed == schema(kind) and printed["title"].startswith("allocator ")
    jsonschema.Draft202012Validator.check_schema(printed)
    validator = jsonschema.Draft202012Validator(printed)
    assert SHIPPED[kind]
    for path in SHIPPED[kind]:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else _plain(tomllib.loads(text))
        assert [e.message for e in validator.iter_errors(data)] == [], path


def test_the_problem_schema_refuses_what_the_models_refuse():
    validator = jsonschema.Draft202012Validator(schema("problem"))
    data = _plain(tomllib.loads(BAD_PROBLEM))
    messages = " ".join(e.message for e in validator.iter_errors(data))
    assert "bufer" in messages  # unknown fields are refused (extra="forbid")
    assert set(schema("problem")["properties"]) == {
        field.alias or name for name, field in allocator.Problem.model_fields.items()}


def test_schema_to_a_file_and_an_unknown_kind(tmp_path):
    out = tmp_path / "problem.schema.json"
    run = invoke("schema", "-o", str(out))
    assert run.exit_code == 0 and run.stdout == f"problem schema written to {out}\n"
    assert json.loads(out.read_text(encoding="utf-8")) == schema("problem")
    unknown = invoke("schema", "portfolio")
    assert unknown.exit_code == 2 and "'portfolio' is not one of" in unknown.stderr


def test_rulebooks_lists_each_with_its_venue_and_dates():
    run = invoke("rulebooks", "--json")
    assert run.exit_code == 0
    listed = {row["name"]: row for row in json.loads(run.stdout)}
    files = RULEBOOK_FILES
    assert sorted(listed) == sorted(allocator.available_rulebooks()) == [f.stem for f in files]
    for path in files:
        header = tomllib.loads(path.read_text(encoding="utf-8"))
        row = listed[path.stem]
        assert (row["venue"], row["kind"]) == (header["venue"], header["kind"])
        assert row["parameters_as_of"] == header["parameters_as_of"].isoformat()
        assert row["reviewed"] == header["reviewed"].isoformat()
    table = invoke("rulebooks", env={"COLUMNS": "100"})
    assert table.exit_code == 0 and table.stdout.splitlines()[-1] == f"{len(files)} rulebooks"
    assert "aave-v3-ethereum" in table.stdout and "2023-10-31" in table.stdout and "2026-11-24" in table.stdout


def test_rulebooks_reports_an_invalid_file_and_lists_the_rest(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "broken.toml").write_text('name = "broken"\nkind = "aave-v3"\n', encoding="utf-8")
    run = invoke("rulebooks", "-o", str(tmp_path / "books.csv"), env={"ALLOCATOR_RULEBOOKS": str(folder)})
    assert run.exit_code == 2
    assert "error: " in run.stderr and "broken.toml" in run.stderr
    assert len(Path(tmp_path / "books.csv").read_text(encoding="utf-8").splitlines()) == 1 + len(RULEBOOK_FILES)


@pytest.mark.parametrize("args, said", [
    (["rebalance", "{desk}", "--band", "2:1"], "Invalid value for '--band': low 2.0"),
    (["optimize", "{desk}", "-o", "out.txt"], "'out.txt' does not end in .json"),
    (["optimize"], "Missing argument 'PROBLEM'"),
    (["optimize", "{desk}", "--solver", "NOPE"], "'NOPE' is not an installed solver"),
    (["nope"], "No such command 'nope'"),
])
def test_a_usage_error_is_one_error_line(args, said):
    # docs/cli.md: errors are one `error:` line per issue, exit 2; not click's usage block
    run = invoke(*(a.format(desk=PROBLEMS / "desk.toml") for a in args))
    assert run.exit_code == 2 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], run.stderr
    assert "--help' lists what is allowed" in lines[0]


def test_no_command_still_prints_the_help():
    run = invoke()
    assert run.exit_code == 2 and "Commands:" in run.stderr and "optimize" in run.stderr
