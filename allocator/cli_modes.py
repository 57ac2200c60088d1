"""``allocator modes PROBLEM`` (margin modes side by side, docs/margin-modes.md) and ``allocator hedges PROBLEM``
(the hedges' trades, delta and saving, docs/hedging.md). Registered on the main group at the end of cli.py.

Exit codes as for ``optimize``: 0 done; 2 bad input or usage (one line per error); 3 (``hedges``) the hedged
problem is infeasible; 5 solver failure.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
import pandas as pd

from allocator.cli_options import SolverName, table_path
from allocator.errors import InfeasibleError, InputError, SolverError
from allocator.io.loading import load_problem

EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 2, 3, 5


def _table_or_none(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A table is written as .parquet or .csv (a usage error otherwise, before anything is solved)."""
    return None if value is None else table_path(ctx, param, value)


@click.command("modes")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by-account", is_flag=True, help="One row per mode and account instead of per mode.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=_table_or_none,
              help="Also write the table here (.csv or .parquet).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
def modes(problem: Path, by_account: bool, output: Path | None, solver: str | None) -> None:
    """Solve PROBLEM with its accounts in isolated, cross and portfolio margin; print the modes side by side."""
    from allocator.analysis.modes import compare_modes

    try:
        table = compare_modes(load_problem(problem), by_account=by_account, solver=solver)
    except InputError as error:
        _fail_input(error)
    except SolverError as error:
        _fail_solver(error)
    if by_account:
        click.echo(_show(table))
    else:
        click.echo(_show(table.drop(columns=["in_mode", "kept"])))
        click.echo("\naccounts in each mode (the others keep theirs):")
        for mode, row in table.iterrows():
            click.echo(f"  {mode}: {row['in_mode'] or 'none'}" + (f"; kept: {row['kept']}" if row["kept"] else ""))
    if output is not None:
        _write_table(output, table.reset_index())
        click.echo(f"written to {output}")


@click.command("hedges")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the hedged result as JSON here (with its hedge_saving).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
def hedges(problem: Path, output: Path | None, solver: str | None) -> None:
    """Solve PROBLEM with and without its [[hedges]]: print the hedge trades, delta before and after, and the
    saving against the unhedged optimum."""
    from allocator.analysis.hedging import hedge_savings

    try:
        savings = hedge_savings(load_problem(problem), solver)
    except InputError as error:
        _fail_input(error)
    except InfeasibleError as error:
        click.echo(f"infeasible: {error}", err=True)
        sys.exit(EXIT_INFEASIBLE)
    except SolverError as error:
        _fail_solver(error)
    result, money = savings.hedged, savings.hedged.currency
    lines = ["hedge trades:", _show(result.hedges_frame) if result.hedges else "  none (no hedge pays)", "",
             "delta (currency per unit return):", _show(result.deltas_frame), "",
             f"with and without the hedges ({money} over the horizon):", _show(savings.frame)]
    if savings.saving is None:
        lines.append("without its hedges the problem is infeasible: the hedges are what makes it feasible")
    click.echo("\n".join(lines))
    if output is not None:
        try:
            output.write_text(result.to_json(), encoding="utf-8")
        except OSError as error:
            click.echo(f"error: cannot write {output}: {error.strerror}", err=True)
            sys.exit(EXIT_INPUT)
        click.echo(f"result written to {output}")


def _show(frame: pd.DataFrame) -> str:
    return frame.to_string(float_format=lambda x: f"{x:,.6g}" if abs(x) < 1 else f"{x:,.2f}")


def _fail_input(error: InputError) -> NoReturn:
    for issue in error.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(EXIT_INPUT)


def _fail_solver(error: SolverError) -> NoReturn:
    click.echo(f"solver error: {error}", err=True)
    sys.exit(EXIT_SOLVER)


def _write_table(path: Path, table: pd.DataFrame) -> None:
    try:
        if path.suffix.lower() == ".csv":
            table.to_csv(path, index=False)
        else:
            table.to_parquet(path, index=False)
    except OSError as error:
        click.echo(f"error: cannot write {path}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)
