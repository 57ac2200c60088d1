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


#: Statuses after which the elastic diagnosis is run (the problem may really be infeasible).
MAYBE_INFEASIBLE = frozenset({Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED})


def stalled(status: Status, time_limit: float | None) -> bool:
    """An iteration limit without a time limit: maybe infeasibility the solver did not certify (seen with
    Clarabel on a transition), so the elastic diagnosis decides, as for MAYBE_INFEASIBLE."""
    return status is Status.USER_LIMIT and time_limit is None
