"""The benchmark registry: ``@case`` turns a function that returns its figures into one or more named cases.

A case module is ``tests/benchmarks/bench_<module>.py``; a case's id is ``<module>.<name>`` or, with parameters,
``<module>.<name>[<param id>]`` (``core.generated_hub_and_spoke[200x20]``). ``run.py`` runs each case in a fresh
process and records its wall time and peak memory around what the function returns.
"""

from __future__ import annotations

import inspect
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Figures = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One runnable benchmark: a function, the arguments of one parameter set, and its id."""

    module: str
    name: str
    param: str | None
    function: Callable[..., Figures]
    args: tuple[Any, ...]

    @property
    def id(self) -> str:
        base = f"{self.module}.{self.name}"
        return base if self.param is None else f"{base}[{self.param}]"

    @property
    def about(self) -> str:
        """The first paragraph of the function's docstring, on one line: what the figures measure."""
        return " ".join((inspect.getdoc(self.function) or "").split("\n\n", 1)[0].split())

    def check(self) -> None:
        """Raise TypeError if the arguments do not fit the function (a dry run: nothing is solved)."""
        inspect.signature(self.function).bind(*self.args)

    def run(self) -> Figures:
        figures = self.function(*self.args)
        if not isinstance(figures, dict):
            raise TypeError(f"benchmark {self.id} returned {type(figures).__name__}, not a dict of figures")
        return figures


REGISTRY: dict[str, Case] = {}


def case(name: str | None = None, params: dict[str, Any] | None = None) -> Callable[[Callable[..., Figures]],
                                                                                     Callable[..., Figures]]:
    """Register the decorated function as a benchmark of its module (``bench_core.py`` -> ``core``).

    ``name`` defaults to the function's name. ``params`` maps a parameter id to the function's arguments: a tuple
    is spread over the positional parameters, anything else is passed as the single argument. Without ``params``
    the function is called with no arguments. The function returns a dict of JSON-serialisable figures.
    """

    def register(function: Callable[..., Figures]) -> Callable[..., Figures]:
        module = function.__module__.rsplit(".", 1)[-1].removeprefix("bench_")
        sets: dict[str | None, tuple[Any, ...]] = (
            {None: ()} if params is None
            else {key: value if isinstance(value, tuple) else (value,) for key, value in params.items()})
        for param, args in sets.items():
            entry = Case(module, name or function.__name__, param, function, args)
            if entry.id in REGISTRY:
                raise ValueError(f"benchmark {entry.id} is registered twice")
            entry.check()
            REGISTRY[entry.id] = entry
        return function

    return register


def holdings_changed(problem: Any, moved: int, emptied: int) -> Any:
    """A copy of ``problem`` with half of each of its first ``moved`` holdings also held at the other wallet (new
    sources) and its first ``emptied`` holdings at zero (sources left out): other useful columns on the linear
    path, the same structure (the what-ifs of ``scale.holdings_resolve``)."""
    import allocator

    data = problem.model_dump(by_alias=True)
    for holding in data["holdings"][:moved]:
        other = "wallet-1" if holding["location"] != "wallet-1" else "wallet-0"
        data["holdings"].append({"asset": holding["asset"], "location": other, "quantity": holding["quantity"] / 2})
    for holding in data["holdings"][:emptied]:
        holding["quantity"] = 0.0
    return allocator.Problem.model_validate(data)


def scaled(problem: Any, price: float, requirement: float) -> Any:
    """A copy of ``problem`` with every price times ``price`` and every requirement times ``requirement``: the
    what-if re-solve of the benchmarks."""
    import allocator

    data = problem.model_dump(by_alias=True)
    for asset in data["assets"]:
        asset["price"] *= price
    for account in data["accounts"]:
        account["requirement"] *= requirement
    return allocator.Problem.model_validate(data)


def credit_bounds(problem: Any) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """The screen's numbers by hand (solve/_fast.py ``_surely_short``), in currency: each asset's value today,
    its best ``1 - haircut`` anywhere (0 where no account takes it), and each account's own bound (every asset it
    takes at that asset's whole value, at its haircut there). Shared by the benchmarks and
    tests/test_fast_lp_paths.py."""
    price = {a.id: a.price for a in problem.assets}
    worth: dict[str, float] = {}
    for h in problem.holdings:
        worth[h.asset] = worth.get(h.asset, 0.0) + h.quantity * price[h.asset]
    best = {a: max((1.0 - t.eligible[a] for t in problem.terms.values() if a in t.eligible), default=0.0)
            for a in price}
    own = {k: sum(worth.get(a, 0.0) * (1.0 - h) for a, h in t.eligible.items()) for k, t in problem.terms.items()}
    return worth, best, own


def competing(problem: Any, own: dict[str, float], share: float) -> Any:
    """``problem`` with acct-00's and acct-01's requirements at ``share`` of their own bounds (``credit_bounds``)
    and every other requirement at zero: short, for ``share`` near one, only because the two need the same
    assets."""
    import allocator

    data = problem.model_dump(by_alias=True)
    for account in data["accounts"]:
        k = account["id"]
        account["requirement"] = (account["requirement"] * share * own[k] / problem.terms[k].required
                                  if k in ("acct-00", "acct-01") else 0.0)
    return allocator.Problem.model_validate(data)


#: A fresh process's script: ``optimize(load_problem(argv[1]))`` timed by ``time.{clock}`` after the imports (import
#: allocator alone is lazy); prints the seconds and the total cost.
OPTIMIZE = """
import time, sys
from allocator import load_problem, optimize  # import time is not counted (import allocator alone is lazy)
start = time.{clock}()
result = optimize(load_problem(sys.argv[1]))
print(time.{clock}() - start, result.objective.total)
"""


def console(*args: str) -> list[str]:
    """``allocator ARGS`` as a user runs it: the console script beside this Python where it is installed, else
    ``python -m allocator.cli``."""
    script = Path(sys.executable).parent / "allocator"
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "allocator.cli", *args]


def fresh_runs(script: str, problem: Path, runs: int, timeout: float | None = None) -> list[list[str]]:
    """The words ``script`` prints (a timing script prints its seconds first) in each of ``runs`` fresh processes
    given the path ``problem``."""
    return [subprocess.run([sys.executable, "-c", script, str(problem)], check=True, capture_output=True, text=True,
                           timeout=timeout).stdout.split() for _ in range(runs)]


def spread(seconds: list[float], digits: int) -> Figures:
    """The median and the largest of ``seconds``, rounded to ``digits``."""
    return {"median": round(statistics.median(seconds), digits), "max": round(max(seconds), digits)}
