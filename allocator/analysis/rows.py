"""One flat row per solved scenario, the unit of what-if tables and batch results.

Columns: ``scenario``, ``status`` (optimal | infeasible | failed), ``objective``, ``carry``, ``transfer``,
``error_type``, ``error``, and per account ``pnl.<id>``, ``collateral.<id>``, ``required.<id>``,
``shadow_price.<id>``, ``shortfall.<id>`` (currency; ``pnl`` is the positions' P&L since their last mark, which
``required`` already counts; shortfall is 0 when covered, filled from the diagnosis when infeasible). ``pnl`` and
``required`` follow from the inputs alone, so infeasible rows have them too.
"""

from __future__ import annotations

import math
from typing import Any

from allocator.errors import AllocatorError, InfeasibleError
from allocator.inputs.market import marked_pnl, net_of_pnl
from allocator.inputs.problem import Problem
from allocator.solve._engine import Allocator

NAN = math.nan


def _account(ident: str, pnl: float, collateral: float, required: float, shadow: float,
             shortfall: float) -> dict[str, float]:
    return {f"pnl.{ident}": pnl, f"collateral.{ident}": collateral, f"required.{ident}": required,
            f"shadow_price.{ident}": shadow, f"shortfall.{ident}": shortfall}


def outcome_row(engine: Allocator, scenario_id: str, problem: Problem) -> dict[str, Any]:
    """Solve ``problem`` (same structure as the engine's) without a plan; never raises for a solver outcome."""
    row: dict[str, Any] = {"scenario": scenario_id, "status": "optimal", "objective": NAN, "carry": NAN,
                           "transfer": NAN, "error_type": "", "error": ""}
    try:
        result = engine.solve(problem, plan=False)
    except InfeasibleError as error:
        short = error.diagnosis.by_account()
        row.update(status="infeasible", error_type="InfeasibleError", error=str(error))
        marked = marked_pnl(problem.positions, {a.id: a.price for a in problem.assets}, problem.as_of)
        for account in problem.accounts:
            pnl = marked.get(account.id, 0.0)
            row.update(_account(account.id, pnl, NAN, net_of_pnl(problem.terms[account.id].required, pnl), NAN,
                                short.get(account.id, 0.0)))
        return row
    except AllocatorError as error:
        row.update(status="failed", error_type=type(error).__name__, error=str(error))
        for account in problem.accounts:
            row.update(_account(account.id, NAN, NAN, NAN, NAN, NAN))
        return row
    assert result.objective is not None
    row.update(objective=result.objective.total, carry=result.objective.carry, transfer=result.objective.transfer)
    for coverage in result.accounts:
        row.update(_account(coverage.id, coverage.pnl, coverage.collateral, coverage.required, coverage.shadow_price,
                            0.0))
    return row
