"""Reading what ``allocator report`` is given: a result JSON (single period or transition, told apart by its
fields) and what-if or frontier tables (``.parquet`` or ``.csv``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from allocator.errors import InputError, InputIssue
from allocator.inputs.issues import issues_from_pydantic
from allocator.io.documents import parse, read_text
from allocator.report.whatif import WhatIfTable
from allocator.results.result import Result
from allocator.transition.result import TransitionResult

#: Fields only a transition result has (a single-period result has ``plan`` and ``accounts`` instead).
TRANSITION_FIELDS = {"periods", "steps", "period_hours"}

WHATIF_COLUMNS = {"scenario", "status", "objective"}


def result_kind(data: Any) -> type[Result] | type[TransitionResult]:
    """Which result a parsed JSON document is: a transition result names its periods and steps."""
    return TransitionResult if isinstance(data, dict) and TRANSITION_FIELDS & set(data) else Result


def read_result(path: str | Path) -> Result | TransitionResult:
    """The result in ``path`` (what ``allocator optimize`` or ``allocator transition`` wrote); InputError located
    at the file and field when it is not one."""
    path = Path(path)
    data = parse(read_text(path, "result file"), "json", str(path))
    kind: type[BaseModel] = result_kind(data)
    try:
        return kind.model_validate(data)  # type: ignore[return-value]
    except ValidationError as error:
        what = "transition result" if kind is TransitionResult else "result"
        issues = [InputIssue(f"{path}: {issue.location}" if issue.location else str(path),
                             f"{issue.message} (read as a {what})", issue.code)
                  for issue in issues_from_pydantic(error)]
        raise InputError(issues) from None


def read_table(path: str | Path, currency: str = "") -> WhatIfTable:
    """A what-if or frontier table written by ``allocator whatif`` (or ``frontier(...).to_parquet``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError([InputIssue(str(path), f"unknown table type {suffix!r}; use .parquet or .csv",
                                     "unknown_format")])
    if not path.is_file():
        raise InputError([InputIssue(str(path), "no such file", "unreadable")])
    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pandas and pyarrow raise many kinds for an unreadable table
        raise InputError([InputIssue(str(path), f"cannot read the table: {error}", "unreadable")]) from None
    missing = sorted(WHATIF_COLUMNS - set(frame.columns))
    if missing:
        raise InputError([InputIssue(str(path), f"is not a what-if table: no column {', '.join(missing)}",
                                     "not_a_table")])
    name = f"Frontier ({path.name})" if "value" in frame.columns else f"What-if ({path.name})"
    return WhatIfTable(frame, name=name, currency=currency)
