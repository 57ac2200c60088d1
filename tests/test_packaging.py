"""The package as a user gets it: a wheel installed on a fresh machine, the shipped rulebooks and example problems,
the user's own rulebook folder, and a clean message for a missing optional extra."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocator
from allocator.cli import main
from allocator.errors import InputError
from allocator.io.examples import example_names, example_problem, load_example
from allocator.venues.rulebooks import MODELS, available_rulebooks, load_rulebook

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "fixtures" / "problems"
SHIPPED_RULEBOOKS = sorted(path.stem for path in (ROOT / "models").glob("*.toml") if path.stem != "stress-episodes")
#: What a clean clone holds that the build reads (pyproject.toml maps models/ and fixtures/ into the package).
SOURCE = ["pyproject.toml", "README.md", "allocator", "models", "fixtures"]
CONSOLE_SCRIPT = Path(sys.executable).parent / "allocator"


def _setuptools_can_build() -> bool:
    try:
        return int(metadata.version("setuptools").split(".")[0]) >= 77
    except metadata.PackageNotFoundError:
        return False


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _ok(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, f"{run.args} -> {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout


@pytest.mark.skipif(not _setuptools_can_build(), reason="building the wheel offline needs setuptools>=77 in the "
                    "test environment (the `test` extra brings it): pip install -e '.[test]'")
def test_fresh_machine(tmp_path: Path) -> None:
    """Build a wheel from the source a clean clone holds, install it into a new virtual environment and use it from
    outside the repository: ``allocator --help``, ``import allocator`` with every models/*.toml available, every
    shipped example loading (with the price histories it names), and a problem that names rulebooks and histories
    written by ``allocator example fund`` and solved by ``allocator optimize``.

    Speed (2 shared cores): the wheel is built with the test environment's setuptools (``--no-build-isolation``,
    about 2 s and no network). Installing the dependencies into an empty venv resolves and unpacks cvxpy, scipy,
    pandas, pyarrow, ... (``pip install -e ".[dev]"`` took about 3 minutes here), so the new venv (``--without-pip``)
    gets only the wheel, installed with ``--no-deps`` by the test environment's pip (``pip --python``), and
    reaches the dependencies through a ``.pth`` file naming the test environment's site-packages. A plain path line
    does not run that folder's own .pth files, so an editable install of allocator there stays invisible; the test
    checks that ``allocator`` is imported from the new venv. What this does not check is that pyproject.toml
    declares every runtime dependency (the test environment has the test extras too). Measured: about 17 s of CPU,
    mostly five interpreters importing cvxpy; 20 s of wall time on a quiet machine with every command run in turn,
    so the three independent ones now run at once."""
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
              "-w", str(wheels), str(source)], tmp_path))
    (wheel,) = wheels.glob("allocator-*.whl")

    venv = tmp_path / "venv"
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path))
    python = venv / "bin" / "python"
    purelib = Path(_ok(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                            tmp_path)).strip())
    dependencies = [*site.getsitepackages(), site.getusersitepackages()]
    (purelib / "test-environment.pth").write_text("\n".join(dependencies) + "\n", encoding="utf-8")
    _ok(_run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
              str(wheel)], tmp_path))

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.pop("ALLOCATOR_RULEBOOKS", None)
    console = str(venv / "bin" / "allocator")

    script = ("import json, importlib.metadata, allocator, allocator.io.examples as e; "
              "from allocator.report.bundle import plotly_bundle; print(json.dumps({"
              "'file': allocator.__file__, 'version': importlib.metadata.version('allocator'), "
              "'rulebooks': allocator.available_rulebooks(), 'examples': e.example_names(), "
              "'accounts': [len(e.load_example(name).accounts) for name in e.example_names()], "
              "'cartesian_bundle': plotly_bundle().cartesian}))")
    commands = {"help": [console, "--help"], "import": [str(python), "-c", script],
                "fund": [console, "example", "fund"]}
    started = {name: subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for name, command in commands.items()}  # independent: run at once
    out = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        out[name] = _ok(subprocess.CompletedProcess(commands[name], process.returncode, stdout, stderr))
    assert "example" in out["help"] and "optimize" in out["help"]
    facts = json.loads(out["import"])
    assert Path(facts["file"]).is_relative_to(venv), facts  # the wheel, not the checkout
    assert facts["version"] == metadata.version("allocator")
    assert facts["rulebooks"] == SHIPPED_RULEBOOKS
    assert facts["examples"] == sorted(path.stem for path in PROBLEMS.glob("*.toml"))
    assert all(facts["accounts"]), facts  # every shipped example loads, with the price histories it names
    assert facts["cartesian_bundle"]  # the report's vendored plotly.js is package data of the wheel

    (work / "fund.toml").write_text(out["fund"], encoding="utf-8")  # allocator example fund > fund.toml
    _ok(_run([console, "optimize", "fund.toml", "--quiet"], work, env))
    result = allocator.Result.from_json((work / "fund.result.json").read_text(encoding="utf-8"))
    assert result.status == "optimal"
    fund = tomllib.loads((PROBLEMS / "fund.toml").read_text(encoding="utf-8"))
    assert {row.id for row in result.accounts} == {account["id"] for account in fund["accounts"]}


def test_pyproject_lists_every_package() -> None:
    """Packages are listed by hand (a find would not take the mapped data folders): none may be forgotten."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    code = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "allocator").rglob("__init__.py")}
    mapped = set(config["package-dir"])
    assert mapped == {"allocator._models", "allocator._fixtures"}
    assert set(config["packages"]) == code | mapped | {"allocator._fixtures.problems", "allocator._fixtures.market"}
    assert config["package-data"]["allocator._models"] == ["*.toml"]


def test_shipped_rulebooks_are_found_through_the_package() -> None:
    assert MODELS.samefile(ROOT / "models")  # an editable install reads the reviewed files themselves
    assert list(available_rulebooks()) == SHIPPED_RULEBOOKS
    assert load_rulebook(ROOT / "models" / "dydx-v4.toml").path == "models/dydx-v4.toml"


def test_examples_saved_anywhere_load(tmp_path: Path) -> None:
    """Every example written by ``example_problem`` loads from another folder; only price-history paths change."""
    assert list(example_names()) == sorted(path.stem for path in PROBLEMS.glob("*.toml"))
    for name in example_names():
        text = example_problem(name)
        original = (PROBLEMS / f"{name}.toml").read_text(encoding="utf-8")
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
        problem = allocator.load_problem(tmp_path / f"{name}.toml")
        assert problem.account_ids == load_example(name).account_ids
        history = tomllib.loads(original).get("market", {}).get("history")
        if history is None:
            assert text == original
            continue
        assert problem.market is not None and problem.market.history is not None
        assert problem.market.history == {asset: (PROBLEMS / file).resolve().as_posix()
                                          for asset, file in history.items()}
        note, rest = text.split("\n", 2)[:2], text.split("\n", 2)[2]
        assert note[0].startswith(f"# allocator example {name}: the price histories below are the files installed")
        for file in history.values():
            rest = rest.replace(json.dumps((PROBLEMS / file).resolve().as_posix()), json.dumps(file))
        assert rest == original


def test_example_command(tmp_path: Path) -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["example"])
    assert listing.exit_code == 0
    assert [line.split()[0] for line in listing.output.splitlines()] == list(example_names())
    assert "desk  " in listing.output and "crypto trading desk" in listing.output

    printed = runner.invoke(main, ["example", "desk"])
    assert printed.exit_code == 0 and printed.output == (PROBLEMS / "desk.toml").read_text(encoding="utf-8")
    written = runner.invoke(main, ["example", "swap", "-o", str(tmp_path / "swap.toml")])
    assert written.exit_code == 0 and written.output == f"example swap written to {tmp_path / 'swap.toml'}\n"
    assert (tmp_path / "swap.toml").read_text(encoding="utf-8") == (PROBLEMS / "swap.toml").read_text(encoding="utf-8")

    unknown = runner.invoke(main, ["example", "nope"])
    assert unknown.exit_code == 2
    assert unknown.output.strip() == ("error: example nope: no such example (available: "
                                      f"{', '.join(example_names())})")
    with pytest.raises(InputError) as raised:
        example_problem("nope")
    assert raised.value.issues[0].code == "unknown_example"


def test_user_rulebook_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ALLOCATOR_RULEBOOKS`` adds the user's folders, searched before the shipped files; a problem can name them."""
    folder = tmp_path / "venues"
    folder.mkdir()
    text = (ROOT / "models" / "hyperliquid.toml").read_text(encoding="utf-8")
    (folder / "my-perps.toml").write_text(text.replace('name = "hyperliquid"', 'name = "my-perps"'), encoding="utf-8")
    (folder / "aave-v3-ethereum.toml").write_text((ROOT / "models" / "aave-v3-ethereum.toml").read_text("utf-8"),
                                                  encoding="utf-8")
    monkeypatch.setenv("ALLOCATOR_RULEBOOKS", f"{os.pathsep}{folder}{os.pathsep}")  # empty entries are skipped
    assert list(available_rulebooks()) == sorted([*SHIPPED_RULEBOOKS, "my-perps"])
    assert load_rulebook("my-perps").path == str(folder / "my-perps.toml")
    assert load_rulebook("aave-v3-ethereum").path == str(folder / "aave-v3-ethereum.toml")  # the user's file first
    assert load_rulebook("hyperliquid").path == "models/hyperliquid.toml"

    fund = example_problem("fund")
    assert fund.count('rulebook = "hyperliquid"') == 1
    (tmp_path / "fund.toml").write_text(fund.replace('rulebook = "hyperliquid"', 'rulebook = "my-perps"'),
                                        encoding="utf-8")
    mine, shipped = allocator.load_problem(tmp_path / "fund.toml"), load_example("fund")
    assert mine.accounts[0].rulebook == "my-perps" and shipped.accounts[0].rulebook == "hyperliquid"
    account = mine.accounts[0].id
    assert mine.terms[account].required == pytest.approx(shipped.terms[account].required, rel=1e-12)
    assert mine.terms[account].eligible == shipped.terms[account].eligible

    monkeypatch.setenv("ALLOCATOR_RULEBOOKS", str(tmp_path / "missing"))
    with pytest.raises(InputError) as raised:
        load_rulebook("hyperliquid")
    (issue,) = raised.value.issues
    assert (issue.location, issue.code) == ("ALLOCATOR_RULEBOOKS", "not_a_folder")
    assert str(tmp_path / "missing") in issue.message
    with pytest.raises(InputError, match="ALLOCATOR_RULEBOOKS"):
        allocator.load_problem(tmp_path / "fund.toml")


HIDE_DASK = """\
import importlib.abc, sys

class HideDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"dask", "distributed"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideDask())
"""


@pytest.mark.skipif(not CONSOLE_SCRIPT.is_file(), reason="the allocator console script is not installed")
def test_dask_backend_without_the_extra_names_it(tmp_path: Path) -> None:
    """``--dask`` without Dask installed: one line naming the extra, exit 2, no traceback and no output folder.
    A sitecustomize makes ``dask`` and ``distributed`` unimportable in the real command."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HIDE_DASK, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(hook)}
    hidden = _run([sys.executable, "-c", "import distributed"], tmp_path, env)
    assert hidden.returncode == 1 and "No module named 'distributed'" in hidden.stderr

    out = tmp_path / "out"
    run = _run([str(CONSOLE_SCRIPT), "batch", str(ROOT / "fixtures" / "batch" / "desk-grid.toml"), "-o", str(out),
                "--dask", "local"], tmp_path, env)
    assert run.returncode == 2, run
    assert run.stderr.strip() == ('error: --dask needs the "dask" extra: pip install "allocator[dask]" '
                                  '(from a checkout: pip install -e ".[dask]")')
    assert run.stdout == "" and not out.exists()
