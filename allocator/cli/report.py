"""``allocator report RESULT.json -o report.html``: the self-contained HTML report of a result (docs/report.md).

RESULT is what ``allocator optimize``, ``allocator transition``, ``allocator hedges`` or ``allocator stress`` wrote
as JSON (which one is read off its fields; an infeasible result's diagnosis is reported too), the directory
``allocator backtest -o DIR`` wrote (or a backtest's ``to_json``), or a table on its own:
a margin-mode comparison (``allocator modes -o modes.json``, also .csv or .parquet) or a what-if or frontier table.
``--whatif TABLE`` adds a what-if or frontier table (.parquet, .csv or .json, from ``allocator whatif`` or
``frontier(...)``), repeatable. ``--currency`` labels a table's amounts (a table file does not carry its currency;
tables added to a result take the result's). Exit codes: 0 written; 2 bad input or usage (an unreadable or
malformed file, an output that cannot be written), one line per error and no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_INPUT = 2  # as in allocator/cli/exits.py


@click.command("report")
@click.argument("result", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write the report here (default: RESULT with .html, beside a backtest's directory; - for "
                   "standard output).")
@click.option("--whatif", "tables", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Add a what-if or frontier table (.parquet, .csv or .json); may be given more than once.")
@click.option("--title", default=None, help="The page's title (default: what it reports).")
@click.option("--currency", default="", help="The currency of a table's amounts when RESULT is a table (modes, "
                                             "what-if); a result JSON carries its own.")
def report_command(result: Path, output: Path | None, tables: tuple[Path, ...], title: str | None,
                   currency: str) -> None:
    """Write the HTML report of RESULT: a result, transition result or stress report JSON, a backtest's output
    directory, or a margin-mode or what-if table (.json, .csv, .parquet). One file that opens offline, charts
    included."""
    from allocator.errors import InputError
    from allocator.report import read_result, read_table, to_html

    try:
        loaded = read_result(result, currency)
        extra = [read_table(path, currency=loaded.currency or currency) for path in tables]
    except InputError as error:
        for issue in error.issues:
            click.echo(f"error: {issue}", err=True)
        sys.exit(EXIT_INPUT)
    html = to_html(loaded, *extra, title=title)
    if output is not None and str(output) == "-":
        click.echo(html, nl=False)
        return
    default = result.with_name(result.name + ".html") if result.is_dir() else result.with_suffix(".html")
    output = output or default
    temporary = output.with_name(output.name + ".tmp")
    try:
        temporary.write_text(html, encoding="utf-8")
        temporary.replace(output)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        click.echo(f"error: cannot write the report to {output}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"report written to {output} ({len(html.encode('utf-8')) / 1e6:.1f} MB)")
