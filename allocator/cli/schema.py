"""``allocator schema [problem|scenario|batch|rulebook]``: the JSON Schema of a file allocator reads, generated
from the pydantic models that validate it (so it cannot drift from them); exit 0, or 2 for an unknown kind."""

from __future__ import annotations

import click

from allocator.cli.options import Output, output_options

KINDS = ("problem", "scenario", "batch", "rulebook")


@click.command("schema")
@click.argument("kind", type=click.Choice(KINDS), default="problem")
@output_options("json", what="the schema", stdout="json")
def command(kind: str, output: Output) -> None:
    """Print the JSON Schema of a problem file (default), a scenario file, a batch spec or a venue rulebook."""
    from allocator.cli.output import deliver_text, dump
    from allocator.cli.schemas import schema

    text = dump(schema(kind)) + "\n"
    if output.path is None and not output.to_stdout:  # the default: the schema on standard output
        click.echo(text, nl=False)
        return
    written = deliver_text(output, text)
    if written is not None:
        output.say(f"{kind} schema written to {written}")
