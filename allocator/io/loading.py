"""Reading problem files: TOML or JSON, the same structure (documents.py turns any fault of the file itself into a
located InputError; problem.py validates the content)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocator.errors import InputError, InputIssue
from allocator.inputs.problem import Problem
from allocator.io.documents import read_document


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file (``.toml`` or ``.json``). Raises InputError on any issue."""
    path = Path(path)
    data = read_document(path, "problem file")
    if not isinstance(data, dict):
        raise InputError([InputIssue(str(path), "the top level must be a table/object", "not_a_table")])
    _resolve_history(data, path.parent)
    return Problem.model_validate(data)


def _resolve_history(data: dict[str, Any], directory: Path) -> None:
    """Price history files are named relative to the problem file; make them absolute (in place)."""
    market = data.get("market")
    if not isinstance(market, dict):
        return
    history = market.get("history")
    if isinstance(history, dict):
        market["history"] = {asset: str(directory / file) if isinstance(file, str) else file
                             for asset, file in history.items()}
