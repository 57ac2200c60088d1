"""The command line: ``allocator optimize``, ``allocator whatif``, ``allocator batch``, ``allocator transition`` and
``allocator example`` (the shipped example problems).

Exit codes: 0 optimal (plan safe); 4 optimal but the plan needs temporary funding; 3 infeasible (diagnosis
written); 2 bad input or usage; 5 solver failure; 6 (``transition`` only) a feasible plan not proven optimal (a
MILP stopped at a limit, or the heuristic). Errors are printed one line each, never as a traceback; an option of the
wrong type or range (cli_options.py) is click's usage error, before anything is read or solved.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
import pandas as pd

from allocator.cli_options import WORKERS, Seconds, SolverName, table_path, user_warnings
from allocator.errors import InfeasibleError, InputError, SolverError
from allocator.io.loading import load_problem
from allocator.results.result import Result
from allocator.solve.engine import optimize

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NEEDS_FUNDING, EXIT_SOLVER, EXIT_FEASIBLE = 0, 2, 3, 4, 5, 6


@click.group()
@click.version_option(package_name="allocator")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Decide where a treasury's collateral should sit, and how to get it there safely."""
    ctx.with_resource(user_warnings())


@main.command("optimize")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result as JSON here (default: PROBLEM with .result.json).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS; e.g. CLARABEL).")
@click.option("--time-limit", type=Seconds(), default=None, help="Seconds the solver may take per solve.")
@click.option("--fallback", type=SolverName(), default=None,
              help="A second solver to try if the first fails (recorded in the result).")
@click.option("--quiet", is_flag=True, help="Print only the one-line outcome.")
def optimize_command(problem: Path, output: Path | None, solver: str | None, time_limit: float | None,
                     fallback: str | None, quiet: bool) -> None:
    """Optimise PROBLEM (.toml or .json): print a summary and write the JSON result."""
    output = output or problem.with_suffix(".result.json")
    try:
        loaded = load_problem(problem)
        result = optimize(loaded, solver, time_limit=time_limit, fallback=fallback)
    except InputError as error:
        _fail_input(error)
    except InfeasibleError as error:
        assert error.result is not None  # the single-period engine always writes its diagnosis as a Result
        _write(output, error.result)
        click.echo(f"infeasible: {error}", err=True)
        if not quiet:
            click.echo(error.result.shortfalls_frame.to_string(index=False))
        click.echo(f"diagnosis written to {output}")
        sys.exit(EXIT_INFEASIBLE)
    except SolverError as error:
        _fail_solver(error)
    _write(output, result)
    if not quiet:
        click.echo(summary(result))
    click.echo(f"result written to {output}")
    if not result.plan_safe:
        click.echo("warning: no safe order exists for every transfer; see `funding` in the result", err=True)
        sys.exit(EXIT_NEEDS_FUNDING)


@main.command("whatif")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("scenarios", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              callback=table_path,
              help="Write the what-if table here (.parquet or .csv).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
@click.option("--workers", type=WORKERS, default=1, show_default=True,
              help="Local processes to spread scenarios over.")
def whatif_command(problem: Path, scenarios: Path, output: Path, solver: str | None, workers: int) -> None:
    """Solve PROBLEM under every scenario of SCENARIOS (.toml/.json [[scenarios]], or flat .csv/.parquet)."""
    from allocator.analysis.whatif import what_if
    from allocator.batch.spec import read_scenarios

    try:
        loaded = load_problem(problem)
        rows = [{"id": ident, **fields} for ident, fields in read_scenarios(scenarios)]
        with click.progressbar(length=len(rows), label="what-if", file=sys.stderr) as bar:
            table = what_if(loaded, rows, solver, workers=workers, progress=bar.update)
    except InputError as error:
        _fail_input(error)
    except SolverError as error:
        _fail_solver(error)
    _write_table(output, table)
    counts = table["status"].value_counts().to_dict()
    click.echo(f"{len(table)} scenarios: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
               + f"; written to {output}")


@main.command("batch")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for result chunks and the manifest; re-running resumes.")
@click.option("--dask", default=None, metavar="ADDRESS",
              help="Run on a Dask cluster at ADDRESS, or 'local' to start a LocalCluster.")
@click.option("--workers", type=WORKERS, default=None, help="Local processes (default: all cores).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
def batch_command(spec: Path, outdir: Path, dask: str | None, workers: int | None, solver: str | None) -> None:
    """Solve every problem and scenario of SPEC (a batch TOML or a directory of problems) into OUTDIR."""
    from allocator.batch.backends import MissingExtraError, require_dask
    from allocator.batch.runner import run_batch
    from allocator.batch.spec import load_spec

    if dask:
        try:
            require_dask()  # before anything is read or written
        except MissingExtraError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_INPUT)
    try:
        loaded = load_spec(spec)
        with click.progressbar(length=len(loaded.units), label="batch", file=sys.stderr) as bar:
            summary = run_batch(loaded, outdir, workers=workers, dask=dask, solver=solver, progress=bar.update)
    except InputError as error:
        _fail_input(error)
    click.echo(str(summary))


@main.command("transition")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the transition result as JSON here (default: PROBLEM with .transition.json).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy conic solver (default CLARABEL).")
@click.option("--integer", is_flag=True, help="Meet max_moves / min_move_value by a mixed-integer program.")
@click.option("--heuristic", is_flag=True,
              help="Meet max_moves / min_move_value by drop-fix-re-solve (the default when the problem has them).")
@click.option("--time-limit", type=Seconds(), default=None, help="Seconds the MILP may take (default 30).")
@click.option("--quiet", is_flag=True, help="Print only the one-line outcome (no MILP progress).")
def transition_command(problem: Path, output: Path | None, solver: str | None, integer: bool, heuristic: bool,
                       time_limit: float | None, quiet: bool) -> None:
    """Plan the multi-period transition of PROBLEM (needs [schedule]; docs/transition.md).

    Exit codes as for optimize, and 6 when the plan is feasible but not proven optimal (a MILP stopped at its
    time or node limit, or the heuristic)."""
    import logging

    from allocator.transition import TransitionInfeasibleError, plan_transition
    from allocator.transition.milp_log import LOGGER
    from allocator.transition.report import transition_summary

    if integer and heuristic:
        raise click.UsageError("--integer and --heuristic are two ways to meet the move limits; give one")

    output = output or problem.with_suffix(".transition.json")
    progress, level = logging.StreamHandler(sys.stderr), LOGGER.level
    progress.setFormatter(logging.Formatter("%(message)s"))
    if not quiet:  # MILP progress (elapsed, incumbent, bound, gap) every few seconds of a long solve
        LOGGER.addHandler(progress)
        LOGGER.setLevel(logging.INFO)
    try:
        result = plan_transition(load_problem(problem), solver=solver, integer=integer, heuristic=heuristic,
                                 time_limit=time_limit)
    except InputError as error:
        _fail_input(error)
    except TransitionInfeasibleError as error:
        click.echo(f"infeasible: {error}", err=True)
        sys.exit(EXIT_INFEASIBLE)
    except SolverError as error:
        _fail_solver(error)
    finally:
        LOGGER.removeHandler(progress)
        LOGGER.setLevel(level)
    try:
        output.write_text(result.to_json(), encoding="utf-8")
    except OSError as error:
        click.echo(f"error: cannot write the result to {output}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)
    if not quiet:
        click.echo(transition_summary(result))
    click.echo(f"result written to {output}")
    if result.status != "optimal":
        click.echo(f"warning: {result.diagnostics.status}: the plan meets every constraint but is not proven "
                   "optimal", err=True)
        sys.exit(EXIT_FEASIBLE)


@main.command("example")
@click.argument("name", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the problem here instead of to standard output.")
def example_command(name: str | None, output: Path | None) -> None:
    """Print the shipped example problem NAME (e.g. `allocator example desk > desk.toml`); without NAME, list them."""
    from allocator.io.examples import example_names, example_problem, example_summary

    if name is None:
        width = max(map(len, example_names()))
        for known in example_names():
            click.echo(f"{known:<{width}}  {example_summary(known)}")
        return
    try:
        text = example_problem(name)
    except InputError as error:
        _fail_input(error)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        click.echo(f"error: cannot write {output}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"example {name} written to {output}")


def _fail_input(error: InputError) -> NoReturn:
    """One line per located issue on stderr, no traceback, exit 2."""
    for issue in error.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(EXIT_INPUT)


def _fail_solver(error: SolverError) -> NoReturn:
    click.echo(f"solver error: {error}", err=True)
    sys.exit(EXIT_SOLVER)


def _write_table(path: Path, table: pd.DataFrame) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        if path.suffix.lower() == ".csv":
            table.to_csv(temporary, index=False)
        else:
            table.to_parquet(temporary, index=False)
        temporary.replace(path)
    except OSError as error:
        click.echo(f"error: cannot write {path}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)


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
    frame = result.accounts_frame
    risk = [c for c in ("sigma", "risk_excess", "cvar", "worst_scenario", "worst_scenario_excess",
                        "liquidation_move", "market_liquidation_move") if frame[c].notna().any()]
    accounts = frame[["requirement", "required", "initial_collateral", "collateral", "excess", "shadow_price", *risk]]
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


from allocator.cli_report import report_command  # noqa: E402 - the report command lives in its own module

main.add_command(report_command)

from allocator.cli_stress import stress_command  # noqa: E402  (the command lives in its own module)

main.add_command(stress_command)

from allocator.cli_backtest import backtest_command, rebalance_command  # noqa: E402  (commands in their own module)

main.add_command(backtest_command)
main.add_command(rebalance_command)

if __name__ == "__main__":  # pragma: no cover
    main()
