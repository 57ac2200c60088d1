"""``allocator validate PROBLEM``: read and check a problem file, solve nothing (exit 0 valid, 2 not).

Every located issue is reported at once, one ``error:`` line each (the same checks as every other command runs
before its solve: types, ranges, cross-field checks, rulebooks, price histories). Loads no solver: it answers in
a fraction of a second (docs/performance.md, command line)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from allocator.cli.exits import EXIT_INPUT
from allocator.cli.options import Output, output_options


@click.command("validate")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@output_options("json", what="the verdict ({valid, issues})")
def command(problem: Path, output: Output) -> None:
    """Check PROBLEM (.toml or .json) without solving it: 'valid', or every located error (exit 2)."""
    from allocator.lazy import defer_numpy

    defer_numpy()  # a single-threaded check: numpy only if a check needs it (allocator/lazy.py)
    # pydantic looks for plugins by reading every installed distribution's entry points when it builds its first
    # model (about 35 ms); this command's own process turns that off unless the user set the variable (docs/cli.md)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from allocator.cli.output import deliver_document, dump
    from allocator.errors import InputError
    from allocator.io.loading import load_problem

    try:
        loaded = load_problem(problem)
    except InputError as error:
        issues = [{"location": i.location, "message": i.message, "code": i.code} for i in error.issues]
        deliver_document(output, dump({"valid": False, "problem": str(problem), "issues": issues}))
        for issue in error.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo(f"invalid: {problem}: {len(issues)} issue{'s' if len(issues) != 1 else ''}", err=True)
        sys.exit(EXIT_INPUT)
    deliver_document(output, dump({"valid": True, "problem": str(problem), "issues": []}))
    output.say(f"valid: {problem} ({len(loaded.assets)} assets, {len(loaded.accounts)} accounts, "
               f"{len(loaded.holdings)} holdings)")
