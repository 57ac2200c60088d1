"""Typed command-line options: every option a user gives is checked before anything is read or solved, and a bad
one is click's usage error (exit 2) naming the option: ``--time-limit`` positive and finite, ``--workers`` at
least 1, ``--solver``/``--fallback`` an installed solver (any case), a what-if table ``.parquet`` or ``.csv``.
And allocator's own deprecation warnings (an old field name in a file) shown as ``warning:`` lines."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click


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
        import cvxpy as cp

        installed = cp.installed_solvers()
        if str(value).upper() not in installed:
            self.fail(f"{value!r} is not an installed solver; installed: {', '.join(installed)}", param, ctx)
        return str(value).upper()


WORKERS = click.IntRange(min=1)


def table_path(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """A what-if table is written as .parquet or .csv; any other name is a usage error, before any solve."""
    if value.suffix.lower() not in (".parquet", ".csv"):
        raise click.BadParameter(f"{str(value)!r} does not end in .parquet or .csv", ctx, param)
    return value


@contextmanager
def user_warnings() -> Iterator[None]:
    """allocator's own deprecation warnings (an old field name in a file) shown as one ``warning:`` line each."""
    with warnings.catch_warnings():
        warnings.filterwarnings("default", category=DeprecationWarning, module=r"allocator(\.|$)")
        warnings.showwarning = lambda message, *_, **__: click.echo(f"warning: {message}", err=True)
        yield
