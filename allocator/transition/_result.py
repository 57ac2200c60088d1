"""What a transition returns: the schedule of steps, the cost split, coverage per period, diagnostics.

Frozen models with DataFrame views, the flat ``to_frame(name)`` (results/frames.py), ``to_json``/``from_json``,
``summary()``, ``to_html()`` and ``_repr_html_()``, like :class:`allocator.results.result.Result`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import pandas as pd
from pydantic import Field

from allocator.results.frames import flat_frame, unknown_frame
from allocator.results.reportable import Reportable, Row


class TransitionStep(Row):
    """One step. A transfer moves ``quantity`` of ``asset`` from ``from`` to ``to``; a trade at ``venue`` sells
    ``quantity`` of ``asset`` and buys ``quantity_to`` of ``asset_to``. Times are hours from the start."""

    step: int
    period: int  # 1-based
    start_hours: float
    arrival_hours: float  # transfer: when it lands; trade: the end of its period
    kind: Literal["transfer", "trade"]
    asset: str
    from_: str = Field(alias="from")
    to: str
    venue: str | None = None
    quantity: float
    value: float  # currency, today's prices
    asset_to: str | None = None
    quantity_to: float | None = None
    value_to: float | None = None
    cost: float  # transfer: route cost; trade: value sold minus value bought (fees, spreads and impact)


class TransitionCosts(Row):
    total: float
    carry: float
    transfer: float
    fees: float
    spread: float
    impact: float


class PeriodCoverage(Row):
    account: str
    period: int
    lowest: float  # lowest haircut-adjusted collateral within the period
    end: float  # at the period's end
    floor: float  # min(collateral today, requirement)
    required: float  # buffered requirement (the end state's target)


class TransitionTarget(Row):
    asset: str
    location: str
    quantity: float
    value: float
    initial_quantity: float


class TransitionExposure(Row):
    """Value of the desk's holdings of volatile assets (transition/_exposure.py) today and at the end."""

    volatile: list[str]
    before: float
    after: float


class TransitionDiagnostics(Row):
    """``status``: "optimal" (an exact optimum: the convex program, or a MILP solved to its gap tolerance whose
    support the convex program then schedules), or "feasible (<why>)": a MILP stopped at a limit ("feasible
    (time limit)", with ``milp_gap``), the heuristic ("feasible (heuristic)"), or the heuristic's schedule
    returned by the MILP option. ``solver`` ran the program that chose the moves (HIGHS for the MILP and the
    heuristic), ``schedule_solver`` the convex program that gives the schedule and its cost."""

    solver: str
    status: str
    mode: Literal["convex", "linear", "milp", "heuristic"]
    schedule_solver: str | None = None
    solve_seconds: float
    total_seconds: float
    money_scale: float
    relaxation_cost: float | None = None  # the convex relaxation's cost (with move limits)
    gap: float | None = None  # (cost - relaxation) / |relaxation|: the price of the move limits
    milp_gap: float | None = None  # HiGHS's relative gap between the MILP's incumbent and bound (its objective)
    lower_bound: float | None = None  # the linear path's: no schedule costs less (the convex optimum without margins)
    bound_gap: float | None = None  # cost - lower_bound: the schedule is at most this far above the convex optimum
    notes: list[str] = Field(default_factory=list)


class TransitionResult(Reportable):
    status: Literal["optimal", "feasible"] = "optimal"  # feasible: meets every constraint, optimality not proven
    currency: str
    periods: int
    period_hours: float
    costs: TransitionCosts
    steps: list[TransitionStep]
    coverage: list[PeriodCoverage]
    targets: list[TransitionTarget]
    completion_hours: float  # when the last step lands (0 when nothing moves)
    diagnostics: TransitionDiagnostics
    exposure: TransitionExposure | None = None

    @property
    def schedule_frame(self) -> pd.DataFrame:
        columns = list(TransitionStep.model_fields)
        columns[columns.index("from_")] = "from"
        return pd.DataFrame([s.model_dump(by_alias=True) for s in self.steps], columns=columns)

    @property
    def coverage_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.model_dump() for c in self.coverage], columns=list(PeriodCoverage.model_fields))

    @property
    def lowest_frame(self) -> pd.DataFrame:
        """Per account: the lowest collateral during the transition, its floor, and the period it occurs in."""
        frame = self.coverage_frame
        rows = frame.loc[frame.groupby("account", sort=False)["lowest"].idxmin()]
        return rows[["account", "period", "lowest", "floor", "required"]].reset_index(drop=True)

    @property
    def targets_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.model_dump() for t in self.targets], columns=list(TransitionTarget.model_fields))

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True)

    @classmethod
    def from_json(cls, text: str) -> TransitionResult:
        return cls.model_validate_json(text)

    #: The names ``to_frame`` accepts.
    FRAMES: ClassVar[tuple[str, ...]] = ("steps", "coverage", "lowest", "targets")

    def to_frame(self, name: str) -> pd.DataFrame:
        """One flat frame (``FRAMES``), with the same column names and units as ``Result.to_frame`` (an account is
        ``account``, money in the currency, quantities in asset units, times in hours; ``frame.attrs["units"]``).
        ``steps`` is ``schedule_frame``; ``lowest`` is, per account, the lowest collateral during the transition."""
        if name == "steps":
            return flat_frame(self.steps, TransitionStep)
        if name == "coverage":
            return flat_frame(self.coverage, PeriodCoverage)
        if name == "targets":
            return flat_frame(self.targets, TransitionTarget)
        if name == "lowest":
            frame = flat_frame(self.coverage, PeriodCoverage)
            units = frame.attrs["units"]
            frame = frame.loc[frame.groupby("account", sort=False)["lowest"].idxmin()] if len(frame) else frame
            frame = frame[["account", "period", "lowest", "floor", "required"]].reset_index(drop=True)
            frame.attrs["units"] = {k: v for k, v in units.items() if k in frame.columns}
            return frame
        raise unknown_frame(name, self.FRAMES)

    def headline(self) -> list[tuple[str, str]]:
        """(label, text) pairs: status, cost, accounts covered, plan, exposure, solver (``summary()`` prints them)."""
        c, d, money = self.costs, self.diagnostics, self.currency
        if self.status == "optimal":
            status = "optimal"
        else:
            gap = f", MILP gap {d.milp_gap:.2%}" if d.milp_gap is not None else ""
            status = f"{d.status}{gap}: meets every constraint, optimality not proven"
        last = {row.account: row for row in self.coverage if row.period == self.periods}
        covered = sum(row.end >= row.required - 1e-9 * max(abs(row.required), 1.0) for row in last.values())
        dipped = sorted({row.account for row in self.coverage if row.lowest < row.floor - 1e-9 * max(row.floor, 1.0)})
        trades = sum(step.kind == "trade" for step in self.steps)
        pairs = [("status", status),
                 ("cost", f"{c.total:,.2f} {money} (carry {c.carry:,.2f}, transfers {c.transfer:,.2f}, fees "
                          f"{c.fees:,.2f}, spread {c.spread:,.2f}, impact {c.impact:,.2f})"),
                 ("accounts covered", f"{covered} of {len(last)} at the end; "
                                      + (f"below its floor during the transition: {', '.join(dipped)}" if dipped
                                         else "none below its floor during the transition")),
                 ("plan", f"{len(self.steps)} steps ({len(self.steps) - trades} transfers, {trades} trades) over "
                          f"{self.periods} x {self.period_hours:g} h; complete after {self.completion_hours:g} h")]
        if self.exposure is not None:
            e = self.exposure
            pairs.append(("volatile holdings", f"{e.before:,.2f} {money} today, {e.after:,.2f} at the end ("
                                               f"{', '.join(e.volatile) or 'none'})"))
        how = d.solver if d.schedule_solver in (None, d.solver) else f"{d.solver}, schedule by {d.schedule_solver}"
        return [*pairs, ("solver", f"{how} ({d.mode}), {d.total_seconds:.3f} s")]

    def summary(self) -> str:
        """A few lines of text (``headline()``); ``transition/_report.py`` prints the long form with tables."""
        return self.headline_text()


