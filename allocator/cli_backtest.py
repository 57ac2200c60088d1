"""``allocator backtest`` and ``allocator rebalance``: policies through real history, and the decision of today
(docs/backtest.md). Registered on the main command group by allocator/cli.py.

Exit codes: ``backtest`` 0 done (liquidations are findings, not errors), 2 bad input or usage. ``rebalance`` 0 no
action (every account inside its band: "no action"), 10 action needed (the plan is written and its order is safe),
4 action needed but the plan needs temporary funding (no safe order: see ``funding`` and ``needs_funding``), 2 bad
input or usage. Errors are one ``error:`` line per issue, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from allocator.errors import InputError

EXIT_OK, EXIT_INPUT, EXIT_NEEDS_FUNDING, EXIT_ACTION = 0, 2, 4, 10


def _fail(error: InputError) -> NoReturn:
    for issue in error.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(EXIT_INPUT)


def _band(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from allocator.analysis.backtest import Band

    if value is None:
        return None
    try:
        return Band.parse(value)
    except InputError as error:
        raise click.BadParameter(error.issues[0].message, ctx, param) from None


def _params(policy: str, band: Any, every_days: int | None, haircuts: str | None) -> dict[str, Any]:
    """The options that apply to ``policy`` (the band to every band policy; a schedule and a haircut view to the
    optimized ones)."""
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
@click.option("--band", callback=_band, metavar="LOW:HIGH[:TARGET]", help="Trigger band of the band policies "
              "(default 1.1:1.5, target the middle).")
@click.option("--every-days", type=click.IntRange(min=0), default=None,
              help="The optimized policies also act on this schedule (days).")
@click.option("--haircuts", type=click.Choice(["venue", "trailing", "ewma", "garch"]), default=None,
              help="The optimized policies' view of haircuts (default: venue for optimized, garch for "
                   "optimized_predictive).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for daily.parquet, treasury.parquet, summary.csv and meta.json.")
@click.option("--quiet", is_flag=True, help="Print only the one-line outcome.")
def backtest_command(problem: Path, start: str, end: str, policies: tuple[str, ...], band: Any,
                     every_days: int | None, haircuts: str | None, output: Path, quiet: bool) -> None:
    """Run rebalancing policies day by day on the market files from START to END, each from PROBLEM's holdings."""
    from allocator.analysis.backtest import backtest
    from allocator.analysis.backtest.policies import DEFAULT_POLICIES
    from allocator.io.loading import load_problem

    chosen = [_params(name, band, every_days, haircuts) for name in (policies or DEFAULT_POLICIES)]
    try:
        loaded = load_problem(problem)
        days = _days(start, end)
        total = days * len(chosen)
        if sys.stderr.isatty():  # a bar only on a terminal: logs and pipes get the summary alone
            with click.progressbar(length=total, label="backtest", file=sys.stderr) as bar:
                result = backtest(loaded, start, end, chosen, progress=bar.update)
        else:
            result = backtest(loaded, start, end, chosen)
    except InputError as error:
        _fail(error)
    try:
        result.save(output)
    except OSError as error:
        click.echo(f"error: cannot write to {output}: {error.strerror or error}", err=True)
        sys.exit(EXIT_INPUT)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if not quiet:
        columns = ["policy", "total_cost", "carry_forgone", "transfer_cost", "trading_cost", "liquidation_loss",
                   "liquidations", "min_coverage", "p1_coverage", "warning_days", "moves", "turnover"]
        click.echo(result.summary[columns].to_string(index=False, float_format=lambda x: f"{x:,.3f}"
                                                     if abs(x) < 10 else f"{x:,.0f}"))
    click.echo(f"{result.meta['days']} days x {len(result.summary)} policies; written to {output}")


def _days(start: str, end: str) -> int:
    import pandas as pd

    from allocator.errors import InputIssue

    try:
        return max((pd.Timestamp(end) - pd.Timestamp(start)).days + 1, 1)
    except ValueError as error:
        raise InputError([InputIssue("start/end", f"not a date (YYYY-MM-DD): {error}", "bad_date")]) from None


@click.command("rebalance")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", default="optimized", show_default=True, metavar="NAME", help="The policy that decides.")
@click.option("--band", callback=_band, metavar="LOW:HIGH[:TARGET]", help="Trigger band (default 1.1:1.5).")
@click.option("--haircuts", type=click.Choice(["venue", "trailing", "ewma", "garch"]), default=None,
              help="The optimized policies' view of haircuts.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the plan as JSON here (default: PROBLEM with .rebalance.json), when action is needed.")
@click.option("--quiet", is_flag=True, help="Print only the one-line outcome.")
def rebalance_command(problem: Path, policy: str, band: Any, haircuts: str | None, output: Path | None,
                      quiet: bool) -> None:
    """Decide today's moves for PROBLEM (its holdings and prices): "no action" (exit 0) when every account is
    inside its band, else write the plan (exit 10; 4 when it needs temporary funding)."""
    from allocator.analysis.backtest.rebalance import rebalance
    from allocator.io.loading import load_problem

    params = _params(policy, band, None, haircuts)
    try:
        plan = rebalance(load_problem(problem), params.pop("policy"), **params)
    except InputError as error:
        _fail(error)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    if not quiet:
        click.echo(plan.accounts_frame.to_string(index=False, float_format=lambda x: f"{x:,.3f}" if abs(x) < 10
                                                 else f"{x:,.0f}"))
    if not plan.action:
        click.echo(f"no action: every account is inside its band ({plan.policy})")
        sys.exit(EXIT_OK)
    output = output or problem.with_suffix(".rebalance.json")
    try:
        temporary = output.with_name(output.name + ".tmp")
        temporary.write_text(plan.to_json(), encoding="utf-8")
        temporary.replace(output)
    except OSError as error:
        click.echo(f"error: cannot write the plan to {output}: {error.strerror or error}", err=True)
        sys.exit(EXIT_INPUT)
    if not quiet:
        frame = plan.steps_frame
        shown = [c for c in ("step", "kind", "asset", "from", "to", "location", "sell", "buy", "quantity", "value",
                             "cost", "needs_funding") if c in frame]
        click.echo(frame[shown].to_string(index=False))
    click.echo(f"action needed ({plan.reason}): {len(plan.steps)} steps, plan written to {output}")
    if not plan.safe:
        click.echo("warning: no safe order exists for every step; see needs_funding in the plan", err=True)
        sys.exit(EXIT_NEEDS_FUNDING)
    sys.exit(EXIT_ACTION)
