"""Reading what ``allocator report`` is given, each told apart by its fields: a result JSON (single period or
transition), a stress report JSON (``allocator stress -o x.json``), a backtest (the directory ``allocator backtest
-o DIR`` writes, or ``BacktestResult.to_json()``), and tables: a margin-mode comparison
(``allocator modes -o``) or a what-if or frontier table (``allocator whatif``), as ``.json`` (a list of records),
``.csv`` or ``.parquet``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from allocator.analysis.backtest.result import BacktestResult
from allocator.analysis.stress.report import StressReport
from allocator.errors import InputError, InputIssue
from allocator.inputs.issues import issues_from_pydantic
from allocator.io.documents import parse, read_text
from allocator.report.modes import ModesTable
from allocator.report.whatif import WhatIfTable
from allocator.results.result import Result
from allocator.transition._result import TransitionResult

#: Fields only a transition result has (a single-period result has ``plan`` and ``accounts`` instead).
TRANSITION_FIELDS = {"periods", "steps", "period_hours"}
#: Fields only a stress report has (it has ``accounts`` too, but no ``status``).
STRESS_FIELDS = {"holdings", "intraday", "cascade"}

#: What ``allocator backtest -o DIR`` writes (holdings.parquet too, with ``record_holdings``), and the keys of
#: ``BacktestResult.to_json()``.
BACKTEST_FILES = ("meta.json", "daily.parquet", "treasury.parquet", "summary.csv")
BACKTEST_FIELDS = {"meta", "daily", "treasury", "summary"}

WHATIF_COLUMNS = {"scenario", "status", "objective"}
#: A margin-mode comparison (``compare_modes``); per account (``--by-account``) it has ``account`` and
#: ``margin_mode`` instead of ``in_mode``.
MODES_COLUMNS = {"mode", "status", "in_mode"}
BY_ACCOUNT_COLUMNS = {"mode", "account", "margin_mode"}
TABLE_SUFFIXES = (".parquet", ".csv")

Document = Result | TransitionResult | StressReport | BacktestResult
Table = WhatIfTable | ModesTable
NAMES: dict[type, str] = {Result: "result", TransitionResult: "transition result", StressReport: "stress report"}


def result_kind(data: Any) -> type[Result] | type[TransitionResult] | type[StressReport]:
    """Which result a parsed JSON document is: a stress report names its holdings, intraday and cascade flags; a
    transition result its periods and steps; anything else is read as a single-period result."""
    if isinstance(data, dict) and set(data) >= STRESS_FIELDS:
        return StressReport
    return TransitionResult if isinstance(data, dict) and TRANSITION_FIELDS & set(data) else Result


def read_result(path: str | Path, currency: str = "") -> Document | Table:
    """What ``path`` holds: a result, a transition result or a stress report (JSON), or a modes, what-if or
    frontier table (a JSON list of records, .csv or .parquet); InputError located at the file and field when it
    is none of them."""
    path = Path(path)
    if path.is_dir():
        return read_backtest(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return read_table(path, currency)
    data = parse(read_text(path, "result file"), "json", str(path))
    if isinstance(data, dict) and set(data) >= BACKTEST_FIELDS:
        try:
            return BacktestResult.from_data(data)
        except (KeyError, TypeError, ValueError) as error:
            raise InputError([InputIssue(str(path), f"is not a readable backtest (BacktestResult.to_json): "
                                                    f"{error}", "unreadable")]) from None
    if isinstance(data, list):
        if not all(isinstance(row, dict) for row in data):
            raise InputError([InputIssue(str(path), "is a JSON list but not of records (a table written by "
                                                    "allocator modes or whatif)", "not_a_table")])
        return table_of(pd.DataFrame.from_records(data), path, currency)
    kind: type[BaseModel] = result_kind(data)
    try:
        return kind.model_validate(data)  # type: ignore[return-value]
    except ValidationError as error:
        what = NAMES[kind]
        issues = [InputIssue(f"{path}: {issue.location}" if issue.location else str(path),
                             f"{issue.message} (read as a {what})", issue.code)
                  for issue in issues_from_pydantic(error)]
        raise InputError(issues) from None


def read_backtest(folder: Path) -> BacktestResult:
    """The backtest ``allocator backtest -o DIR`` wrote in ``folder``; InputError naming every file missing or
    unreadable."""
    missing = [name for name in BACKTEST_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError([InputIssue(str(folder / name), "no such file: a directory given to the report must be a "
                                                        "backtest's output (allocator backtest PROBLEM -o DIR)",
                                     "unreadable") for name in missing])
    try:
        return BacktestResult.load(folder)
    except Exception as error:  # noqa: BLE001 - json, pyarrow and pandas raise many kinds for an unreadable file
        raise InputError([InputIssue(str(folder), f"cannot read the backtest: {error}", "unreadable")]) from None


def read_table(path: str | Path, currency: str = "") -> Table:
    """A table written by ``allocator whatif`` (or ``frontier(...).to_parquet``) or ``allocator modes``, as
    .parquet, .csv or a .json list of records."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*TABLE_SUFFIXES, ".json"):
        raise InputError([InputIssue(str(path), f"unknown table type {suffix!r}; use .parquet, .csv or .json",
                                     "unknown_format")])
    if not path.is_file():
        raise InputError([InputIssue(str(path), "no such file", "unreadable")])
    try:
        if suffix == ".json":
            frame = pd.DataFrame.from_records(json.loads(path.read_text(encoding="utf-8")))
        else:
            frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pandas and pyarrow raise many kinds for an unreadable table
        raise InputError([InputIssue(str(path), f"cannot read the table: {error}", "unreadable")]) from None
    return table_of(frame, path, currency)


def table_of(frame: pd.DataFrame, path: Path, currency: str = "") -> Table:
    """The table ``frame`` is, by its columns: a modes comparison or a what-if (or frontier) table."""
    columns = set(frame.columns)
    if columns >= MODES_COLUMNS:
        return ModesTable(frame, name=f"Margin modes ({path.name})", currency=currency)
    if columns >= BY_ACCOUNT_COLUMNS:
        raise InputError([InputIssue(str(path), "is a per-account modes table (allocator modes --by-account); the "
                                                "report reads the per-mode table: allocator modes PROBLEM -o "
                                                "modes.json", "not_a_table")])
    missing = sorted(WHATIF_COLUMNS - columns)
    if missing:
        raise InputError([InputIssue(str(path), f"is not a what-if or modes table: no column {', '.join(missing)}",
                                     "not_a_table")])
    name = f"Frontier ({path.name})" if "value" in frame.columns else f"What-if ({path.name})"
    return WhatIfTable(frame, name=name, currency=currency)
