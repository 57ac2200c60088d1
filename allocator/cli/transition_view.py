"""What ``allocator transition`` shows a person: status, costs, timing, the lowest collateral per account on the
way, the schedule (first steps), and the one-line outcome (printed even with ``--quiet``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allocator.cli.tables import Column, first_rows, table

if TYPE_CHECKING:
    from allocator.transition._result import TransitionResult

LOWEST = (Column("account", "account"), Column("period", "period", "count"),
          Column("lowest", "lowest collateral", "money"), Column("floor", "floor", "money"),
          Column("required", "required at the end", "money"))
STEPS = (
    Column("step", "step", "count"),
    Column("period", "period", "count", wide=True),
    Column("start_hours", "start", "hours"),
    Column("arrival_hours", "arrives", "hours", wide=True),
    Column("kind", "kind"),
    Column("asset", "asset"),
    Column("from", "from"),
    Column("to", "to"),
    Column("venue", "venue", wide=True),
    Column("quantity", "quantity", "quantity"),
    Column("asset_to", "for"),
    Column("quantity_to", "quantity bought", "quantity", wide=True),
    Column("value", "value", "money"),
    Column("cost", "cost", "money"),
)


def status_line(result: TransitionResult) -> str:
    d = result.diagnostics
    head = d.status + (f", MILP gap {d.milp_gap:.2%}" if d.milp_gap is not None else "")
    how = f"solver {d.solver}" if d.schedule_solver in (None, d.solver) else \
        f"moves by {d.solver}, schedule by {d.schedule_solver}"
    where = f"{how}, {d.total_seconds:.3f} s"
    return f"status: feasible ({d.mode}: {where})" if d.status == f"feasible ({d.mode})" else \
        f"status: {head} ({d.mode}, {where})"


def transition_tables(result: TransitionResult, wide: bool) -> list[Any]:
    from allocator.transition._report import outcome_lines

    money = result.currency
    parts: list[Any] = [status_line(result), *outcome_lines(result)]
    parts += ["", table(f"lowest collateral during the transition ({money})", LOWEST,
                        result.lowest_frame.to_dict(orient="records"))]
    if result.steps:
        shown, rest = first_rows(result.steps, wide, "steps")
        parts.append(table(f"plan ({money})", STEPS, [s.model_dump(by_alias=True) for s in shown], wide))
        if rest:
            parts.append(rest)
    else:
        parts.append("plan: nothing to move")
    return parts


def outcome(result: TransitionResult, written: str) -> str:
    proven = "" if result.status == "optimal" else " (not proven optimal)"
    return (f"{result.status}{proven}: cost {result.costs.total:,.2f} {result.currency}, {len(result.steps)} "
            f"steps, complete after {result.completion_hours:g} h; {written}")
