"""``allocator modes PROBLEM`` (the capital cost of each margin mode, docs/margin-modes.md) and ``allocator hedges
PROBLEM`` (the hedge trades and what they save, docs/hedging.md). Exit codes: 0 done; 2 bad input or usage; 3
infeasible (``hedges``: with its hedges); 5 solver failure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from allocator.cli.exits import failures
from allocator.cli.options import Output, SolverName, output_options

if TYPE_CHECKING:
    import pandas as pd


@click.command("modes")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by-account", is_flag=True, help="One row per mode and account instead of per mode.")
@output_options("csv", "parquet", "json", what="the comparison table", stdout="csv")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
def modes(problem: Path, by_account: bool, output: Output, solver: str | None) -> None:
    """The optimal capital cost, requirement and collateral of PROBLEM with its accounts in isolated, cross and
    portfolio margin, side by side (docs/margin-modes.md)."""
    from allocator.analysis.modes import compare_modes
    from allocator.cli.output import deliver_table
    from allocator.io.loading import load_problem

    with failures():
        table = compare_modes(load_problem(problem), by_account=by_account, solver=solver)
    if not output.to_stdout:
        if by_account:
            click.echo(_show(table))
        else:
            click.echo(_show(table.drop(columns=["in_mode", "kept"])))
            click.echo("\naccounts in each mode (the others keep theirs):")
            for mode, row in table.iterrows():
                click.echo(f"  {mode}: {row['in_mode'] or 'none'}" + (f"; kept: {row['kept']}" if row["kept"]
                                                                     else ""))
    written = deliver_table(output, table.reset_index())
    output.say(f"{len(table)} rows" + (f"; written to {written}" if written else ""))


@click.command("hedges")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@output_options("json", what="the hedged result")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
def hedges(problem: Path, output: Output, solver: str | None) -> None:
    """Solve PROBLEM with and without its [[hedges]]: print the hedge trades, delta before and after, and the
    saving against the unhedged optimum (docs/hedging.md)."""
    from allocator.analysis.hedging import hedge_savings
    from allocator.cli.output import deliver_document
    from allocator.io.loading import load_problem

    with failures():
        savings = hedge_savings(load_problem(problem), solver)
    result, money = savings.hedged, savings.hedged.currency
    if not output.to_stdout:
        lines = ["hedge trades:", _show(result.hedges_frame) if result.hedges else "  none (no hedge pays)", "",
                 "delta (currency per unit return):", _show(result.deltas_frame), "",
                 f"with and without the hedges ({money} over the horizon):", _show(savings.frame)]
        if savings.saving is None:
            lines.append("without its hedges the problem is infeasible: the hedges are what makes it feasible")
        click.echo("\n".join(lines))
    written = deliver_document(output, result.to_json())
    saving = "none (infeasible without them)" if savings.saving is None else f"{savings.saving:,.2f} {money}"
    output.say(f"hedges save {saving}" + (f"; result written to {written}" if written else ""))


def _show(frame: pd.DataFrame) -> str:
    return frame.to_string(float_format=lambda x: f"{x:,.6g}" if abs(x) < 1 else f"{x:,.2f}")
