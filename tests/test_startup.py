"""Start-up: ``import allocator`` loads no solver until a solve is asked for (PEP 562 lazy names in
allocator/__init__.py), and ``allocator --help`` and ``allocator validate`` load none either, nor pandas or
scipy.stats (docs/cli.md, start-up). Each check runs in a fresh interpreter and reads ``sys.modules`` or
``-X importtime``; the times themselves are a benchmark (tests/benchmarks/bench_cli.py), never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import PROBLEMS, ROOT

import allocator

SOLVERS = {"cvxpy", "highspy", "clarabel"}
HEAVY = SOLVERS | {"pandas", "scipy.stats", "sklearn", "rich"}


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
    assert _loaded("import allocator\nallocator.optimize") >= SOLVERS  # asking for the solver loads it


def test_help_and_validate_load_no_solver_nor_pandas():
    assert _imported_by("--help") == set()
    assert _imported_by("validate", str(PROBLEMS / "desk.toml")) == set()


def test_validate_loads_no_numpy():
    """The input tier reaches numpy through allocator.lazy: checking the desk (no market, no collateral curves)
    never imports it, while a problem whose checks need numpy (a correlation matrix) gets the real module."""
    probe = ("import sys\nfrom allocator.io.loading import load_problem\n"
             f"load_problem({str(PROBLEMS / 'desk.toml')!r})\nprint('numpy._core' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.split() == ["False"]
    probe = ("import numpy\nfrom allocator.lazy import np\nfrom allocator.io.loading import load_problem\n"
             f"problem = load_problem({str(PROBLEMS / 'perps-risk.toml')!r})\n"
             "print(np is numpy, problem.market is not None)")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.split() == ["True", "True"]


def test_lazy_numpy_is_numpy_once_used():
    probe = ("import sys\nfrom allocator.lazy import np\nloaded = 'numpy._core' in sys.modules\n"
             "total = float(np.array([1.0, 2.0]).sum())\nimport numpy\nprint(loaded, total, np is numpy)")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.split() == ["False", "3.0", "True"]


def test_every_public_name_resolves_and_is_listed():
    assert set(allocator.__all__) <= set(dir(allocator))
    for name in allocator.__all__:
        assert getattr(allocator, name) is not None
    namespace: dict[str, object] = {}
    exec("from allocator import *", namespace)
    assert set(allocator.__all__) <= set(namespace)
