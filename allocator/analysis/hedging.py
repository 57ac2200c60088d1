"""What the hedges save: the optimum with the problem's hedges against the optimum without them (docs/hedging.md).

``hedge_savings(problem)`` solves the problem twice: as given, and unhedged, that is with no ``[[hedges]]`` and no
delta bands (a band is hedging policy: without hedges there is nothing to meet it with). The unhedged problem is a
different program (no hedge variables), built and compiled on its own. The saving is the unhedged optimum's
capital cost minus the hedged one's, in currency over the horizon: carry and transfers saved because the hedges let
accounts post less collateral, less the hedges' funding and fees (funding received counts as a saving too). It is
written into the hedged result's ``hedge_saving``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from allocator.errors import InfeasibleError
from allocator.inputs.hedges import without_hedges
from allocator.inputs.problem import Problem
from allocator.results.result import Result
from allocator.solve._engine import optimize

COLUMNS = ("cost", "carry", "transfer", "hedging", "requirement", "collateral")


@dataclass(frozen=True)
class HedgeSavings:
    hedged: Result  # the optimum with the hedges, its ``hedge_saving`` set (None if the unhedged one is infeasible)
    unhedged: Result | None  # the optimum without hedges and bands; None when that problem is infeasible
    saving: float | None  # unhedged cost - hedged cost (currency over the horizon)

    @property
    def frame(self) -> pd.DataFrame:
        """Rows ``unhedged``, ``hedged`` and ``saving`` (their difference); columns cost, carry, transfer, hedging,
        requirement (sum over accounts) and collateral (posted, haircut-adjusted)."""
        rows = {"unhedged": _figures(self.unhedged), "hedged": _figures(self.hedged)}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
        frame.loc["saving"] = frame.loc["unhedged"] - frame.loc["hedged"]
        return frame


def unhedged(problem: Problem) -> Problem:
    """The problem without its hedges and delta bands."""
    return Problem.model_validate(without_hedges(problem.model_dump(by_alias=True)))


def hedge_savings(problem: Problem, solver: str | None = None, **options: Any) -> HedgeSavings:
    """Solve ``problem`` with and without its hedges (module docstring). Raises what ``optimize`` raises for the
    hedged problem; an infeasible unhedged problem gives ``unhedged = saving = None``."""
    hedged = optimize(problem, solver, **options)
    try:
        plain: Result | None = optimize(unhedged(problem), solver, **options)
    except InfeasibleError:
        plain = None
    if plain is None:
        return HedgeSavings(hedged, None, None)
    assert plain.objective is not None and hedged.objective is not None
    saving = plain.objective.total - hedged.objective.total
    return HedgeSavings(hedged.model_copy(update={"hedge_saving": saving}), plain, saving)


def _figures(result: Result | None) -> list[float]:
    if result is None or result.objective is None:
        return [float("nan")] * len(COLUMNS)
    objective = result.objective
    return [objective.total, objective.carry, objective.transfer, objective.hedging,
            sum(a.requirement for a in result.accounts), sum(a.collateral for a in result.accounts)]
