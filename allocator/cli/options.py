"""Typed command-line options, and the output convention every command shares.

Every option a user gives is checked before anything is read or solved, and a bad one is click's usage error
(exit 2) naming the option: ``--time-limit`` positive and finite, ``--workers`` at least 1, ``--solver`` and
``--fallback`` an installed solver (any case), ``-o`` a name ending in a format the command writes.

The output convention (docs/cli.md): ``-o/--output PATH`` writes the machine-readable result to PATH in the format
its extension names (``.json``, ``.csv``, ``.parquet``; ``.toml`` for ``example``), ``-o -`` writes it to standard
output; ``--json`` prints it as JSON on standard output. Whenever the result goes to standard output, nothing else
does: the outcome line and every message go to standard error. ``--out`` (``transition``'s old spelling) is a
hidden alias for one release. And allocator's own deprecation warnings (an old field name in a file) are shown as
``warning:`` lines.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
STDOUT = "-"


class Seconds(click.ParamType):
    """A positive, finite number of seconds (``--time-limit``): -1, 0, nan and inf are usage errors."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (math.isfinite(seconds) and seconds > 0):
            self.fail(f"{value!r} is not a positive, finite number of seconds", param, ctx)
        return seconds


class SolverName(click.ParamType):
    """The name of an installed cvxpy solver, any case (``--solver``, ``--fallback``); returned upper-case."""

    name = "solver"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        import cvxpy as cp  # deferred: only a command given --solver pays for it before its solve

        installed = cp.installed_solvers()
        if str(value).upper() not in installed:
            self.fail(f"{value!r} is not an installed solver; installed: {', '.join(installed)}", param, ctx)
        return str(value).upper()


WORKERS = click.IntRange(min=1)

wide_option = click.option("--wide", is_flag=True, help="Show every column (default: the ones a person needs).")
quiet_option = click.option("--quiet", is_flag=True, help="Print only the one-line outcome.")


@dataclass(frozen=True)
class Output:
    """Where a command's machine-readable result goes: ``path`` (a file, or None) in ``format``, and/or standard
    output (``stdout_format``: ``-o -`` in the command's first format, ``--json`` in JSON; None: not there)."""

    path: Path | None
    format: str
    stdout_format: str | None

    @property
    def to_stdout(self) -> bool:
        """The result goes to standard output, so every message must go to standard error."""
        return self.stdout_format is not None

    def say(self, line: str) -> None:
        """A human line: on standard output, or on standard error when the result is there."""
        click.echo(line, err=self.to_stdout)


def output_options(*formats: str, what: str, stdout: str | None = None) -> Callable[[F], F]:
    """``-o/--output PATH`` (``-``: standard output), ``--json`` and the hidden ``--out``; the command receives
    ``output: Output``. ``formats`` are the extensions it writes; ``-o -`` writes ``stdout`` (default: the first);
    ``what`` names the result in the help (``the JSON result``)."""
    names = _listed(formats)
    dash = stdout or formats[0]

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def command(*args: Any, output_path: str | None, output_alias: str | None, as_json: bool,
                    **kwargs: Any) -> Any:
            return function(*args, output=_resolve(output_path, output_alias, as_json, formats, dash), **kwargs)

        options = [
            click.option("-o", "--output", "output_path", metavar="PATH",
                         help=f"Write {what} here ({names}; '-': {dash} on standard output)."),
            click.option("--out", "output_alias", hidden=True, help="Old spelling of --output (one release)."),
            click.option("--json", "as_json", is_flag=True,
                         help=f"Print {what} as JSON on standard output (messages go to standard error)."),
        ]
        for option in reversed(options):
            command = option(command)
        return command  # type: ignore[return-value]

    return decorate


def _listed(formats: tuple[str, ...]) -> str:
    names = [f".{f}" for f in formats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def _resolve(path: str | None, alias: str | None, as_json: bool, formats: tuple[str, ...], dash: str) -> Output:
    ctx = click.get_current_context()
    if alias is not None:
        if path is not None:
            raise click.UsageError("--out is the old spelling of -o/--output: give one", ctx)
        click.echo("warning: --out is deprecated: use -o/--output (--out goes in a later release)", err=True)
        path = alias
    if path == STDOUT:
        if as_json:
            raise click.UsageError("-o - and --json both write to standard output: give one", ctx)
        return Output(None, dash, dash)
    target = None if path is None else Path(path)
    if target is not None:
        suffix = target.suffix.lower().lstrip(".")
        if suffix not in formats:
            raise click.BadParameter(f"{path!r} does not end in {_listed(formats)}", ctx,
                                     param_hint="'-o' / '--output'")
    return Output(target, target.suffix.lower().lstrip(".") if target else formats[0], "json" if as_json else None)


@contextmanager
def user_warnings() -> Iterator[None]:
    """allocator's own deprecation warnings (an old field name in a file) shown as one ``warning:`` line each."""
    with warnings.catch_warnings():
        warnings.filterwarnings("default", category=DeprecationWarning, module=r"allocator(\.|$)")
        warnings.showwarning = lambda message, *_, **__: click.echo(f"warning: {message}", err=True)
        yield
