"""The command line (``allocator``, or ``python -m allocator.cli``): one small module per command.

Every command follows docs/cli.md: ``-o/--output PATH`` (``-`` for standard output, the format from the
extension), ``--json`` (the result as JSON on standard output, messages on standard error), tables that fit the
terminal (``--wide`` for every column), an outcome line even with ``--quiet``, progress on standard error only on
a terminal, and the exit codes of exits.py: 0 done; 2 bad input or usage; 3 infeasible; 4 optimal but the plan
needs temporary funding; 5 solver failure; 6 a feasible plan not proven optimal (``transition``).

A new command is a module with a click command named ``command`` (or any name given after the colon), and one
line in ``COMMANDS`` below (docs/architecture.md, "Where a new piece goes"). Nothing heavy is imported at module
level: ``allocator --help`` and ``allocator validate`` stay well under a second.
"""

from __future__ import annotations

from importlib import import_module

import click

from allocator.cli.exits import EXIT_FEASIBLE, EXIT_INFEASIBLE, EXIT_INPUT, EXIT_NEEDS_FUNDING, EXIT_OK, EXIT_SOLVER
from allocator.cli.group import LazyGroup
from allocator.cli.options import user_warnings

#: Every command, in the order ``allocator --help`` lists them: name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "optimize": "allocator.cli.optimize:command",
    "transition": "allocator.cli.transition:command",
    "whatif": "allocator.cli.whatif:command",
    "batch": "allocator.cli.batch:command",
    "validate": "allocator.cli.validate:command",
    "schema": "allocator.cli.schema:command",
    "rulebooks": "allocator.cli.rulebooks:command",
    "example": "allocator.cli.example:command",
    "report": "allocator.cli.report:report_command",
    "stress": "allocator.cli.stress:stress_command",
    "modes": "allocator.cli.modes:modes",
    "hedges": "allocator.cli.modes:hedges",
    "backtest": "allocator.cli.backtest:command",
    "rebalance": "allocator.cli.rebalance:command",
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="allocator")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Decide where a treasury's collateral should sit, and how to get it there safely.

    Exit codes (every command): 0 done, 2 bad input or usage, 3 infeasible, 4 optimal but the plan needs
    temporary funding, 5 solver failure, 6 feasible but not proven optimal. See docs/cli.md."""
    ctx.with_resource(user_warnings())


#: Names the single-module cli.py offered (compat.py), resolved on first use for one release.
_COMPAT = {"_fail_input": "allocator.cli.exits:fail_input", "_fail_solver": "allocator.cli.exits:fail_solver",
           "_write": "allocator.cli.compat:write_result", "_write_table": "allocator.cli.compat:write_table",
           "summary": "allocator.cli.compat:summary"}


def __getattr__(name: str) -> object:
    if name not in _COMPAT:
        raise AttributeError(f"module 'allocator.cli' has no attribute {name!r}")
    module, _, attribute = _COMPAT[name].partition(":")
    return getattr(import_module(module), attribute)


__all__ = ["COMMANDS", "EXIT_FEASIBLE", "EXIT_INFEASIBLE", "EXIT_INPUT", "EXIT_NEEDS_FUNDING", "EXIT_OK",
           "EXIT_SOLVER", "main"]
