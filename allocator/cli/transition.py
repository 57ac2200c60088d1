"""``allocator transition PROBLEM``: the multi-period plan with trades, delays and capacities (exit 0, 2, 3, 5
or 6)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from allocator.cli.exits import EXIT_FEASIBLE, failures
from allocator.cli.options import Output, Seconds, SolverName, output_options, quiet_option, wide_option
from allocator.cli.output import deliver_document


@click.command("transition")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@output_options("json", what="the transition result")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy conic solver (default CLARABEL).")
@click.option("--integer", is_flag=True, help="Meet max_moves / min_move_value by a mixed-integer program.")
@click.option("--heuristic", is_flag=True,
              help="Meet max_moves / min_move_value by drop-fix-re-solve (the default when the problem has them).")
@click.option("--time-limit", type=Seconds(), default=None, help="Seconds the MILP may take (default 30).")
@quiet_option
@wide_option
def command(problem: Path, output: Output, solver: str | None, integer: bool, heuristic: bool,
            time_limit: float | None, quiet: bool, wide: bool) -> None:
    """Plan the multi-period transition of PROBLEM (needs [schedule]; docs/transition.md).

    Without -o or --json the result is written next to PROBLEM (PROBLEM with .transition.json). On a terminal
    the MILP's progress (incumbent, bound, gap) is shown on standard error (not with --quiet)."""
    if integer and heuristic:
        raise click.UsageError("--integer and --heuristic are two ways to meet the move limits; give one")
    from allocator.cli.progress import logged_status
    from allocator.cli.tables import show
    from allocator.cli.transition_view import outcome, transition_tables
    from allocator.io.loading import load_problem
    from allocator.transition import plan_transition
    from allocator.transition._milp_log import LOGGER

    with failures():
        loaded = load_problem(problem)
        with nullcontext() if quiet else logged_status("transition", LOGGER):
            result = plan_transition(loaded, solver=solver, integer=integer, heuristic=heuristic,
                                     time_limit=time_limit)
    written = deliver_document(output, result.to_json(), problem.with_suffix(".transition.json"))
    if not quiet and not output.to_stdout:
        show(*transition_tables(result, wide))
    where = " and ".join([*([f"written to {written}"] if written else []),
                          *(["on standard output"] if output.to_stdout else [])])
    output.say(outcome(result, f"result {where}"))
    if result.status != "optimal":
        click.echo(f"warning: {result.diagnostics.status}: the plan meets every constraint but is not proven "
                   "optimal", err=True)
        sys.exit(EXIT_FEASIBLE)
