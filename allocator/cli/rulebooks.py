"""``allocator rulebooks``: the venue rulebooks available (shipped in models/ and in the folders of
``ALLOCATOR_RULEBOOKS``), each with its venue, kind, the date its parameters were in force (``parameters_as_of``)
and the date they were last checked against the sources (``reviewed``); exit 0, or 2 when a file is invalid (the
valid ones are still listed)."""

from __future__ import annotations

import sys

import click

from allocator.cli.exits import EXIT_INPUT
from allocator.cli.options import Output, output_options, wide_option
from allocator.cli.tables import Column

COLUMNS = (Column("name", "name"), Column("venue", "venue"), Column("kind", "kind", wide=True),
           Column("parameters_as_of", "parameters as of", "date"), Column("reviewed", "reviewed", "date"),
           Column("sources", "sources", "count", wide=True), Column("path", "file", wide=True))


@click.command("rulebooks")
@output_options("json", "csv", "parquet", what="the list", stdout="csv")
@wide_option
def command(output: Output, wide: bool) -> None:
    """List the venue rulebooks with their venue, parameters' as-of date and review date (docs/rulebooks.md)."""
    from allocator.errors import InputError, InputIssue
    from allocator.venues.rulebooks.loader import available_rulebooks, load_rulebook

    rows: list[dict[str, object]] = []
    failed: list[InputIssue] = []
    try:
        names = available_rulebooks()
    except InputError as error:  # a folder of ALLOCATOR_RULEBOOKS that is not a folder
        failed.extend(error.issues)
        names = ()
    for name in names:
        try:
            book = load_rulebook(name)
        except InputError as error:
            failed.extend(error.issues)
            continue
        rows.append({"name": book.name, "venue": book.venue, "kind": book.kind,
                     "parameters_as_of": book.parameters_as_of.isoformat(), "reviewed": book.reviewed.isoformat(),
                     "sources": len(book.sources), "path": book.path})
    if output.path is not None or output.to_stdout:
        import pandas as pd

        from allocator.cli.output import deliver_table

        deliver_table(output, pd.DataFrame(rows, columns=[c.key for c in COLUMNS]))
    else:
        from allocator.cli.tables import show, table

        show(table("venue rulebooks", COLUMNS, rows, wide))
    for issue in failed:
        click.echo(f"error: {issue}", err=True)
    where = f"; written to {output.path}" if output.path is not None else ""
    output.say(f"{len(rows)} rulebooks" + (f", {len(failed)} issues in invalid files" if failed else "") + where)
    if failed:
        sys.exit(EXIT_INPUT)
