"""A click group whose commands are imported when they are used: ``allocator --help`` imports each command's
small module (for its one-line help) and nothing of the solver; ``allocator optimize`` imports one command."""

from __future__ import annotations

from importlib import import_module

import click


class LazyGroup(click.Group):
    """``commands`` maps a name to ``"module:attribute"`` of a click command (default attribute ``command``),
    imported on first use; commands added the usual way (``@main.command``) work too. Listed in the mapping's
    order, then any others."""

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
