"""The HTML report: one self-contained file (plotly.js embedded once, no network request) that shows a result the
way treasury and risk staff read it: accounts and coverage, holdings before and after, costs, the plan as a
timeline, shadow prices, risk, hedges, what-if and frontier curves, stress outcomes and margin-mode comparisons
(docs/report.md).

    >>> html = result.to_html()                                   # a Result or a TransitionResult
    >>> write_html("report.html", result, WhatIfTable(table))     # several items on one page
    >>> whatif_html(frontier(problem, "buffer", [0, 0.1, 0.2]))   # a what-if or frontier table alone
    >>> stress(problem, draws=500).to_html()                      # a StressReport
    >>> modes_html(compare_modes(problem), currency="USD")        # a margin-mode comparison

Each kind of result brings its sections as small renderer functions registered for its type (registry.py); the
modules below register theirs when imported. A new result type adds a module with ``@section(Type)`` functions
and one import line here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from allocator.report import (  # noqa: F401 - they register sections
    backtest,
    backtest_coverage,
    hedges,
    modes,
    single,
    single_prices,
    stress,
    stress_draws,
    transition,
    whatif,
)
from allocator.report.format import SIGN_CONVENTION
from allocator.report.load import read_result, read_table, result_kind
from allocator.report.modes import ModesTable
from allocator.report.page import MAX_BYTES, render, render_compact
from allocator.report.registry import Block, Context, registered_types, section
from allocator.report.whatif import WhatIfTable

__all__ = ["Block", "Context", "MAX_BYTES", "ModesTable", "SIGN_CONVENTION", "WhatIfTable", "compact_html",
           "modes_html", "read_result", "read_table", "registered_types", "result_kind", "section", "to_html",
           "whatif_html", "write_html"]


def to_html(*items: object, title: str | None = None) -> str:
    """The report page of one or more items (Result, TransitionResult, StressReport, WhatIfTable, ModesTable, or
    any registered type)."""
    if not items:
        raise TypeError("to_html needs at least one result to report")
    return render(items, title)


def whatif_html(table: pd.DataFrame, *, title: str | None = None, currency: str = "") -> str:
    """The report of a what-if table or a frontier (a what-if table with the swept ``value``) on its own."""
    return render([WhatIfTable(table, currency=currency)], title)


def modes_html(table: pd.DataFrame, *, title: str | None = None, currency: str = "") -> str:
    """The report of a margin-mode comparison (``compare_modes(problem)``) on its own."""
    return render([ModesTable(table, currency=currency)], title)


def compact_html(item: object) -> str:
    """The compact report (``_repr_html_`` in notebooks): headline and tables, no charts and no script."""
    return render_compact(item)


def write_html(path: str | Path, *items: object, title: str | None = None) -> Path:
    """Write the report of ``items`` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(to_html(*items, title=title), encoding="utf-8")
    return path
