"""Hostile files and options (issue 11, item 9): every file and option a user gives through ``optimize``, ``whatif``,
``transition`` and ``batch`` is validated; any decode, depth or type fault is a located InputError (the CLI: exit 2,
one ``error:`` line per issue, or click's usage error for an option), never a traceback and never silently accepted.

The library readers are checked directly; the commands through click's test runner (the real command code, in
this process: no cvxpy import per case). Each class below was a traceback or a silent acceptance before.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocator
from allocator.batch.spec import load_spec, read_scenarios
from allocator.cli import main
from allocator.venues.rulebooks import load_rulebook

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "fixtures" / "problems"
DESK_TOML = (PROBLEMS / "desk.toml").read_text(encoding="utf-8")
DESK_JSON = (PROBLEMS / "desk.json").read_text(encoding="utf-8")
STRESS = ROOT / "fixtures" / "scenarios" / "desk-stress.toml"
DEEP = 10_000


def codes(error: allocator.InputError) -> list[tuple[str, str]]:
    return [(issue.location, issue.code) for issue in error.issues]


def rejected(read: Callable[[Path], object], path: Path) -> allocator.InputError:
    with pytest.raises(allocator.InputError) as caught:
        read(path)
    return caught.value


# ---------------------------------------------------------------------------------------------------------------
# the bytes of a file: binary, UTF-16, nested 10,000 deep, a JSON key given twice
# ---------------------------------------------------------------------------------------------------------------

FILE_BYTES: dict[str, tuple[str, bytes, str]] = {  # name: (suffix, content, code)
    "binary": (".toml", bytes(range(256)) * 8, "encoding"),
    "binary-json": (".json", b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)), "encoding"),
    "utf16-bom-toml": (".toml", DESK_TOML.encode("utf-16"), "encoding"),
    "utf16-bom-json": (".json", DESK_JSON.encode("utf-16"), "encoding"),
    "utf16le-no-bom": (".toml", DESK_TOML.encode("utf-16-le"), "encoding"),
    "json-arrays-10000-deep": (".json", ("[" * DEEP + "]" * DEEP).encode(), "too_deep"),
    "json-objects-10000-deep": (".json", ('{"a": ' * DEEP + "1" + "}" * DEEP).encode(), "too_deep"),
    "toml-arrays-10000-deep": (".toml", ("assets = " + "[" * DEEP + "]" * DEEP).encode(), "too_deep"),
    "toml-tables-10000-deep": (".toml", ("x = " + "{ a = " * DEEP + "1" + " }" * DEEP).encode(), "too_deep"),
    "toml-dotted-keys-10000-deep": (".toml", ("a" + ".a" * DEEP + " = 1").encode(), "too_deep"),
    "not-toml": (".toml", b"[[assets]\nid = ", "syntax"),
}


@pytest.mark.parametrize("name", FILE_BYTES)
def test_a_problem_file_of_hostile_bytes_is_an_input_error(tmp_path, name):
    suffix, content, code = FILE_BYTES[name]
    path = tmp_path / f"{name}{suffix}"
    path.write_bytes(content)
    error = rejected(allocator.load_problem, path)
    assert codes(error) == [(str(path), code)], codes(error)
    if code == "encoding" and name.startswith("utf16"):
        assert "UTF-16" in str(error) and "save the problem file as UTF-8" in str(error)


@pytest.mark.parametrize("name", ["binary", "utf16-bom-toml", "toml-arrays-10000-deep"])
def test_a_scenario_file_spec_or_rulebook_of_hostile_bytes_is_an_input_error(tmp_path, name):
    suffix, content, code = FILE_BYTES[name]
    path = tmp_path / f"hostile{suffix}"
    path.write_bytes(content)
    assert codes(rejected(read_scenarios, path)) == [(str(path), code)]
    assert codes(rejected(load_spec, path)) == [(str(path), code)]
    assert [issue.code for issue in rejected(load_rulebook, path).issues] == [code]


def test_a_utf8_byte_order_mark_is_allowed(tmp_path):
    path = tmp_path / "desk.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DESK_TOML.encode())
    assert allocator.load_problem(path).model_dump() == allocator.load_problem(PROBLEMS / "desk.toml").model_dump()


def test_a_duplicated_json_key_is_refused_where_it_is(tmp_path):
    """Was: ``"price": 3500, "price": 35`` solved with 35."""
    text = DESK_JSON.replace('"price": 95057.5390625', '"price": 95057.5390625, "price": 35', 1)
    assert text != DESK_JSON
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    error = rejected(allocator.load_problem, path)
    assert codes(error) == [("assets[0].price", "duplicate_key")]
    assert "'price' is given twice" in str(error)
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate_json(text)
    assert codes(caught.value) == [("assets[0].price", "duplicate_key")]
    nested = tmp_path / "scenarios.json"
    nested.write_text('{"scenarios": [{"id": "a", "shock": {"BTC": -0.1, "BTC": -0.9}}]}', encoding="utf-8")
    assert codes(rejected(read_scenarios, nested)) == [("scenarios[0].shock.BTC", "duplicate_key")]


def test_json_text_that_is_not_utf8_is_an_input_error():
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate_json(DESK_JSON.encode("utf-16"))
    assert [issue.code for issue in caught.value.issues] == ["encoding"]


def test_a_directory_given_as_a_file_is_an_input_error(tmp_path):
    folder = tmp_path / "problem.toml"
    folder.mkdir()
    assert codes(rejected(allocator.load_problem, folder)) == [(str(folder), "unreadable")]
    assert codes(rejected(read_scenarios, folder)) == [(str(folder), "unreadable")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("name", ["problem.toml", "scenarios.csv"])
def test_a_fifo_given_as_a_file_is_refused_not_waited_on(tmp_path, name):
    """A FIFO without a writer would block the reader for ever (a device like /dev/zero would never end)."""
    fifo = tmp_path / name
    os.mkfifo(fifo)
    read = allocator.load_problem if name.endswith(".toml") else read_scenarios
    assert codes(rejected(read, fifo)) == [(str(fifo), "unreadable")]


def test_a_file_beyond_the_size_limit_is_refused(tmp_path, monkeypatch):
    import allocator.io.documents

    path = tmp_path / "desk.toml"
    path.write_text(DESK_TOML, encoding="utf-8")
    monkeypatch.setattr(allocator.io.documents, "MAX_BYTES", len(DESK_TOML.encode()) - 1)  # the limit, not the reader
    assert codes(rejected(allocator.load_problem, path)) == [(str(path), "too_large")]


# ---------------------------------------------------------------------------------------------------------------
# what-if files: every scenario is a table of well-typed changes
# ---------------------------------------------------------------------------------------------------------------

SCENARIO_FILES = {
    "scenario-not-a-table": ("s.toml", "scenarios = [1, 2]\n", [("scenarios[0]", "not_a_table"),
                                                                 ("scenarios[1]", "not_a_table")]),
    "scenario-id-not-a-string": ("s.toml", "[[scenarios]]\nid = 5\nshock = { BTC = -0.1 }\n",
                                 [("scenarios[0].id", "not_a_string")]),
    "scenario-field-not-a-table": ("s.toml", "[[scenarios]]\nid = 'a'\nshock = 3\n",
                                   [("scenarios[0].shock", "not_a_table")]),
    "scenario-id-twice": ("s.toml", "[[scenarios]]\nid = 'a'\n[[scenarios]]\nid = 'a'\nshock = { BTC = -0.1 }\n",
                          [("scenarios[1].id", "duplicate_id")]),
    "scenario-nan": ("s.toml", "[[scenarios]]\nid = 'a'\nshock = { BTC = nan }\n",
                     [("scenarios[0].shock.BTC", "not_finite")]),
    "no-scenarios": ("s.toml", "scenarios = []\n", [("{path}", "empty")]),
    "a-problem-file-as-scenarios": ("s.toml", DESK_TOML, [("{path}", "not_a_list")]),
    "unknown-top-level-field": ("s.json", '{"scenarios": [{"id": "a"}], "scenario": []}',
                                [("scenario", "unknown_field")]),
    "csv-text-in-a-number-column": ("s.csv", "id,shock.BTC\na,-0.1\nb,1_000\n",
                                    [("scenarios[1].shock.BTC", "not_a_number")]),
    "csv-value-and-table": ("s.csv", "id,shock,shock.BTC\na,1,-0.1\n",
                            [("scenarios[0].shock.BTC", "conflicting_fields")]),
    "csv-not-utf8": ("s.csv", b"id,shock.BTC\n\xff\xfe,-0.1\n", [("{path}", "syntax")]),
    "parquet-garbage": ("s.parquet", b"PAR1 not parquet at all", [("{path}", "syntax")]),
    "unknown-suffix": ("s.yaml", "scenarios: []\n", [("{path}", "unknown_format")]),
}


@pytest.mark.parametrize("name", SCENARIO_FILES)
def test_a_malformed_scenario_file_is_located(tmp_path, name):
    file_name, content, expected = SCENARIO_FILES[name]
    path = tmp_path / file_name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    found = codes(rejected(read_scenarios, path))
    assert found == [(location.format(path=path), code) for location, code in expected], found


def test_what_if_rows_that_are_not_tables_are_input_errors(desk):
    from allocator.analysis.whatif import what_if

    with pytest.raises(allocator.InputError) as caught:
        what_if(desk, [1, {"shock": {"BTC": -0.1}}, "x"])
    assert codes(caught.value) == [("scenarios[0]", "not_a_table"), ("scenarios[2]", "not_a_table")]


def test_csv_numbers_are_read_as_numbers_and_ids_as_text(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,shock.BTC,haircut_shift.*\n007,-0.1,\n,-0.2,0.02\n", encoding="utf-8")
    assert read_scenarios(path) == [("007", {"shock.BTC": -0.1}), ("1", {"shock.BTC": -0.2, "haircut_shift.*": 0.02})]


# ---------------------------------------------------------------------------------------------------------------
# batch specs: strict types, every file they name validated and named
# ---------------------------------------------------------------------------------------------------------------

SPECS = {
    "jobs-not-a-list": ("jobs = 5\n", [("jobs", "not_a_list")]),
    "problem-not-a-string": ("[[jobs]]\nproblem = 42\n", [("jobs[0].problem", "not_a_string")]),
    "grid-value-not-a-list": ('[[jobs]]\nproblem = "{desk}"\n[jobs.grid]\n"shock.BTC" = -0.1\n',
                              [("jobs[0].grid.shock.BTC", "not_a_list")]),
    "grid-string-not-a-list": ('[[jobs]]\nproblem = "{desk}"\n[jobs.grid]\n"shock.BTC" = "-0.1"\n',
                               [("jobs[0].grid.shock.BTC", "not_a_list")]),
    "grid-empty-list": ('[[jobs]]\nproblem = "{desk}"\n[jobs.grid]\n"shock.BTC" = []\n',
                        [("jobs[0].grid.shock.BTC", "empty")]),
    "grid-field-misspelt": ('[[jobs]]\nproblem = "{desk}"\n[jobs.grid]\n"shok.BTC" = [-0.1]\n',
                            [("jobs[0].grid.shok.BTC[0]", "unknown_field")]),
    "grid-value-out-of-range": ('[[jobs]]\nproblem = "{desk}"\n[jobs.grid]\n"shock.BTC" = [-0.1, -2.0]\n',
                                [("jobs[0].grid.shock.BTC[1]", "out_of_range")]),
    "base-a-string": ('[[jobs]]\nproblem = "{desk}"\nbase = "no"\n', [("jobs[0].base", "bool_type")]),
    "chunk-size-a-boolean": ('chunk_size = true\n[[jobs]]\nproblem = "{desk}"\n', [("chunk_size", "int_type")]),
    "chunk-size-zero": ('chunk_size = 0\n[[jobs]]\nproblem = "{desk}"\n', [("chunk_size", "greater_than_equal")]),
    "no-jobs": ("chunk_size = 10\n", [("jobs", "missing_field")]),
    "unknown-field": ('[[jobs]]\nproblem = "{desk}"\nscenario = "x.toml"\n', [("jobs[0].scenario", "unknown_field")]),
    "grid-beyond-a-million": ('[[jobs]]\nproblem = "{desk}"\n[jobs.grid]\n' + "".join(
        f'"shock.{asset}" = [{", ".join(["-0.1"] * 20)}]\n' for asset in ("BTC", "ETH", "SOL", "USDC", "USDT")),
                              [("jobs[0].grid", "too_large")]),
    "scenarios-file-malformed": ('[[jobs]]\nproblem = "{desk}"\nscenarios = "{bad}"\n',
                                 [("{bad}: scenarios[0]", "not_a_table")]),
}


@pytest.mark.parametrize("name", SPECS)
def test_a_malformed_spec_is_located(tmp_path, name):
    text, expected = SPECS[name]
    bad = tmp_path / "bad-scenarios.toml"
    bad.write_text("scenarios = [1]\n", encoding="utf-8")
    spec = tmp_path / "spec.toml"
    spec.write_text(text.format(desk=PROBLEMS / "desk.toml", bad=bad), encoding="utf-8")
    found = codes(rejected(load_spec, spec))
    assert found == [(location.format(bad=bad), code) for location, code in expected], found


def test_base_must_be_a_boolean_and_true_and_false_work(tmp_path):
    spec = tmp_path / "spec.toml"
    for base, units in (("true", 3), ("false", 2)):
        spec.write_text(f'[[jobs]]\nproblem = "{PROBLEMS / "desk.toml"}"\nbase = {base}\n[jobs.grid]\n'
                        '"shock.BTC" = [-0.1, -0.2]\n', encoding="utf-8")
        assert len(load_spec(spec).units) == units


def test_a_spec_directory_names_each_bad_problem_file(tmp_path):
    """Was: the issues of one bad problem in a spec directory came without the file's name."""
    shutil.copy(PROBLEMS / "desk.toml", tmp_path / "a-good.toml")
    (tmp_path / "b-bad.toml").write_text(DESK_TOML.replace("SOL = 0.075", "SOL = 1.2"), encoding="utf-8")
    (tmp_path / "c-binary.json").write_bytes(bytes(range(256)))
    found = codes(rejected(load_spec, tmp_path))
    assert found == [(f"{tmp_path / 'b-bad.toml'}: accounts[0].haircuts.SOL", "out_of_range"),
                     (str(tmp_path / "c-binary.json"), "encoding")]


def test_two_jobs_on_one_bad_problem_report_it_once(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DESK_TOML.replace("SOL = 0.075", "SOL = 1.2"), encoding="utf-8")
    spec = tmp_path / "spec.toml"
    spec.write_text('[[jobs]]\nproblem = "bad.toml"\n[[jobs]]\nproblem = "bad.toml"\n[jobs.grid]\n'
                    '"shock.BTC" = [-0.1]\n', encoding="utf-8")
    assert codes(rejected(load_spec, spec)) == [(f"{bad}: accounts[0].haircuts.SOL", "out_of_range")]


def test_an_output_directory_whose_manifest_is_a_directory_is_an_input_error(tmp_path):
    from allocator.batch.runner import run_batch

    spec = tmp_path / "spec.toml"
    spec.write_text(f'[[jobs]]\nproblem = "{PROBLEMS / "desk.toml"}"\n', encoding="utf-8")
    (tmp_path / "out" / "manifest.parquet").mkdir(parents=True)
    with pytest.raises(allocator.InputError) as caught:
        run_batch(load_spec(spec), tmp_path / "out", workers=1)
    assert codes(caught.value) == [(str(tmp_path / "out"), "unwritable")]


def test_an_unwritable_output_directory_is_an_input_error(tmp_path):
    from allocator.batch.runner import run_batch

    spec = tmp_path / "spec.toml"
    spec.write_text(f'[[jobs]]\nproblem = "{PROBLEMS / "desk.toml"}"\n', encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(allocator.InputError) as caught:
        run_batch(load_spec(spec), blocker / "out", workers=1)
    assert codes(caught.value) == [(str(blocker / "out"), "unwritable")]
    with pytest.raises(allocator.InputError) as caught:
        run_batch(load_spec(spec), tmp_path / "out", workers=-2)
    assert codes(caught.value) == [("workers", "out_of_range")]


# ---------------------------------------------------------------------------------------------------------------
# the commands: options and files, exit 2 without a traceback
# ---------------------------------------------------------------------------------------------------------------

def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    made = {"binary": tmp / "binary.toml", "utf16": tmp / "utf16.json", "deep": tmp / "deep.json",
            "duplicate": tmp / "duplicate.json", "not-a-table": tmp / "not-a-table.toml",
            "spec-jobs": tmp / "spec-jobs.toml", "spec-base": tmp / "spec-base.toml", "blocker": tmp / "blocker",
            "spec-dir": tmp / "spec-dir", "old-name": tmp / "old-name.toml", "out": tmp / "out"}
    made["binary"].write_bytes(bytes(range(256)) * 4)
    made["utf16"].write_bytes(DESK_JSON.encode("utf-16"))
    made["deep"].write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    made["duplicate"].write_text(DESK_JSON.replace('"price": 95057.5390625', '"price": 95057.5390625, "price": 35',
                                                   1), encoding="utf-8")
    made["not-a-table"].write_text("scenarios = [1]\n", encoding="utf-8")
    made["spec-jobs"].write_text("jobs = 5\n", encoding="utf-8")
    made["spec-base"].write_text(f'[[jobs]]\nproblem = "{PROBLEMS / "desk.toml"}"\nbase = "no"\n', encoding="utf-8")
    made["blocker"].write_text("a file where the output directory should go", encoding="utf-8")
    made["spec-dir"].mkdir()
    (made["spec-dir"] / "bad.toml").write_text(DESK_TOML.replace("SOL = 0.075", "SOL = 1.2"), encoding="utf-8")
    made["old-name"].write_text((PROBLEMS / "perps-risk.toml").read_text(encoding="utf-8")
                                .replace("[[stress_scenarios]]", "[[scenarios]]"), encoding="utf-8")
    made["out"].mkdir()
    return made


DESK = str(PROBLEMS / "desk.toml")
COMMANDS: dict[str, tuple[Callable[[dict[str, Path]], list[str]], str]] = {  # name: (arguments, stderr mentions)
    "time-limit-negative": (lambda f: ["optimize", DESK, "--time-limit", "-1"], "'-1' is not a positive"),
    "time-limit-zero": (lambda f: ["optimize", DESK, "--time-limit", "0"], "'0' is not a positive"),
    "time-limit-nan": (lambda f: ["optimize", DESK, "--time-limit", "nan"], "'nan' is not a positive, finite"),
    "time-limit-inf": (lambda f: ["optimize", DESK, "--time-limit", "inf"], "'inf' is not a positive, finite"),
    "time-limit-text": (lambda f: ["optimize", DESK, "--time-limit", "soon"], "'soon' is not a number"),
    "transition-time-limit": (lambda f: ["transition", DESK, "--time-limit", "-1"], "--time-limit"),
    "unknown-solver": (lambda f: ["optimize", DESK, "--solver", "NOPE"], "'NOPE' is not an installed solver"),
    "unknown-fallback": (lambda f: ["optimize", DESK, "--fallback", "nope"], "'nope' is not an installed solver"),
    "whatif-unknown-solver": (lambda f: ["whatif", DESK, str(STRESS), "-o", str(f["out"] / "w.parquet"),
                                         "--solver", "GLPK_NOPE"], "--solver"),
    "transition-unknown-solver": (lambda f: ["transition", DESK, "--solver", "NOPE"], "--solver"),
    "whatif-workers-negative": (lambda f: ["whatif", DESK, str(STRESS), "-o", str(f["out"] / "w.parquet"),
                                           "--workers", "-2"], "-2 is not in the range x>=1"),
    "whatif-workers-zero": (lambda f: ["whatif", DESK, str(STRESS), "-o", str(f["out"] / "w.parquet"),
                                       "--workers", "0"], "--workers"),
    "whatif-table-suffix": (lambda f: ["whatif", DESK, str(STRESS), "-o", str(f["out"] / "w.xlsx")],
                            "does not end in .parquet, .csv or .json"),
    "batch-workers-negative": (lambda f: ["batch", str(f["spec-base"]), "-o", str(f["out"] / "b"), "--workers",
                                          "-2"], "--workers"),
    "optimize-binary": (lambda f: ["optimize", str(f["binary"])], "is not UTF-8 text"),
    "optimize-utf16": (lambda f: ["optimize", str(f["utf16"])], "it looks like UTF-16"),
    "optimize-deep": (lambda f: ["optimize", str(f["deep"])], "nested too deeply"),
    "optimize-duplicate-key": (lambda f: ["optimize", str(f["duplicate"])], "assets[0].price: the key 'price'"),
    "transition-integer-and-heuristic": (lambda f: ["transition", DESK, "--integer", "--heuristic"],
                                         "--integer and --heuristic are two ways"),
    "transition-binary": (lambda f: ["transition", str(f["binary"])], "is not UTF-8 text"),
    "whatif-scenario-not-a-table": (lambda f: ["whatif", DESK, str(f["not-a-table"]), "-o",
                                               str(f["out"] / "w.parquet")], "scenarios[0]: 1 is not a scenario"),
    "whatif-scenarios-binary": (lambda f: ["whatif", DESK, str(f["binary"]), "-o", str(f["out"] / "w.parquet")],
                                "is not UTF-8 text"),
    "batch-jobs-not-a-list": (lambda f: ["batch", str(f["spec-jobs"]), "-o", str(f["out"] / "b")],
                              "jobs: 5: input should be a valid list"),
    "batch-base-not-a-boolean": (lambda f: ["batch", str(f["spec-base"]), "-o", str(f["out"] / "b")],
                                 "jobs[0].base"),
    "batch-spec-binary": (lambda f: ["batch", str(f["binary"]), "-o", str(f["out"] / "b")], "is not UTF-8 text"),
    "batch-directory-names-the-file": (lambda f: ["batch", str(f["spec-dir"]), "-o", str(f["out"] / "b")],
                                       "bad.toml: accounts[0].haircuts.SOL"),
    "batch-unwritable-output": (lambda f: ["batch", str(PROBLEMS.parent / "batch" / "desk-grid.toml"), "-o",
                                           str(f["blocker"] / "out")], "cannot create the output directory"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_hostile_command_line_exits_2_without_a_traceback(files, name):
    arguments, mentions = COMMANDS[name]
    code, stderr = _invoke(*arguments(files))
    assert code == 2, stderr
    assert mentions in stderr, stderr
    assert not list(files["out"].glob("w.*")) and not (files["out"] / "b" / "results").exists()


def test_the_old_name_of_stress_scenarios_warns_on_the_command_line(files, tmp_path):
    code, stderr = _invoke("optimize", str(files["old-name"]), "-o", str(tmp_path / "r.json"), "--quiet")
    assert code == 0, stderr
    assert "warning: [[scenarios]] in a problem file is deprecated: rename it [[stress_scenarios]]" in stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["status"] == "optimal"


def test_solver_names_are_accepted_in_any_case(tmp_path):
    code, stderr = _invoke("optimize", DESK, "--solver", "highs", "--time-limit", "30", "-o",
                           str(tmp_path / "r.json"), "--quiet")
    assert code == 0, stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["diagnostics"]["solver"] == "HIGHS"
