"""A click group whose commands are imported when they are used: ``allocator --help`` imports each command's
small module (for its one-line help) and nothing of the solver; ``allocator optimize`` imports one command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        with _one_line():  # the group's own options
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line():  # an unknown command, a command's arguments, options and their callbacks
            return super().invoke(ctx)


class _OneLineUsageError(click.UsageError):
    """A usage error shown as one ``error:`` line, ending with the command whose ``--help`` lists what is
    allowed; click's standalone handling (exit 2) is otherwise unchanged."""

    def show(self, file: Any = None) -> None:
        command = self.ctx.command_path if self.ctx is not None else "allocator"
        click.echo(f"error: {self.format_message()} ('{command} --help' lists what is allowed)", err=True)


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except (click.exceptions.NoArgsIsHelpError, _OneLineUsageError):
        raise  # the group's help when run with no command; an error already made one line
    except click.UsageError as error:
        raise _OneLineUsageError(error.format_message(), error.ctx) from None
