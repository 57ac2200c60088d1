"""``allocator rebalance PROBLEM``: what a scheduled job runs every hour with today's holdings and prices: "no
action" when every account is inside its band, else the plan (docs/backtest.md, section 9). The same policy
objects as the backtest decide, so what is backtested is what runs.

Registered by one line in ``COMMANDS`` (allocator/cli/__init__.py). ``-o PLAN.json`` writes the plan there
(default, when action is needed: ``PROBLEM.rebalance.json`` beside the problem), ``-o -`` or ``--json`` prints it on
standard output (every message on standard error; with no action the plan, ``"action": false``, is printed too).
Exit codes: 0 no action; 10 action needed, the plan is written and its order is safe; 4 action needed but the plan
needs temporary funding (no safe order: ``needs_funding`` steps and ``funding``); 3 action needed but the plan
leaves accounts below their requirement (a book no move can cover: ``shortfalls``, one warning line each); 2 bad
input or usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from allocator.cli.backtest import HAIRCUT_VIEWS, parse_band, policy_params
from allocator.cli.exits import EXIT_INFEASIBLE, EXIT_NEEDS_FUNDING, EXIT_OK, fail_input
from allocator.cli.options import Output, output_options, quiet_option

if TYPE_CHECKING:
    from allocator.analysis.backtest.rebalance import RebalancePlan

#: "Action needed": outside 0-6, the codes every command shares (allocator/cli/exits.py), so a scheduler can tell
#: it from an error.
EXIT_ACTION = 10


@click.command("rebalance")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", default="optimized", show_default=True, metavar="NAME", help="The policy that decides.")
@click.option("--band", callback=parse_band, metavar="LOW:HIGH[:TARGET]", help="Trigger band (default 1.1:1.5).")
@click.option("--haircuts", type=HAIRCUT_VIEWS, default=None, help="The optimized policies' view of haircuts.")
@output_options("json", what="the plan")
@quiet_option
def command(problem: Path, policy: str, band: Any, haircuts: str | None, output: Output, quiet: bool) -> None:
    """Decide today's moves for PROBLEM (its holdings and prices): "no action" (exit 0) when every account is
    inside its band, else write the plan (exit 10; 4 when it needs temporary funding; 3 when it leaves an account
    below its requirement)."""
    from allocator.analysis.backtest.rebalance import rebalance
    from allocator.cli.output import deliver_document
    from allocator.errors import InputError
    from allocator.io.loading import load_problem

    params = policy_params(policy, band, None, haircuts)
    try:
        plan = rebalance(load_problem(problem), params.pop("policy"), **params)
    except InputError as error:
        fail_input(error)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    for short in plan.shortfalls:
        click.echo(f"warning: {short.account} is {short.amount:,.2f} below its requirement "
                   + ("after the plan" if plan.action else "today"), err=True)
    if not quiet and not output.to_stdout:
        _show(plan)
    if not plan.action:
        if output.to_stdout or output.path is not None:
            deliver_document(output, plan.to_json())
        output.say(f"no action: every account is inside its band ({plan.policy})")
        sys.exit(EXIT_OK)
    written = deliver_document(output, plan.to_json(), default=problem.with_suffix(".rebalance.json"))
    output.say(f"action needed ({plan.reason}): {len(plan.steps)} steps" +
               (f", plan written to {written}" if written else ""))
    if not plan.covered:
        sys.exit(EXIT_INFEASIBLE)  # action needed, and no move covers the book: more severe than an unsafe order
    if not plan.safe:
        click.echo("warning: no safe order exists for every step; see needs_funding in the plan", err=True)
        sys.exit(EXIT_NEEDS_FUNDING)
    sys.exit(EXIT_ACTION)


def _show(plan: RebalancePlan) -> None:
    from allocator.cli.tables import Column, show, table

    accounts = [Column("account", "account"), Column("requirement", "requirement", "money"),
                Column("collateral", "collateral", "money"), Column("coverage", "coverage", "ratio"),
                Column("collateral_after", "collateral after", "money"),
                Column("coverage_after", "coverage after", "ratio")]
    parts: list[Any] = [table(f"accounts today ({plan.as_of})", accounts, [a.model_dump() for a in plan.accounts])]
    if plan.steps:
        steps = [Column("step", "step", "count"), Column("kind", "kind"), Column("asset", "asset"),
                 Column("from", "from"), Column("to", "to"), Column("location", "at"), Column("sell", "sell"),
                 Column("buy", "buy"), Column("quantity", "quantity", "quantity"), Column("value", "value", "money"),
                 Column("needs_funding", "needs funding")]
        rows = [s.model_dump(by_alias=True) for s in plan.steps]
        shown = [c for c in steps if any(row.get(c.key) not in (None, "", False) for row in rows)]
        parts.append(table("the plan", shown, rows))
    show(*parts)
