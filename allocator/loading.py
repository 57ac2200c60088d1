"""Reading problem files: TOML or JSON, the same structure."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from allocator.errors import InputError, InputIssue
from allocator.problem import Problem


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file (``.toml`` or ``.json``). Raises InputError on any issue."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError([InputIssue(str(path), f"cannot read the file: {error.strerror}", "unreadable")]) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise InputError([InputIssue(str(path), f"unknown file type {suffix!r}; use .toml or .json",
                                         "unknown_format")])
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise InputError([InputIssue(str(path), f"not valid {suffix[1:].upper()}: {error}", "syntax")]) from None
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
