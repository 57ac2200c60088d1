"""A click group whose commands are imported when they are used: ``allocator --help`` imports each command's
small module (for its one-line help) and nothing of the solver; ``allocator optimize`` imports one command."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any

import click


class LazyGroup(click.Group):
    """``commands`` maps a name to ``"module:attribute"`` of a click command (default attribute ``command``),
    imported on first use; commands added the usual way (``@main.command``) work too. Listed in the mapping's
    order, then any others.

    A usage error (a bad option value, a missing argument, an unknown command) is one ``error:`` line on standard
    error and exit 2, as every other input error of the CLI (docs/cli.md), not click's usage block; running the
    group with no command still prints its help."""

    def __init__(self, *args: object, lazy: dict[str, str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(name for name in super().list_commands(ctx) if name not in self.lazy)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, _, attribute = self.lazy[name].partition(":")
            command = getattr(import_module(module), attribute or "command")
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[name]} is not a click command")
            self.commands[name] = command
        return super().get_command(ctx, name)


    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            return super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()  # the help, as click prints it
            sys.exit(error.exit_code)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx is not None else self.name
            click.echo(f"error: {error.format_message()} ('{command} --help' lists what is allowed)", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:  # click's other errors (a file it could not open): as click shows them
            error.show()
            sys.exit(error.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
