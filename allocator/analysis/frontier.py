"""Frontiers: sweep one scenario field over values and return the cost curve (a what-if table)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from allocator.analysis.whatif import what_if
from allocator.inputs.problem import Problem


def frontier(problem: Problem, field: str, values: Sequence[float], key: str = "*", solver: str | None = None,
             *, workers: int = 1) -> pd.DataFrame:
    """The what-if table of ``{field: {key: value}}`` for each value, with the swept value as a column.

    ``frontier(problem, "buffer", [0, 0.1, 0.2])`` raises every buffer; ``frontier(problem, "shock",
    [-0.1, -0.3], key="BTC")`` moves BTC's price; any scenario field keyed by asset or account works.
    """
    scenarios = [{"id": f"{field}.{key}={value:g}", field: {key: float(value)}} for value in values]
    table = what_if(problem, scenarios, solver, workers=workers)
    table.insert(1, "value", list(values))
    return table
