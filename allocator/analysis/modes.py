"""Margin modes side by side: the same book in isolated, cross and portfolio margin (docs/margin-modes.md).

``compare_modes(problem)`` puts every account that can change mode (a venue rulebook derives its requirement from
its positions) in each mode its venue offers, solves each variant to its verified optimum and returns one row per
mode: capital cost, total requirement, required and collateral posted, and which accounts are in the mode. An
account that cannot take a mode keeps the mode it has (the ``kept`` column says why): a requirement given in the
file, no rulebook, or a venue that does not offer the mode (Hyperliquid offers no portfolio margin).

``stress``: a function of a mode's problem and its optimal result returning named figures (liquidations, losses)
that become columns of that mode's row; by default :func:`episode_outcome` runs ``allocator.stress`` over the
historical episodes with cascades. Every row also reports the worst excess after the problem's own stress
scenarios, where its accounts have them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import InfeasibleError
from allocator.inputs.isolated import collapse
from allocator.inputs.problem import Problem
from allocator.results.result import Result
from allocator.solve._engine import optimize
from allocator.venues.rulebooks import load_rulebook

MODES = ("isolated", "cross", "portfolio")
#: A stress hook: figures of one mode's problem and optimal result, each a column of that mode's row.
StressHook = Callable[[Problem, Result], Mapping[str, Any]]


def episode_outcome(problem: Problem, result: Result) -> dict[str, Any]:
    """The default stress hook: the mode's optimal allocation through the historical episodes of
    models/stress-episodes.toml with cascades (allocator.stress, docs/stress.md): in how many episodes some account
    is liquidated, how many liquidations in all, and the worst episode with its total loss (currency)."""
    from allocator.analysis.stress import stress

    summary = stress(problem, result).summary
    if summary.empty:
        return {"episodes_liquidated": 0, "liquidations": 0, "worst_episode": None, "worst_loss": 0.0}
    worst = summary.loc[summary["total_loss"].idxmax()]
    return {"episodes_liquidated": int((summary["liquidated"] > 0).sum()),
            "liquidations": int(summary["liquidated"].sum()), "worst_episode": str(worst["scenario"]),
            "worst_loss": float(worst["total_loss"])}


def in_mode(problem: Problem, mode: str) -> tuple[Problem, list[str], dict[str, str]]:
    """The problem with every account that can take ``mode`` in it; (problem, accounts put in the mode,
    {account kept as it was: why})."""
    data = collapse(problem.model_dump(by_alias=True))
    moved, kept = [], {}
    for row in data["accounts"]:
        ident, book = row["id"], row.get("rulebook")
        if book is None:
            kept[ident] = "no rulebook"
        elif row.get("requirement") is not None:
            kept[ident] = "requirement given"
        elif mode not in load_rulebook(book).modes:
            kept[ident] = f"{book} offers no {mode} margin"
        else:
            row["margin_mode"] = mode
            moved.append(ident)
    return Problem.model_validate(data), moved, kept


def compare_modes(problem: Problem, *, modes: Sequence[str] = MODES, stress: StressHook | None = episode_outcome,
                  by_account: bool = False, solver: str | None = None, **options: Any) -> pd.DataFrame:
    """One row per mode (index ``mode``): ``status`` (optimal | infeasible), ``cost`` (capital cost over the
    horizon), ``carry``, ``transfer``, ``hedging``, ``requirement`` (sum of the accounts' requirements, hedges'
    margin included), ``required`` (with buffers, net of P&L), ``collateral`` (haircut-adjusted, posted at
    accounts), ``shortfall`` (infeasible: the least total any allocation leaves), ``accounts`` (how many,
    isolated sub-accounts included), ``in_mode`` and ``kept`` (module docstring), ``worst_scenario_excess``, and
    the ``stress`` hook's columns (by default :func:`episode_outcome`: liquidations and losses in the
    historical episodes; ``stress=None`` leaves them out). ``by_account=True``: one row per mode and account
    instead (index ``mode``, ``account``) with its mode, parent, requirement, required and collateral.
    ``options`` go to ``optimize``."""
    rows, accounts = [], []
    for mode in modes:
        variant, moved, kept = in_mode(problem, mode)
        row: dict[str, Any] = {"mode": mode, "in_mode": ", ".join(moved),
                               "kept": "; ".join(f"{k}: {why}" for k, why in kept.items())}
        try:
            result = optimize(variant, solver, **options)
        except InfeasibleError as error:
            row.update(status="infeasible", shortfall=sum(error.diagnosis.by_account().values()),
                       accounts=len(variant.accounts))
            rows.append(row)
            continue
        assert result.objective is not None
        frame = result.accounts_frame
        excess = [a.worst_scenario_excess for a in result.accounts if a.worst_scenario_excess is not None]
        row.update(status="optimal", cost=result.objective.total, carry=result.objective.carry,
                   transfer=result.objective.transfer, hedging=result.objective.hedging,
                   requirement=float(frame["requirement"].sum()), required=float(frame["required"].sum()),
                   collateral=float(frame["collateral"].sum()), shortfall=0.0, accounts=len(frame),
                   worst_scenario_excess=min(excess) if excess else np.nan)
        if stress is not None:
            row.update(dict(stress(variant, result)))
        rows.append(row)
        accounts += [{"mode": mode, "account": a.id, "margin_mode": a.margin_mode, "parent": a.parent,
                      "requirement": a.requirement, "required": a.required, "collateral": a.collateral}
                     for a in result.accounts]
    if by_account:
        return pd.DataFrame(accounts, columns=["mode", "account", "margin_mode", "parent", "requirement",
                                               "required", "collateral"]).set_index(["mode", "account"])
    return pd.DataFrame(rows).set_index("mode")
