"""Our own solve statuses. Only ``OPTIMAL`` ever yields a result."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    INFEASIBLE = "infeasible"
    INFEASIBLE_INACCURATE = "infeasible_inaccurate"
    UNBOUNDED = "unbounded"
    UNBOUNDED_INACCURATE = "unbounded_inaccurate"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    USER_LIMIT = "user_limit"
    SOLVER_ERROR = "solver_error"

    @classmethod
    def from_cvxpy(cls, status: str | None) -> Status:
        try:
            return cls(status or "")
        except ValueError:
            return cls.SOLVER_ERROR


#: Statuses with which the solver says the problem is infeasible. Every status but OPTIMAL goes to the elastic
#: diagnosis (solve/_ladder.py); after these, a problem the diagnosis finds covered is covered only exactly and is
#: solved again without margins, as after a numerical failure (``_ladder.WITHOUT_MARGINS``); after a limit or an
#: inaccurate answer the solver simply did not finish.
MAYBE_INFEASIBLE = frozenset({Status.INFEASIBLE, Status.INFEASIBLE_INACCURATE, Status.INFEASIBLE_OR_UNBOUNDED})
