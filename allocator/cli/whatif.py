"""``allocator whatif PROBLEM SCENARIOS``: one row per scenario (docs/what-if.md); exit 0 or 2 (5 when a solver
fails outside a scenario)."""

from __future__ import annotations

from pathlib import Path

import click

from allocator.cli.exits import fail_input, fail_solver
from allocator.cli.options import WORKERS, Output, SolverName, output_options


@click.command("whatif")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("scenarios", type=click.Path(dir_okay=False, path_type=Path))
@output_options("parquet", "csv", "json", what="the what-if table", stdout="csv")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
@click.option("--workers", type=WORKERS, default=1, show_default=True,
              help="Local processes to spread scenarios over.")
def command(problem: Path, scenarios: Path, output: Output, solver: str | None, workers: int) -> None:
    """Solve PROBLEM under every scenario of SCENARIOS (.toml/.json [[scenarios]], or flat .csv/.parquet).

    Give -o (a file, or '-' for CSV on standard output) or --json: the table is the result."""
    if output.path is None and not output.to_stdout:
        raise click.UsageError("give -o PATH (.parquet, .csv or .json; '-' for CSV on standard output) or --json")
    from allocator.analysis.whatif import what_if
    from allocator.batch.spec import read_scenarios
    from allocator.cli.output import deliver_table
    from allocator.cli.progress import progress_bar
    from allocator.errors import InputError, SolverError
    from allocator.io.loading import load_problem

    try:
        loaded = load_problem(problem)
        rows = [{"id": ident, **fields} for ident, fields in read_scenarios(scenarios, loaded)]
        with progress_bar("what-if", total=len(rows)) as advance:
            table = what_if(loaded, rows, solver, workers=workers, progress=advance)
    except InputError as error:
        fail_input(error)
    except SolverError as error:
        fail_solver(error)
    written = deliver_table(output, table)
    counts = table["status"].value_counts().to_dict()
    where = " and ".join([*([f"written to {written}"] if written else []),
                          *(["on standard output"] if output.to_stdout else [])])
    output.say(f"{len(table)} scenarios: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f"; {where}")
