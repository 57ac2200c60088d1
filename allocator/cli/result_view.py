"""What ``allocator optimize`` shows a person: the status, the cost, coverage per account, the binding limits, the
plan, and the one-line outcome (printed even with ``--quiet``). Numbers in one format per column (tables.py);
shadow prices as docs/cli.md states them: currency of extra cost per currency of extra requirement, positive
when a higher requirement costs more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allocator.cli.tables import Column, first_rows, table

if TYPE_CHECKING:
    from allocator.results.result import Result

ACCOUNTS = (
    Column("id", "account"),
    Column("requirement", "requirement", "money", wide=True),
    Column("pnl", "P&L", "money", wide=True),
    Column("required", "required", "money"),
    Column("initial_collateral", "today", "money", wide=True),
    Column("collateral", "collateral", "money"),
    Column("coverage", "coverage", "ratio"),
    Column("excess", "excess", "money"),
    Column("shadow_price", "shadow price", "price"),
    Column("sigma", "sigma", "money", wide=True),
    Column("risk_excess", "risk excess", "money", wide=True),
    Column("cvar", "CVaR", "money", wide=True),
    Column("worst_scenario", "worst scenario", wide=True),
    Column("worst_scenario_excess", "worst excess", "money", wide=True),
    Column("liquidation_move", "liquidation move", "ratio", wide=True),
    Column("market_liquidation_move", "market liq. move", "ratio", wide=True),
)
PLAN = (
    Column("step", "step", "count"),
    Column("asset", "asset"),
    Column("from", "from"),
    Column("to", "to"),
    Column("quantity", "quantity", "quantity"),
    Column("value", "value", "money"),
    Column("cost", "cost", "money"),
    Column("needs_funding", "needs funding", wide=True),
)
BINDING = (Column("label", "binding limit"), Column("shadow_price", "shadow price", "price"))
FUNDING = (Column("step", "step", "count"), Column("account", "account"), Column("amount", "amount", "money"))
SHORTFALLS = (Column("account", "account"), Column("constraint", "limit"), Column("amount", "shortfall", "money"))


def _accounts(result: Result) -> list[dict[str, Any]]:
    rows = []
    for row in result.accounts:
        data = row.model_dump()
        data["coverage"] = row.collateral / row.required if row.required > 0 else None
        rows.append(data)
    return rows


def result_tables(result: Result, wide: bool) -> list[Any]:
    """The summary of an optimal result as lines and rich tables, in print order."""
    assert result.objective is not None
    d, money = result.diagnostics, result.currency
    parts: list[Any] = [
        f"status: {result.status} (solver {d.solver}, {d.total_seconds:.3f} s)",
        f"capital cost over the horizon: {result.objective.total:,.2f} {money} "
        f"(carry {result.objective.carry:,.2f}, transfers {result.objective.transfer:,.2f})", "",
        table(f"accounts (haircut-adjusted collateral, {money})", ACCOUNTS, _accounts(result), wide)]
    if result.binding:
        parts.append(table("binding limits", BINDING, [b.model_dump() for b in result.binding], wide))
    if result.plan:
        order = "safe order" if result.plan_safe else "NEEDS TEMPORARY FUNDING"
        shown, rest = first_rows(result.plan, wide, "transfers")
        parts.append(table(f"plan: {len(result.plan)} transfers ({order})", PLAN,
                           [s.model_dump(by_alias=True) for s in shown], wide or not result.plan_safe))
        if rest:
            parts.append(rest)
        if result.funding:
            parts.append(table("temporary funding needed", FUNDING, [f.model_dump() for f in result.funding]))
    else:
        parts.append("plan: nothing to move")
    if not wide:
        parts.append("(--wide adds requirement, P&L, today's collateral and the risk columns)")
    return parts


def shortfall_table(result: Result) -> Any:
    return table(f"shortfalls ({result.currency})", SHORTFALLS, [s.model_dump() for s in result.shortfalls])


def outcome(result: Result, written: str) -> str:
    """The one-line outcome: status, cost, plan, where the result went."""
    money = result.currency
    if result.objective is None:  # infeasible
        short = ", ".join(f"{s.account} short by {s.amount:,.2f} {money}" for s in result.shortfalls)
        return f"infeasible: {short or 'no allocation covers every account'}; {written}"
    plan = "nothing to move" if not result.plan else \
        f"{len(result.plan)} transfers in a safe order" if result.plan_safe else \
        f"{len(result.plan)} transfers, NEEDING TEMPORARY FUNDING"
    return f"{result.status}: capital cost {result.objective.total:,.2f} {money}, {plan}; {written}"
