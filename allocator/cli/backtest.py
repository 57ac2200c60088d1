"""``allocator backtest PROBLEM --start --end``: rebalancing policies lived through the market files day by day,
each from PROBLEM's holdings (docs/backtest.md).

Registered by one line in ``COMMANDS`` (allocator/cli/__init__.py). ``-o DIR`` writes ``daily.parquet``,
``treasury.parquet``, ``summary.csv`` and ``meta.json`` there (a directory: ``-`` is refused); ``--json`` prints
the summary (one object per policy) on standard output, every message on standard error; ``--quiet`` drops the
table. Exit codes: 0 done (liquidations are findings, not errors), 2 bad input or usage (one ``error:`` line per
issue, no traceback).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from allocator.cli.exits import fail_input, fail_usage
from allocator.cli.options import quiet_option, wide_option

if TYPE_CHECKING:  # the library is imported when the command runs: `allocator --help` loads no solver
    from allocator.analysis.backtest import BacktestResult

HAIRCUT_VIEWS = click.Choice(["venue", "trailing", "ewma", "garch"])


def parse_band(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--band LOW:HIGH[:TARGET]`` as a ``Band``; a malformed one is a usage error naming the option."""
    if value is None:
        return None
    from allocator.analysis.backtest.policies.band import Band
    from allocator.errors import InputError

    try:
        return Band.parse(value)
    except InputError as error:
        raise click.BadParameter(error.issues[0].message, ctx, param) from None


def policy_params(policy: str, band: Any, every_days: int | None, haircuts: str | None) -> dict[str, Any]:
    """The options that apply to ``policy``: the band to every band policy (not ``isolated``), a schedule and a
    haircut view to the optimized ones."""
    out: dict[str, Any] = {"policy": policy}
    if band is not None and policy != "isolated":
        out["band"] = band
    if policy.startswith("optimized"):
        if every_days is not None:
            out["every_days"] = every_days
        if haircuts is not None:
            out["haircuts"] = haircuts
    return out


@click.command("backtest")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--start", required=True, metavar="YYYY-MM-DD", help="First day (the problem as written).")
@click.option("--end", required=True, metavar="YYYY-MM-DD", help="Last day (at most the market files' last).")
@click.option("--policy", "policies", multiple=True, metavar="NAME",
              help="A policy (repeat; default: isolated, all_stable, waterfall, pro_rata, optimized, "
                   "optimized_predictive).")
@click.option("--band", callback=parse_band, metavar="LOW:HIGH[:TARGET]",
              help="Trigger band of the band policies (default 1.1:1.5, target the middle).")
@click.option("--every-days", type=click.IntRange(min=0), default=None,
              help="The optimized policies also act on this schedule (days).")
@click.option("--haircuts", type=HAIRCUT_VIEWS, default=None,
              help="The optimized policies' view of haircuts (default: venue for optimized, garch for "
                   "optimized_predictive).")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for daily.parquet, treasury.parquet, summary.csv and meta.json.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary (one object per policy) as JSON on standard output (messages go to "
                   "standard error).")
@quiet_option
@wide_option
def command(problem: Path, start: str, end: str, policies: tuple[str, ...], band: Any, every_days: int | None,
            haircuts: str | None, outdir: Path | None, as_json: bool, quiet: bool, wide: bool) -> None:
    """Run rebalancing policies day by day on the market files from START to END, each from PROBLEM's holdings:
    costs, liquidations, coverage and moves per policy (docs/backtest.md)."""
    if outdir is not None and str(outdir) == "-":
        raise click.BadParameter("'-' is not a directory: backtest writes daily.parquet, treasury.parquet, "
                                 "summary.csv and meta.json (--json prints the summary)",
                                 param_hint="'-o' / '--output'")
    from allocator.analysis.backtest import backtest
    from allocator.analysis.backtest.policies import DEFAULT_POLICIES
    from allocator.cli.output import records_json
    from allocator.cli.progress import progress_bar
    from allocator.errors import InputError
    from allocator.io.loading import load_problem

    chosen = [policy_params(name, band, every_days, haircuts) for name in (policies or DEFAULT_POLICIES)]
    try:
        loaded = load_problem(problem)
        days = _days(start, end)
        with progress_bar("backtest", total=None if days is None else days * len(chosen)) as advance:
            result = backtest(loaded, start, end, chosen, progress=advance)
    except InputError as error:
        fail_input(error)
    if outdir is not None:
        try:
            result.save(outdir)
        except OSError as error:
            fail_usage(f"cannot write to {outdir}: {error.strerror or error}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        click.echo(records_json(result.summary))
    elif not quiet:
        _show(result, wide)
    line = f"{result.meta['days']} days x {len(result.summary)} policies"
    click.echo(line + (f"; written to {outdir}" if outdir is not None else ""), err=as_json)


def _days(start: str, end: str) -> int | None:
    """Days in the window, for the progress bar (None when the dates are bad: ``backtest`` says why)."""
    import pandas as pd

    try:
        return max((pd.Timestamp(end) - pd.Timestamp(start)).days + 1, 1)
    except ValueError:
        return None


def _show(result: BacktestResult, wide: bool) -> None:
    from allocator.cli.tables import Column, show, table

    money = str(result.meta.get("currency", ""))
    columns = [Column("policy", "policy"), Column("total_cost", "total cost", "money"),
               Column("carry_forgone", "carry forgone", "money", wide=True),
               Column("carry_exchanged", "of which exchanged", "money", wide=True),
               Column("transfer_cost", "transfer", "money", wide=True),
               Column("trading_cost", "trading", "money", wide=True),
               Column("liquidation_loss", "liquidation loss", "money"),
               Column("exchange_pnl", "exchange P&L", "money", wide=True),
               Column("liquidations", "liquidations", "count"), Column("min_coverage", "min coverage", "ratio"),
               Column("p1_coverage", "p1 coverage", "ratio"), Column("warning_days", "warning days", "count"),
               Column("moves", "moves", "count"), Column("turnover", "turnover", "quantity", wide=True)]
    rows = result.summary.to_dict(orient="records")
    show(table(f"backtest {result.meta.get('start')}..{result.meta.get('end')}" + (f" ({money})" if money else ""),
               columns, rows, wide))
