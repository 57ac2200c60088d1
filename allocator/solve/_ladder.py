"""The one policy from a solver's answer to a verified optimum, for both horizons (engine and transition).

    attempt with the solver profile's margins
    ├── not exactly "optimal" (infeasible, an iteration or time limit, a numerical or solver error, inaccurate
    │   after the profile's looser retry): the elastic diagnosis decides
    │   ├── some account or limit is short by more than rounding  -> raise its InfeasibleError
    │   ├── the diagnosis itself failed                           -> SolverError naming both statuses
    │   ├── covered, and the solver said "infeasible"            -> covered only exactly: attempt again without
    │   │                                                            margins (note NO_MARGIN)
    │   ├── covered, and the solver failed numerically           -> attempt again without margins too (note
    │   │                                                            failed_note): an interior point can fail
    │   │                                                            instead of certifying the margined program
    │   │                                                            infeasible (a problem covered only exactly)
    │   └── covered, and the solver stopped at a limit, or       -> SolverError (it did not finish)
    │       inaccurate after the looser retry
    └── verify in numpy; a miss on a program whose answers may miss by the solver's tolerance (interior point),
        when it had margins: attempt once more with WIDER_MARGINS x wider margins and verify again (note); still
        failing, or an exact program that fails: VerificationError naming every answer's first violation

A caller supplies a :class:`Rungs`: how to attempt (build or assign the program with given margins and solve it),
how to verify an answer, and how to diagnose. Every note the ladder writes is the same text for both horizons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from allocator.errors import AllocatorError, SolverError, VerificationError
from allocator.solve._solvers import SolveRecord, SolverProfile
from allocator.solve._status import MAYBE_INFEASIBLE, Status

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: How much wider the margins of a retry are, after an interior-point answer missed a row by its tolerance.
WIDER_MARGINS = 30.0

NO_MARGIN = ("some account can only be covered exactly (no margin for rounding): its collateral equals its "
             "requirement to within floating-point rounding")


#: Statuses after which a problem the diagnosis finds covered is solved again without margins: the solver said
#: infeasible (covered only exactly), or failed numerically, which an interior point may do on that same
#: problem instead of certifying it infeasible (a transition whose account is covered only exactly, 2026-11-27).
WITHOUT_MARGINS = MAYBE_INFEASIBLE | {Status.SOLVER_ERROR}


def failed_note(raw_status: str) -> str:
    return (f"the solver failed on the program with margins ({raw_status[:120]}) and the elastic diagnosis covers "
            "every account: solved again without margins (some account may be covered only exactly, to within "
            "floating-point rounding); the answer is verified as always")


def widened_note(first: str) -> str:
    return (f"re-solved with {WIDER_MARGINS:g}x wider margins after the first answer missed by the solver's "
            f"tolerance ({first[:160]})")


class Rungs(Protocol[T_co]):
    """What the ladder needs from a horizon."""

    @property
    def solver(self) -> str: ...

    def attempt(self, margins: SolverProfile) -> SolveRecord:
        """Build or assign the program with these margins and solve it (never raises for a solver's outcome)."""

    def verify(self, record: SolveRecord, margins: SolverProfile) -> T_co:
        """The verified answer of an optimal record; raises VerificationError (or SolverError) otherwise."""

    def diagnose(self) -> AllocatorError | None:
        """The InfeasibleError to raise, None when the elastic copy covers every account and limit; raises
        SolverError when the elastic solve itself fails."""


@dataclass
class Climbed(Generic[T]):
    """The verified answer, the record it came from, the margins it was solved with and the ladder's notes."""

    answer: T
    record: SolveRecord
    margins: SolverProfile
    notes: list[str] = field(default_factory=list)


def climb(rungs: Rungs[T], margins: SolverProfile, *, widen: bool) -> Climbed[T]:
    """Run the policy of the module docstring. ``widen``: a failed check may be the solver's own tolerance (an
    interior-point method on a conic program); a simplex vertex is exact, so there a failed check is a fault."""
    notes: list[str] = []
    failed: SolveRecord | None = None  # the first attempt, when it was not optimal
    record = rungs.attempt(margins)
    if record.status is not Status.OPTIMAL:
        _decide(rungs, record)  # raises unless the problem is covered and the status is one of WITHOUT_MARGINS
        failed = record
        margins = margins.without_margins()
        record = rungs.attempt(margins)
        if record.status is not Status.OPTIMAL:
            raise _unfinished(record, "after its elastic copy covered every account, solved without margins")
        notes.append(NO_MARGIN if failed.status in MAYBE_INFEASIBLE else failed_note(failed.raw_status))
    try:
        answer = rungs.verify(record, margins)
    except VerificationError as first:
        if not (widen and margins.coverage_margin > 0):
            if failed is not None:  # the answer without margins, after the solver's status with them: say both
                raise VerificationError([f"solver {rungs.solver} returned {failed.raw_status[:160]!r} with margins; "
                                         "solved again without margins, its answer fails verification",
                                         *first.violations], solver=rungs.solver) from first
            raise
        wider = margins.widened(WIDER_MARGINS)
        retry = rungs.attempt(wider)
        try:
            if retry.status is not Status.OPTIMAL:
                raise _unfinished(retry, f"re-solved with {WIDER_MARGINS:g}x wider margins")
            answer = rungs.verify(retry, wider)
        except SolverError as again:
            raise VerificationError([str(first)[:400], f"re-solved with {WIDER_MARGINS:g}x wider margins: "
                                     f"{str(again)[:400]}"], solver=rungs.solver) from again
        notes.append(widened_note(str(first.violations[0]) if first.violations else str(first)))
        record, margins = retry, wider
    return Climbed(answer, record, margins, notes)


def _decide(rungs: Rungs[object], record: SolveRecord) -> None:
    """After a status other than optimal: raise what the elastic diagnosis finds, or return when the solver said
    infeasible of a problem its elastic copy covers (covered only exactly: the caller solves without margins), or
    failed numerically on it (WITHOUT_MARGINS)."""
    try:
        infeasible = rungs.diagnose()
    except SolverError as failed:
        raise SolverError(f"solver {record.solver} returned {record.raw_status!r}, and the elastic diagnosis that "
                          f"decides whether the problem is feasible failed too ({failed}); only 'optimal' is "
                          "accepted", solver=record.solver, status=record.status.value) from failed
    if infeasible is not None:
        raise infeasible
    if record.status not in WITHOUT_MARGINS:
        raise _unfinished(record, "although its elastic copy covers every account and limit")


def _unfinished(record: SolveRecord, context: str) -> SolverError:
    return SolverError(f"solver {record.solver} returned {record.raw_status!r} {context}; only 'optimal' is "
                       "accepted", solver=record.solver, status=record.status.value)

