"""The one exception tree of allocator.

    AllocatorError
    ├── InputError          the problem is malformed; carries every located issue at once
    │   └── HistoryError        a market history file cannot be read or is too short
    ├── InfeasibleError     no allocation covers every account; carries the shortfall per account
    │   └── TransitionInfeasibleError   no schedule covers every account in time; names the binding limits
    └── SolverError         the solver did not return a trustworthy optimum
        └── VerificationError   the solver said "optimal" but an independent check failed

Every error is raised before a result exists: an error never comes with a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from allocator.results.result import Result
    from allocator.solve._diagnose import Diagnosis


@dataclass(frozen=True)
class InputIssue:
    """One problem with the input: where (``accounts[2].haircuts.SOL``), what, and a stable code."""

    location: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class AllocatorError(Exception):
    """Base class of every error allocator raises on purpose."""


class InputError(AllocatorError):
    """The problem is malformed. ``issues`` lists every located issue found, in input order."""

    def __init__(self, issues: list[InputIssue] | tuple[InputIssue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class Diagnosed(Protocol):
    def by_account(self) -> dict[str, float]: ...

    def summary(self) -> str: ...


class InfeasibleError(AllocatorError):
    """No allocation covers every account. ``diagnosis`` says which accounts fall short and by how much
    (``diagnosis.by_account()``); for a single-period problem ``result`` is the same as a Result with
    ``status = "infeasible"`` (what the CLI writes)."""

    def __init__(self, diagnosis: Diagnosis | Diagnosed, result: Result | None = None) -> None:
        self.diagnosis = diagnosis
        self.result = result
        super().__init__(diagnosis.summary())


class HistoryError(InputError):
    """A market history file cannot be read, or has too few returns; located at the field that names it."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__([InputIssue(location, message, "history")])


class SolverError(AllocatorError):
    """The solver failed or returned a status other than exactly optimal."""

    def __init__(self, message: str, *, solver: str = "", status: str = "") -> None:
        self.solver = solver
        self.status = status
        super().__init__(message)


class VerificationError(SolverError):
    """The solver reported an optimum that failed the independent numpy check of its constraints."""

    def __init__(self, violations: list[str], *, solver: str = "") -> None:
        self.violations = tuple(violations)
        shown = "; ".join(violations[:5]) + (f"; and {len(violations) - 5} more" if len(violations) > 5 else "")
        super().__init__(f"solver {solver} returned an allocation that fails verification: {shown}",
                         solver=solver, status="verification_failed")
