"""What the single-module ``allocator/cli.py`` offered to code around it, kept for one release so that command
modules written against it (``from allocator.cli import main, _fail_input, _write, summary``) fold in unchanged:
``allocator.cli`` resolves these names here on first use. New code uses exits.py, output.py and tables.py."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from allocator.cli.output import write_atomically

if TYPE_CHECKING:
    import pandas as pd

    from allocator.results.result import Result


def write_result(path: Path, result: Result) -> None:
    """The old ``_write``: the JSON result, atomically; a path that cannot be written exits 2."""
    text = result.to_json()
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_table(path: Path, table: pd.DataFrame) -> None:
    """The old ``_write_table``: CSV for ``.csv``, Parquet otherwise, atomically."""
    if path.suffix.lower() == ".csv":
        write_atomically(path, lambda temporary: table.to_csv(temporary, index=False))
    else:
        write_atomically(path, lambda temporary: table.to_parquet(temporary, index=False))


def summary(result: Result, wide: bool = False) -> str:
    """The old ``summary``: what ``allocator optimize`` prints for an optimal result, as plain text."""
    from rich.console import Console

    from allocator.cli.result_view import result_tables

    buffer = io.StringIO()
    console = Console(file=buffer, width=120, color_system=None, markup=False, highlight=False)
    for part in result_tables(result, wide):
        console.print(part if isinstance(part, str) else part.render(120))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
