"""``allocator example [NAME]``: the example problems shipped with the package, so a user with a plain install can
start (``allocator example desk > desk.toml``); exit 0, or 2 for an unknown name."""

from __future__ import annotations

import click

from allocator.cli.exits import fail_input
from allocator.cli.options import Output, output_options


@click.command("example")
@click.argument("name", required=False)
@output_options("toml", "json", what="the problem")
def command(name: str | None, output: Output) -> None:
    """Print the shipped example problem NAME (e.g. `allocator example desk > desk.toml`); without NAME, list them.

    The problem is TOML as shipped (with comments); -o NAME.json or --json writes it as JSON."""
    from allocator.errors import InputError
    from allocator.io.examples import example_names, example_problem, example_summary

    if name is None:
        if output.path is not None or output.to_stdout:
            from allocator.cli.output import deliver_document, dump

            listing = [{"name": known, "summary": example_summary(known)} for known in example_names()]
            if output.path is not None and output.format != "json":
                raise click.BadParameter("the list of examples is written as .json", param_hint="'-o' / '--output'")
            deliver_document(output, dump(listing) + "\n")
            return
        width = max(map(len, example_names()))
        for known in example_names():
            click.echo(f"{known:<{width}}  {example_summary(known)}")
        return
    try:
        text = example_problem(name)
    except InputError as error:
        fail_input(error)
    if output.path is None and not output.to_stdout:  # the default: the TOML text on standard output
        click.echo(text, nl=False)
        return
    from allocator.cli.output import deliver_text

    written = deliver_text(output, text, json_text=lambda: _as_json(text))
    if written is not None:
        output.say(f"example {name} written to {written}")


def _as_json(text: str) -> str:
    """The TOML problem as a JSON problem file (dates as ISO strings; comments are lost)."""
    import tomllib

    from allocator.cli.output import dump

    return dump(tomllib.loads(text)) + "\n"
