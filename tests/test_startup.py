"""Start-up: ``import allocator`` loads no solver until a solve is asked for (PEP 562 lazy names in
allocator/__init__.py), and ``allocator --help`` and ``allocator validate`` load none either, nor pandas or
scipy.stats (docs/cli.md, start-up). Each check runs in a fresh interpreter and reads ``sys.modules`` or
``-X importtime``; the times themselves are a benchmark (tests/benchmarks/bench_cli.py), never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import PROBLEMS, ROOT

import allocator

SOLVERS = {"cvxpy", "highspy", "clarabel"}
HEAVY = SOLVERS | {"pandas", "scipy.stats", "scipy.optimize", "sklearn", "rich"}


def _loaded(code: str) -> set[str]:
    """Modules of HEAVY in sys.modules after ``code`` runs in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(json.loads(run.stdout.splitlines()[-1]))


def _imported_by(*args: str) -> set[str]:
    """Top-level names of every module ``python -m allocator.cli ARGS`` imported (from -X importtime)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "allocator.cli", *args], capture_output=True,
                         text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    return {name for name in names if name in HEAVY or name.split(".")[0] in SOLVERS}


def test_import_allocator_loads_no_solver():
    assert _loaded("import allocator") == set()


def test_public_names_load_on_first_use():
    assert _loaded("from allocator import Problem, InputError, load_problem, example_names") == set()
    assert "highspy" in _loaded("import allocator\nallocator.optimize")  # asking for the solver loads HiGHS


def test_the_linear_path_solves_without_cvxpy(tmp_path):
    """A problem the compile-free linear path serves (the desk) is solved, verified, planned and written without
    importing cvxpy, Clarabel or scipy.stats (which cvxpy brings: 1.1 s of the desk's 2.4 s run), scipy.optimize
    (a liquidation distance's root, only with positions or hedges) or pandas (a result's frames); a problem that
    needs the general program (parametric risk limits: cones, solved by Clarabel) imports them when it is solved."""
    desk = _imported_by("optimize", str(PROBLEMS / "desk.toml"), "--quiet", "-o", str(tmp_path / "desk.json"))
    assert "highspy" in desk and not desk & {"scipy.stats", "scipy.optimize", "pandas"}, desk
    assert not {name.split(".")[0] for name in desk} & {"cvxpy", "clarabel"}
    risk = _imported_by("optimize", str(PROBLEMS / "perps-risk.toml"), "--quiet", "-o", str(tmp_path / "risk.json"))
    assert {"cvxpy", "clarabel", "highspy"} <= risk


def test_help_and_validate_load_no_solver_nor_pandas():
    assert _imported_by("--help") == set()
    assert _imported_by("validate", str(PROBLEMS / "desk.toml")) == set()


def _numpy_loaded(names: set[str]) -> bool:
    """numpy really imported: its submodules load with it (``numpy._core`` on 2.x, ``numpy.core`` on 1.26)."""
    return any(name.startswith("numpy.") for name in names)


def test_validate_loads_no_numpy():
    """``allocator validate`` defers numpy (allocator/lazy.py): checking the desk (no market, no collateral curves)
    never imports it, while a problem whose checks need it (a correlation matrix) is checked with the real module."""
    desk = subprocess.run([sys.executable, "-X", "importtime", "-m", "allocator.cli", "validate",
                           str(PROBLEMS / "desk.toml")], capture_output=True, text=True, cwd=ROOT)
    assert desk.returncode == 0, desk.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in desk.stderr.splitlines() if line.startswith("import time:")}
    assert not _numpy_loaded(names)
    risk = subprocess.run([sys.executable, "-m", "allocator.cli", "validate", str(PROBLEMS / "perps-risk.toml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert risk.returncode == 0 and "valid:" in risk.stdout + risk.stderr, risk.stderr[-2000:]


def test_the_library_gets_numpy_itself():
    """Outside ``allocator validate``, ``allocator.lazy.np`` is numpy, imported the ordinary way."""
    probe = ("import sys\nfrom allocator.lazy import np\nimport numpy\n"
             "print(np is numpy, any(m.startswith('numpy.') for m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.split() == ["True", "True"]


def test_threads_loading_problems_at_once_all_succeed():
    """Regression: a lazily imported numpy was seen half-initialised by a second thread on Python 3.11 (CPython
    gh-114763); four threads loading a problem whose checks use numpy, in a fresh process, all succeed."""
    probe = ("import threading\nimport allocator\nerrors = []\n"
             "def load():\n    try:\n"
             f"        allocator.load_problem({str(PROBLEMS / 'perps-risk.toml')!r})\n"
             "    except Exception as error:\n        errors.append(repr(error))\n"
             "threads = [threading.Thread(target=load) for _ in range(4)]\n"
             "[t.start() for t in threads]\n[t.join() for t in threads]\nprint(len(errors), errors[:1])")
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
        assert run.stdout.startswith("0 "), run.stdout


def test_every_public_name_resolves_and_is_listed():
    assert set(allocator.__all__) <= set(dir(allocator))
    for name in allocator.__all__:
        assert getattr(allocator, name) is not None
    namespace: dict[str, object] = {}
    exec("from allocator import *", namespace)
    assert set(allocator.__all__) <= set(namespace)


def test_validate_imports_no_package_metadata_nor_unused_parsers():
    """Regression (issue 15): with pydantic's plugins off, ``allocator validate`` still imported pydantic's plugin
    loader and with it importlib.metadata, email and zipfile; a stand-in takes its place (allocator/cli/validate.py).
    Nor are the JSON parser (a TOML file), difflib (no misspelt name) or the option pricer (no option) imported."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "allocator.cli", "validate",
                          str(PROBLEMS / "desk.toml")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == f"valid: {PROBLEMS / 'desk.toml'} (8 assets, 4 accounts, 23 holdings)\n"
    names = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert {"pydantic", "tomllib"} <= names  # the probe reads the import log at all
    assert not names & {"importlib.metadata", "email", "zipfile", "json", "difflib", "allocator.venues.options"}


def test_plugin_loader_stand_in_yields_to_the_real_loader():
    """The stand-in answers ``get_plugins`` with nothing; any other name imports pydantic's real loader, and a user
    who names plugins to skip (not all of them) gets the real loader from the start."""
    probe = ("import sys\nfrom allocator.cli.validate import skip_plugin_search\nskip_plugin_search()\n"
             "from pydantic.plugin._loader import get_plugins\nprint(list(get_plugins()))\n"
             "print('importlib.metadata' in sys.modules)\n"
             "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP\nprint(PYDANTIC_ENTRY_POINT_GROUP)\n"
             "print(sys.modules['pydantic.plugin._loader'].__file__.endswith('_loader.py'))")
    environment = {name: value for name, value in os.environ.items() if name != "PYDANTIC_DISABLE_PLUGINS"}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True,
                         env=environment)
    assert run.stdout.split() == ["[]", "False", "pydantic", "True"]
    named = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True,
                           env={**environment, "PYDANTIC_DISABLE_PLUGINS": "some_plugin"})
    assert named.stdout.split() == ["[]", "True", "pydantic", "True"]


def test_input_models_default_factories_are_functions_of_ours():
    """Regression (issue 15): ``Field(default_factory=dict)`` made pydantic parse a builtin's text signature, which
    compiles the tokenizer's patterns at start-up; every input model's factory is a Python function
    (``allocator.inputs.fields.empty_table`` / ``empty_list``) that returns a new empty value each time."""
    import inspect

    from pydantic import BaseModel

    import allocator.inputs.hedges
    import allocator.inputs.liquidity
    import allocator.inputs.market
    import allocator.inputs.problem
    import allocator.inputs.routes
    import allocator.inputs.scenario
    import allocator.inputs.stress

    modules = [allocator.inputs.hedges, allocator.inputs.liquidity, allocator.inputs.market, allocator.inputs.problem,
               allocator.inputs.routes, allocator.inputs.scenario, allocator.inputs.stress]
    factories = {(model.__name__, name): field.default_factory for module in modules
                 for model in vars(module).values() if inspect.isclass(model) and issubclass(model, BaseModel)
                 for name, field in model.model_fields.items() if field.default_factory is not None}
    assert factories  # the probe found the optional tables (holdings, haircuts, ...)
    assert {key: factory for key, factory in factories.items() if not inspect.isfunction(factory)} == {}
    for factory in set(factories.values()):
        first, second = factory(), factory()  # type: ignore[call-arg]
        assert first == second and not first and first is not second


def test_the_report_package_loads_no_solver_nor_other_analyses():
    """``allocator.report`` registers the sections of every result type; the packages of those types (transition,
    backtest, stress) import their machinery on first use (lazy_loader.attach), so reporting a single-period
    result loads no cvxpy, HiGHS or scipy.stats (the transition's and the Monte Carlo's)."""
    loaded = _loaded("import allocator.report")
    assert not loaded & (SOLVERS | {"scipy.stats"}), loaded
    assert _loaded("import allocator.transition\nallocator.transition.plan_transition") >= {"cvxpy", "highspy"}
