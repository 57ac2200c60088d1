"""Exit codes and the one-line failures every command shares (the table is in docs/cli.md, tested per command).

| code | meaning |
|---|---|
| 0 | done: optimal and safe, valid, written |
| 1 | aborted (Ctrl-C) or an unexpected error (a bug: the traceback is printed) |
| 2 | bad input or usage: one ``error:`` line per located issue, nothing solved or written |
| 3 | infeasible: the diagnosis (shortfall per account) is written |
| 4 | optimal, but the plan needs temporary funding (no safe order exists) |
| 5 | solver failure: no trustworthy optimum |
| 6 | a feasible plan not proven optimal (``transition``: a MILP stopped at a limit, or the heuristic) |
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from allocator.errors import InputError, SolverError

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NEEDS_FUNDING, EXIT_SOLVER, EXIT_FEASIBLE = 0, 2, 3, 4, 5, 6


def fail_input(error: InputError) -> NoReturn:
    """One ``error:`` line per located issue on stderr, no traceback, exit 2."""
    for issue in error.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(EXIT_INPUT)


def fail_usage(message: str) -> NoReturn:
    """A file that cannot be written and the like: one ``error:`` line, exit 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_INPUT)


def fail_solver(error: SolverError) -> NoReturn:
    click.echo(f"solver error: {error}", err=True)
    sys.exit(EXIT_SOLVER)


@contextmanager
def failures() -> Iterator[None]:
    """The library's errors as exits: bad input 2 (``fail_input``), infeasible 3 (one ``infeasible:`` line),
    solver failure 5 (``fail_solver``). A command that writes a diagnosis on infeasibility (``optimize``) catches
    InfeasibleError itself, inside this block."""
    from allocator.errors import InfeasibleError, InputError, SolverError

    try:
        yield
    except InputError as error:
        fail_input(error)
    except InfeasibleError as error:
        click.echo(f"infeasible: {error}", err=True)
        sys.exit(EXIT_INFEASIBLE)
    except SolverError as error:
        fail_solver(error)
