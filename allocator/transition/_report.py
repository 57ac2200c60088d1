"""A readable account of a transition result (the CLI prints it)."""

from __future__ import annotations

import pandas as pd

from allocator.transition._result import TransitionResult


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda x: f"{x:,.6g}" if abs(x) < 1 else f"{x:,.2f}")


def outcome_lines(result: TransitionResult) -> list[str]:
    """The cost and its parts, the steps and when they complete, volatile holdings, the relaxation's gap and the
    notes: the lines the CLI's table view and the long text share."""
    c, d, money = result.costs, result.diagnostics, result.currency
    lines = [f"cost: {c.total:,.2f} {money} (income forgone {c.carry:,.2f}, transfers {c.transfer:,.2f}, "
             f"fees {c.fees:,.2f}, spread {c.spread:,.2f}, impact {c.impact:,.2f})",
             f"{len(result.steps)} steps over {result.periods} x {result.period_hours:g} h; complete after "
             f"{result.completion_hours:g} h"]
    if result.exposure is not None:
        e = result.exposure
        lines.append(f"volatile holdings ({', '.join(e.volatile) or 'none'}): {e.before:,.2f} today, "
                     f"{e.after:,.2f} at the end")
    if d.relaxation_cost is not None and d.gap is not None:
        lines.append(f"convex relaxation {d.relaxation_cost:,.2f} {money}: the move limits cost {d.gap:.2%} more")
    return lines + [f"note: {n}" for n in d.notes]


def transition_summary(result: TransitionResult, max_steps: int = 60) -> str:
    d = result.diagnostics
    head = d.status + (f", MILP gap {d.milp_gap:.2%}" if d.milp_gap is not None else "")
    how = f"solver {d.solver}" if d.schedule_solver in (None, d.solver) else \
        f"moves by {d.solver}, schedule by {d.schedule_solver}"
    where = f"{how}, {d.total_seconds:.3f} s"
    status = f"feasible ({d.mode}: {where})" if d.status == f"feasible ({d.mode})" else f"{head} ({d.mode}, {where})"
    lines = [f"status: {status}", *outcome_lines(result)]
    lines += ["", "lowest collateral during the transition:",
              _table(result.lowest_frame), ""]
    frame = result.schedule_frame
    if len(frame):
        shown = frame[["step", "period", "start_hours", "arrival_hours", "kind", "asset", "from", "to", "quantity",
                       "asset_to", "quantity_to", "value", "cost"]].head(max_steps).astype(object)
        shown = shown.where(shown.notna(), "")
        lines += ["plan:", _table(shown)]
        if len(frame) > max_steps:
            lines.append(f"... and {len(frame) - max_steps} more steps (see the JSON result)")
    else:
        lines.append("plan: nothing to move")
    return "\n".join(lines)
