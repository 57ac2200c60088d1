"""What runs in a batch worker: solve one chunk of one problem's scenarios, compiling each problem once.

The engine cache is per process and bounded, so a worker that serves many problems keeps a flat footprint.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pandas as pd

from allocator.analysis.rows import outcome_row
from allocator.batch.backtests import backtest_row
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario
from allocator.solve._engine import Allocator

_ENGINES: OrderedDict[tuple[str, str | None], Allocator] = OrderedDict()
ENGINE_CACHE_SIZE = 4


def engine_for(problem_hash: str, problem: Problem, solver: str | None) -> Allocator:
    key = (problem_hash, solver)
    if key in _ENGINES:
        _ENGINES.move_to_end(key)
    else:
        _ENGINES[key] = Allocator(problem, solver)
        while len(_ENGINES) > ENGINE_CACHE_SIZE:
            _ENGINES.popitem(last=False)
    return _ENGINES[key]


def solve_chunk(problem_hash: str, problem: Problem, job: str, solver: str | None,
                units: list[tuple[str, str, dict[str, Any]]]) -> pd.DataFrame:
    """Rows for (key, scenario id, scenario fields) units; a failing scenario is a row, never an exception
    (an unexpected one too: it is recorded with its type, and the rest of the chunk is still solved)."""
    rows = []
    for key, ident, fields in units:
        try:
            if "backtest" in fields:  # a backtest sweep's unit (backtests.py): its summary row
                row = backtest_row(problem, ident, fields["backtest"])
            else:
                changed = Scenario.parse(fields, where=ident).apply(problem, where=ident) if fields else problem
                row = outcome_row(engine_for(problem_hash, problem, solver), ident, changed)
        except Exception as error:  # noqa: BLE001 - a typed error or a fault of ours: a failed row either way
            row = {"scenario": ident, "status": "failed", "error_type": type(error).__name__, "error": str(error)}
        rows.append({"key": key, "job": job, **row})
    return pd.DataFrame(rows)
