"""``allocator optimize PROBLEM``: the verified optimal allocation and its safe plan (exit 0, 2, 3, 4 or 5)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocator.cli.exits import EXIT_INFEASIBLE, EXIT_NEEDS_FUNDING, fail_input, fail_solver
from allocator.cli.options import Output, Seconds, SolverName, output_options, quiet_option, wide_option
from allocator.cli.output import deliver_document


@click.command("optimize")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@output_options("json", what="the result")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS; e.g. CLARABEL).")
@click.option("--time-limit", type=Seconds(), default=None, help="Seconds the solver may take per solve.")
@click.option("--fallback", type=SolverName(), default=None,
              help="A second solver to try if the first fails (recorded in the result).")
@quiet_option
@wide_option
def command(problem: Path, output: Output, solver: str | None, time_limit: float | None, fallback: str | None,
            quiet: bool, wide: bool) -> None:
    """Optimise PROBLEM (.toml or .json): print a summary and write the JSON result.

    Without -o or --json the result is written next to PROBLEM (PROBLEM with .result.json)."""
    from allocator.cli.result_view import outcome, result_tables, shortfall_table
    from allocator.cli.tables import show
    from allocator.errors import InfeasibleError, InputError, SolverError
    from allocator.io.loading import load_problem
    from allocator.solve._engine import optimize

    default = problem.with_suffix(".result.json")
    try:
        loaded = load_problem(problem)
        result = optimize(loaded, solver, time_limit=time_limit, fallback=fallback)
    except InputError as error:
        fail_input(error)
    except InfeasibleError as error:
        assert error.result is not None  # the single-period engine always writes its diagnosis as a Result
        written = deliver_document(output, error.result.to_json(), default)
        click.echo(f"infeasible: {error}", err=True)
        if not quiet and not output.to_stdout:
            show(shortfall_table(error.result))
        output.say(outcome(error.result, _where(written, output, "diagnosis")))
        sys.exit(EXIT_INFEASIBLE)
    except SolverError as error:
        fail_solver(error)
    written = deliver_document(output, result.to_json(), default)
    if not quiet and not output.to_stdout:
        show(*result_tables(result, wide))
    output.say(outcome(result, _where(written, output, "result")))
    if not result.plan_safe:
        click.echo("warning: no safe order exists for every transfer; see `funding` in the result", err=True)
        sys.exit(EXIT_NEEDS_FUNDING)


def _where(written: Path | None, output: Output, what: str) -> str:
    places = [f"written to {written}"] if written is not None else []
    if output.to_stdout:
        places.append("on standard output")
    return f"{what} " + " and ".join(places)
