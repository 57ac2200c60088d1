"""The command line: ``allocator optimize PROBLEM [-o RESULT.json] [--solver NAME]``.

Exit codes: 0 optimal (plan safe); 4 optimal but the plan needs temporary funding; 3 infeasible (diagnosis
written); 2 bad input or usage; 5 solver failure. Errors are printed one line each, never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from allocator.engine import optimize
from allocator.errors import InfeasibleError, InputError, SolverError
from allocator.loading import load_problem
from allocator.result import Result

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NEEDS_FUNDING, EXIT_SOLVER = 0, 2, 3, 4, 5


@click.group()
@click.version_option(package_name="allocator")
def main() -> None:
    """Decide where a treasury's collateral should sit, and how to get it there safely."""


@main.command("optimize")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result as JSON here (default: PROBLEM with .result.json).")
@click.option("--solver", default=None, help="cvxpy solver name (default HIGHS; e.g. CLARABEL).")
@click.option("--time-limit", type=float, default=None, help="Seconds the solver may take per solve.")
@click.option("--quiet", is_flag=True, help="Print only the one-line outcome.")
def optimize_command(problem: Path, output: Path | None, solver: str | None, time_limit: float | None,
                     quiet: bool) -> None:
    """Optimise PROBLEM (.toml or .json): print a summary and write the JSON result."""
    output = output or problem.with_suffix(".result.json")
    try:
        loaded = load_problem(problem)
        result = optimize(loaded, solver, time_limit=time_limit)
    except InputError as error:
        for issue in error.issues:
            click.echo(f"error: {issue}", err=True)
        sys.exit(EXIT_INPUT)
    except InfeasibleError as error:
        _write(output, error.result)
        click.echo(f"infeasible: {error}", err=True)
        if not quiet:
            click.echo(error.result.shortfalls_frame.to_string(index=False))
        click.echo(f"diagnosis written to {output}")
        sys.exit(EXIT_INFEASIBLE)
    except SolverError as error:
        click.echo(f"solver error: {error}", err=True)
        sys.exit(EXIT_SOLVER)
    _write(output, result)
    if not quiet:
        click.echo(summary(result))
    click.echo(f"result written to {output}")
    if not result.plan_safe:
        click.echo("warning: no safe order exists for every transfer; see `funding` in the result", err=True)
        sys.exit(EXIT_NEEDS_FUNDING)


def _write(path: Path, result: Result) -> None:
    """Write atomically (a temporary file renamed into place); a path that cannot be written is a usage error."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(result.to_json(), encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        click.echo(f"error: cannot write the result to {path}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)


def summary(result: Result) -> str:
    """A readable account of a result: coverage per account, cost, and the plan."""
    assert result.objective is not None
    money = result.currency
    accounts = result.accounts_frame[["requirement", "required", "initial_collateral", "collateral",
                                      "excess", "shadow_price"]]
    lines = [f"status: {result.status} (solver {result.diagnostics.solver}, "
             f"{result.diagnostics.total_seconds:.3f} s)",
             f"capital cost over the horizon: {result.objective.total:,.2f} {money} "
             f"(carry {result.objective.carry:,.2f}, transfers {result.objective.transfer:,.2f})",
             "", "accounts (haircut-adjusted collateral):", _table(accounts), ""]
    if result.plan:
        plan = result.plan_frame[["asset", "from", "to", "quantity", "value", "cost", "needs_funding"]]
        lines += [f"plan: {len(result.plan)} transfers ({'safe order' if result.plan_safe else 'NEEDS FUNDING'})",
                  _table(plan)]
        if result.funding:
            lines += ["temporary funding needed:", _table(pd.DataFrame([f.model_dump() for f in result.funding]))]
    else:
        lines.append("plan: nothing to move")
    return "\n".join(lines)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(float_format=lambda x: f"{x:,.6g}" if abs(x) < 1 else f"{x:,.2f}")


if __name__ == "__main__":  # pragma: no cover
    main()
