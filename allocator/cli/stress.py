"""``allocator stress``: revalue an allocation on historical crashes and Monte Carlo draws (docs/stress.md).

Registered by one line in ``COMMANDS`` (allocator/cli/__init__.py). Exit codes as the other commands: 0 done
(whether or not an account is liquidated: the report says so), 2 bad input or usage (one ``error:`` line per
issue, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

import click
from pydantic import ValidationError

from allocator.errors import InputError, InputIssue

if TYPE_CHECKING:  # the library is imported when the command runs: `allocator --help` loads no solver (docs/cli.md)
    import pandas as pd

    from allocator.analysis.stress import StressReport
    from allocator.results.result import Result

EXIT_INPUT = 2
FORMATS = (".json", ".csv", ".parquet")


def _report_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() not in FORMATS:
        raise click.BadParameter(f"{str(value)!r} does not end in .json, .csv or .parquet", ctx, param)
    return value


def _proxies(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in value:
        asset, sep, ticker = item.partition("=")
        if not sep or not asset.strip() or not ticker.strip():
            raise click.BadParameter(f"{item!r} is not ASSET=TICKER (or ASSET=constant)", ctx, param)
        out[asset.strip()] = ticker.strip()
    return out


@click.command("stress")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--result", "result_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Stress the targets of this optimize result (JSON) instead of today's holdings.")
@click.option("--current", is_flag=True, help="Stress today's holdings (the default).")
@click.option("--episode", "episodes", multiple=True, metavar="NAME",
              help="An episode of models/stress-episodes.toml (repeat; default: every episode).")
@click.option("--intraday", is_flag=True, help="Move each asset to its lowest low in the window, not its close.")
@click.option("--draws", type=click.IntRange(min=0, max=1_000_000), default=0, show_default=True,
              help="Monte Carlo draws of one day's moves (Student-t fitted to the market files).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the draws.")
@click.option("--no-cascade", is_flag=True, help="Liquidations do not move prices (round 1 only).")
@click.option("--proxy", "proxies", multiple=True, metavar="ASSET=TICKER", callback=_proxies,
              help="An asset without data follows TICKER (or 'constant'); repeat. Overrides [stress] proxies.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=_report_path,
              help="Write the report: .json (everything), .csv or .parquet (the account rows; draws beside them).")
@click.option("--quiet", is_flag=True, help="Print only the one-line outcome.")
def stress_command(problem: Path, result_path: Path | None, current: bool, episodes: tuple[str, ...], intraday: bool,
                   draws: int, seed: int, no_cascade: bool, proxies: dict[str, str], output: Path | None,
                   quiet: bool) -> None:
    """Stress PROBLEM's allocation (today's, or a result's targets) on historical episodes and Monte Carlo draws:
    who is liquidated, by which rule, at what cost, and what the liquidation cascade adds."""
    if current and result_path is not None:
        raise click.UsageError("--current and --result name two allocations; give one")
    from allocator.analysis.stress import stress
    from allocator.cli.progress import progress_status
    from allocator.io.loading import load_problem

    try:
        loaded = load_problem(problem)
        holdings: Result | Literal["current"] = _read_result(result_path) if result_path is not None else "current"
        with progress_status(f"stress: episodes and {draws:,} draws" if draws else "stress: episodes"):
            report = stress(loaded, holdings, list(episodes) if episodes else None, draws, seed, intraday=intraday,
                            cascade=not no_cascade, proxies=proxies)
    except InputError as error:
        _fail(error)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not quiet:
        click.echo(summary(report))
    fell = sum(row.liquidated for row in report.summary_rows)
    line = f"{len(report.summary_rows)} episodes, {fell} liquidations"
    if report.monte_carlo is not None:
        line += (f"; {report.monte_carlo.draws} draws, P(any liquidation) "
                 f"{report.monte_carlo.probability_any_liquidation:.4f}")
    if output is not None:
        line += f"; written to {', '.join(map(str, _write(output, report)))}"
    click.echo(line)


def _read_result(path: Path) -> Result:
    from allocator.results.result import Result

    try:
        return Result.from_json(path.read_bytes())
    except OSError as error:
        raise InputError([InputIssue(str(path), f"cannot read: {error.strerror}", "unreadable")]) from None
    except ValidationError as error:
        raise InputError([InputIssue(str(path), f"is not an optimize result ({error.error_count()} issues)",
                                     "not_a_result")]) from None


def _write(path: Path, report: StressReport) -> list[Path]:
    """The report as JSON, or its account rows as CSV/Parquet (and the draws beside them as ``<stem>.draws``)."""
    written = []
    tables: list[tuple[Path, pd.DataFrame | str]] = [(path, report.to_json())] if path.suffix.lower() == ".json" \
        else [(path, _flat(report.accounts))]
    if path.suffix.lower() != ".json" and report.draw_rows:
        tables.append((path.with_name(f"{path.stem}.draws{path.suffix}"), _flat(report.draws)))
    for target, content in tables:
        temporary = target.with_name(target.name + ".tmp")
        try:
            if isinstance(content, str):
                temporary.write_text(content, encoding="utf-8")
            elif target.suffix.lower() == ".csv":
                content.to_csv(temporary, index=False)
            else:
                content.to_parquet(temporary, index=False)
            temporary.replace(target)
        except OSError as error:
            click.echo(f"error: cannot write {target}: {error.strerror}", err=True)
            sys.exit(EXIT_INPUT)
        written.append(target)
    return written


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """List cells (account names) as comma-separated text, so CSV and Parquet hold plain columns."""
    return frame.apply(lambda column: column.map(", ".join) if column.map(type).eq(list).any() else column)


def summary(report: StressReport) -> str:
    """A readable account of the report: per episode who fell and the losses; per account where it stood."""
    money = report.currency
    lines = []
    if report.summary_rows:
        head = report.summary[["scenario", "liquidated", "rounds", "worst_account", "market_loss",
                               "liquidation_loss", "cascade_loss", "total_loss"]]
        lines += [f"treasury today: {report.summary_rows[0].treasury_before:,.0f} {money}",
                  f"episodes ({'intraday lows' if report.intraday else 'close to close'}, "
                  f"{'with' if report.cascade else 'without'} cascades; losses in {money}):",
                  _table(head, index=False), ""]
        accounts = report.accounts
        accounts = accounts.assign(state=[("round " + str(int(r))) if liquidated else "ok" for liquidated, r in
                                          zip(accounts["liquidated"], accounts["round"].fillna(0), strict=True)])
        grid = accounts.pivot(index="account", columns="scenario", values="state")[report.summary["scenario"]]
        lines += ["liquidated (round) per account:", grid.to_string(), ""]
        distance = accounts.drop_duplicates("account").set_index("account")[
            ["rule", "liquidation_move", "market_liquidation_move"]]
        lines += ["distance to liquidation today (move of the main underlying / of the whole market; blank: no "
                  "positions, or no move reaches the line):", _table(distance).replace("NaN", "   "), ""]
    if report.monte_carlo is not None:
        mc = report.monte_carlo
        lines += [f"monte carlo: {mc.draws} draws (seed {mc.seed}), Student-t with {mc.degrees_of_freedom:.2f} "
                  f"degrees of freedom fitted to {mc.observations} days {mc.window_start}..{mc.window_end}",
                  f"  P(any liquidation) {mc.probability_any_liquidation:.4f}, P(cascade) "
                  f"{mc.probability_cascade:.4f}; loss VaR95 {mc.var_95:,.0f}, VaR99 {mc.var_99:,.0f}, "
                  f"ES99 {mc.expected_shortfall_99:,.0f} {money}",
                  _table(report.draw_accounts.set_index("account")), ""]
    return "\n".join(lines).rstrip()


def _table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_string(index=index, float_format=lambda x: f"{x:,.4g}" if abs(x) < 10 else f"{x:,.0f}")


def _fail(error: InputError) -> NoReturn:
    for issue in error.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(EXIT_INPUT)
