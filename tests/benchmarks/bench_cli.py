"""Command-line start-up figures (docs/performance.md, command line): ``allocator --help``, ``allocator validate``
and ``allocator optimize`` on the desk, wall seconds of the whole process as a user runs it (the console script),
best and median of several fresh processes, beside two floors measured the same way: a bare ``python -c pass`` (the
interpreter's own start) and a process that only imports the third-party libraries the command cannot do without
(click for ``--help``; click and pydantic for ``validate``, which reaches numpy only when a check needs it,
allocator/lazy.py), so that allocator's own share can be read off on any machine; for ``validate`` also the import
of pydantic's models (``BaseModel``, ``Field``), which ``import pydantic`` alone defers: the floor any model-based
check stands on.

The target is 0.3 s on a desk machine. Nothing heavy may load: ``import allocator`` and both commands load no
solver (tests/test_startup.py), ``validate`` no scipy.stats, pandas or (on the desk) numpy either. Machines shared
with other work show 20-50% noise, so the best of the runs is the figure to compare; the median says how noisy the
run was.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _cases import Figures, case, console

ROOT = Path(__file__).resolve().parents[2]
DESK = ROOT / "fixtures" / "problems" / "desk.toml"
RUNS = 15


#: As an installed wheel runs: pip writes every module's bytecode at install time, so the runs may write and read
#: ``__pycache__`` (a checkout under PYTHONDONTWRITEBYTECODE would compile allocator's sources on every start).
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _timed(command: list[str]) -> list[float]:
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=ENVIRONMENT)  # writes the bytecode
    seconds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=ENVIRONMENT)
        seconds.append(time.perf_counter() - start)
    return seconds


#: What each command cannot do without: the floor under its start-up.
FLOORS = {"--help": "import click", "validate": "import click, pydantic",
          "optimize": "import click, pydantic, numpy, scipy.sparse, highspy"}

#: ``import pydantic`` alone imports little (its names load on first use); any model needs ``BaseModel`` and
#: ``Field``, which import the rest of pydantic: the floor under ``validate`` a model-based check cannot go below.
MODEL_FLOOR = "import click; from pydantic import BaseModel, Field"


@case(params={"help": ("--help",), "validate": ("validate", str(DESK)), "optimize": ("optimize", str(DESK), "--json")})
def startup(*args: str) -> Figures:
    """allocator --help / allocator validate desk.toml / allocator optimize desk.toml --json (the whole solve,
    verification and plan, the result on standard output): wall s of a fresh process, best and median of 15"""
    python = _timed([sys.executable, "-c", "pass"])
    floor = _timed([sys.executable, "-c", FLOORS[args[0]]])
    models = _timed([sys.executable, "-c", MODEL_FLOOR]) if args[0] == "validate" else None
    seconds = _timed(console(*args))
    figures: Figures = {"best_s": round(min(seconds), 3), "median_s": round(statistics.median(seconds), 3),
                        "python_pass_best_s": round(min(python), 3), "libraries_best_s": round(min(floor), 3),
                        "libraries": FLOORS[args[0]], "runs": len(seconds)}
    if models is not None:
        figures["models_floor_best_s"] = round(min(models), 3)
    return figures


@case(params={"1000x60": (1000, 60)})
def optimize_generated(assets: int, accounts: int) -> Figures:
    """allocator optimize on a generated hub-and-spoke book (``generate_problem(n, 2, k, seed=1, topology="hub")``
    written as JSON), as a user runs it: the summary tables on standard output (a file, not a terminal) and the
    result written next to the problem; wall s of 3 fresh processes, best and median"""
    import tempfile

    from allocator.io.generate import generate_problem

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.json"
        path.write_text(generate_problem(assets, 2, accounts, seed=1, topology="hub").model_dump_json(by_alias=True))
        command = console("optimize", str(path))
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            run = subprocess.run(command, check=True, capture_output=True, cwd=folder, env=ENVIRONMENT)
            seconds.append(time.perf_counter() - start)
    return {"best_s": round(min(seconds), 3), "median_s": round(statistics.median(seconds), 3),
            "stdout_lines": len(run.stdout.splitlines()), "outcome": run.stdout.decode().splitlines()[-1][:120]}
