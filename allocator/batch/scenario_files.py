"""Reading what-if scenario files: ``[[scenarios]]`` in TOML or JSON (nested tables), or flat ``.csv``/``.parquet``
rows with dotted columns (``shock.BTC``). Every scenario is parsed (types and ranges, scenario.py) as the file is
read, so a bad file is one located InputError before anything is solved; whether a change fits the problem
(a known asset, an eligible pair) is checked when it is applied."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.errors import InputError, InputIssue
from allocator.inputs.issues import short
from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario, reference_issues
from allocator.io.documents import read_document, regular_file

TABLE_SUFFIXES = (".csv", ".parquet")
#: A decimal number as a CSV cell writes it (no separators, no ``inf``/``nan``: those stay text and are refused).
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def read_scenarios(path: str | Path, problem: Problem | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(id, fields) per scenario of a .toml/.json file (``[[scenarios]]``) or a flat .csv/.parquet table; a
    scenario without an id is named by its position. InputError lists every issue of the file at once; with
    ``problem``, when there is any, also every scenario's issues against it (``reference_issues``: an unknown id
    beside a bad value)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        rows, text_ids = _table_rows(path), False
    elif suffix in (".toml", ".json"):
        rows, text_ids = _document_rows(path), True
    else:
        raise InputError([InputIssue(str(path), f"unknown scenario file type {suffix!r}; use .toml, .json, .csv "
                                     "or .parquet", "unknown_format")])
    if not rows:
        raise InputError([InputIssue(str(path), "lists no scenarios", "empty")])
    out: list[tuple[str, dict[str, Any]]] = []
    changes: list[tuple[int, dict[str, Any]]] = []  # (row, fields) of every row that is a table
    issues: list[list[InputIssue]] = [[] for _ in rows]  # per row
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        where = f"scenarios[{index}]"
        if not isinstance(row, dict):
            issues[index].append(InputIssue(where, f"{short(row)} is not a scenario: give a table of changes",
                                            "not_a_table"))
            continue
        ident = _ident(row.get("id"), index, text_ids)
        if ident is None:
            issues[index].append(InputIssue(f"{where}.id", f"{short(row.get('id'))} is not a scenario id (a "
                                            "string)", "not_a_string"))
            ident = str(index)
        elif first.setdefault(ident, index) != index:
            issues[index].append(InputIssue(f"{where}.id", f"duplicate scenario id {ident!r} (first at "
                                            f"scenarios[{first[ident]}])", "duplicate_id"))
        # an empty cell of a flat table means "no change"; in TOML or JSON a NaN is a value (and an error)
        fields = {key: value for key, value in row.items() if key != "id" and (text_ids or not _blank(value))}
        try:
            Scenario.parse(fields, where=where)
        except InputError as error:
            issues[index].extend(error.issues)
        out.append((ident, fields))
        changes.append((index, fields))
    if any(issues):
        if problem is not None:
            for index, fields in changes:
                issues[index] += reference_issues(fields, problem, f"scenarios[{index}]")
        raise InputError([issue for row in issues for issue in row])
    return out


def _document_rows(path: Path) -> list[Any]:
    data = read_document(path, "scenario file")
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise InputError([InputIssue(str(path), "expected a list of [[scenarios]] (a problem's stress scenarios "
                                     "are [[stress_scenarios]] in the problem file)", "not_a_list")])
    unknown = sorted(set(data) - {"scenarios"})
    if unknown:
        raise InputError([InputIssue(key, f"unknown field {key!r} (a scenario file holds only [[scenarios]])",
                                     "unknown_field") for key in unknown])
    return list(data["scenarios"])


def _table_rows(path: Path) -> list[Any]:
    """Rows of a flat table; ids are read as text (a CSV id ``007`` stays ``007``)."""
    import pyarrow as pa

    regular_file(path, "scenario file")
    try:
        if path.suffix.lower() == ".csv":  # text cells: a number is a cell that reads as one (CSV has no types)
            # only an empty cell is "no change": pandas' other NA spellings ("nan", "NULL", "#N/A", ...) stay text,
            # so a change written that way is refused, not dropped, and an id ``nan`` stays ``nan``
            rows = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False,
                               na_values=[""]).to_dict(orient="records")
            return [{key: value if key == "id" else _number(value) for key, value in row.items()} for row in rows]
        return pd.read_parquet(path).to_dict(orient="records")
    except OSError as error:
        raise InputError([InputIssue(str(path), f"cannot read the scenario file: {error.strerror or error}",
                                     "unreadable")]) from None
    except (ValueError, NotImplementedError, pa.ArrowException) as error:  # not UTF-8, not CSV, not Parquet
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError([InputIssue(str(path), f"cannot read scenarios: {reason}", "syntax")]) from None


def _number(cell: Any) -> Any:
    """A CSV cell that reads as a number, as that number; anything else as it is (validation reports it)."""
    if isinstance(cell, str) and NUMBER.fullmatch(cell.strip()):
        return float(cell)
    return cell


def _ident(value: Any, index: int, text_only: bool) -> str | None:
    """The scenario's id: a string (a table may also hold integers); missing: its position."""
    if value is None or _blank(value):
        return str(index)
    if isinstance(value, str):
        return value
    if not text_only and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not text_only and hasattr(value, "item") and isinstance(value.item(), int):  # numpy integer
        return str(value.item())
    return None


def _blank(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
