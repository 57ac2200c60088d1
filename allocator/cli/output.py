"""Writing a command's machine-readable result where ``Output`` says (options.py): a file, written atomically
(a temporary file renamed into place), and/or standard output. A file that cannot be written is a usage error
(exit 2, one line)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from allocator.cli.exits import fail_usage
from allocator.cli.options import Output

if TYPE_CHECKING:
    import pandas as pd


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write(temporary)`` then rename it onto ``path``; OSError is a one-line usage error (exit 2)."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        write(temporary)
        temporary.replace(path)
    except OSError as error:
        if temporary.parent.is_dir():
            temporary.unlink(missing_ok=True)
        fail_usage(f"cannot write {path}: {error.strerror or error}")


def deliver_text(output: Output, text: str, json_text: Callable[[], str] | None = None,
                 default: Path | None = None) -> Path | None:
    """A text result (JSON, TOML): to ``output.path`` (or ``default`` when the result is not asked for on standard
    output), and to standard output as ``-o -`` or ``--json`` asked. Returns the file written, if any."""
    path = output.path or (None if output.to_stdout else default)
    if path is not None:
        body = json_text() if json_text is not None and path.suffix.lower() == ".json" else text
        write_atomically(path, lambda temporary: temporary.write_text(body, encoding="utf-8"))
    if output.stdout_format is not None:
        body = json_text() if json_text is not None and output.stdout_format == "json" else text
        click.echo(body, nl=not body.endswith("\n"))
    return path


def deliver_document(output: Output, json_text: str, default: Path | None = None) -> Path | None:
    """A JSON document (a result): see :func:`deliver_text`."""
    return deliver_text(output, json_text, default=default)


def deliver_table(output: Output, frame: pd.DataFrame) -> Path | None:
    """A table: ``.parquet``, ``.csv`` or ``.json`` (a list of records, missing values as null) by the file's
    extension; on standard output CSV (``-o -``) or JSON (``--json``)."""
    if output.path is not None:
        fmt = output.format
        write_atomically(output.path, lambda temporary: _write_frame(frame, temporary, fmt))
    if output.stdout_format == "json":
        click.echo(records_json(frame))
    elif output.stdout_format is not None:
        sys.stdout.write(frame.to_csv(index=False))
        sys.stdout.flush()
    return output.path


def records_json(frame: pd.DataFrame) -> str:
    """The rows as a JSON list of objects, numbers exact (shortest repr); NaN and missing values as null."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return json.dumps(rows, indent=2, default=_plain)


def _plain(value: Any) -> Any:
    """numpy scalars and timestamps as JSON values."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "json":
        path.write_text(records_json(frame) + "\n", encoding="utf-8")
    else:
        frame.to_parquet(path, index=False)


def dump(value: Any) -> str:
    """JSON for a plain value (dates as ISO strings)."""
    return json.dumps(value, indent=2, default=str)
