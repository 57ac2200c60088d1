"""What an optimisation returns: targets, account coverage, the transition plan and solver diagnostics.

A :class:`Result` is frozen, has DataFrame views (``targets_frame`` …, and the flat ``to_frame(name)`` with one
name and unit per column, results/frames.py), round-trips through JSON (``Result.from_json(result.to_json())``),
and shows itself: ``summary()`` (a few lines of text), ``to_html()`` (the self-contained report, docs/report.md)
and ``_repr_html_()`` (a compact table for notebooks). An infeasible problem gives a result only through the CLI (or
``InfeasibleError.result``): ``status = "infeasible"`` with ``shortfalls`` and nothing else filled in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from allocator.results.cell_rows import CellRows
from allocator.results.frames import flat_frame, unknown_frame, with_units
from allocator.results.marginal import MarginalValue as MarginalValue  # re-exported: rows of `marginal_values`
from allocator.results.marginal import MarginalValues
from allocator.results.reportable import Reportable, Row, rows_frame

if TYPE_CHECKING:  # pandas is imported by the frames only (results/frames.py): a solve never loads it
    import pandas as pd


class Objective(Row):
    total: float
    carry: float
    transfer: float
    hedging: float = Field(default=0.0, description="the hedges' funding and fees over the horizon (currency; "
                                                    "docs/hedging.md)")


class Target(Row):
    asset: str
    location: str
    quantity: float
    value: float
    initial_quantity: float


class Targets(CellRows[Target]):
    """The target rows as columns (results/cell_rows.py): ``columns["quantity"]``, ``["value"]`` and
    ``["initial_quantity"]`` are read-only arrays."""

    ROW = Target
    __slots__ = ()


class AccountCoverage(Row):
    """One account's coverage. ``requirement`` is the venue's (given or derived by the rulebook); ``pnl`` the
    change of its positions' value since they were last marked (a what-if that moves prices; 0 otherwise), which
    counts in its equity: ``required = max(requirement * (1 + buffer) - pnl, 0)`` and the risk rows ask for
    ``max(requirement - pnl, 0)`` (docs/what-if.md)."""

    id: str
    requirement: float
    pnl: float = Field(default=0.0, description="positions' P&L since their last mark (currency); a loss is < 0")
    required: float
    collateral: float
    initial_collateral: float
    excess: float
    shadow_price: float = Field(description="objective increase per unit of extra requirement (currency/currency)")
    sigma: float | None = Field(default=None, description="std. deviation of the account's equity over its risk "
                                                          "horizon (currency), with a parametric limit")
    risk_excess: float | None = Field(default=None, description="collateral - z * sigma - max(requirement - pnl, "
                                                               "0)")
    cvar: float | None = Field(default=None, description="CVaR of the account's loss over its Monte Carlo draws")
    worst_scenario: str | None = None
    main_underlying: str | None = None
    liquidation_move: float | None = Field(default=None, description="uniform move of the main underlying at "
                                           "which collateral plus positions falls to the requirement")
    market_liquidation_move: float | None = Field(default=None, description="the same for a move of every "
                                                  "volatile market asset together")
    worst_scenario_excess: float | None = Field(default=None, description="collateral after the worst stress "
                                                "scenario, plus its P&L, minus max(requirement - pnl, 0)")
    margin_mode: str = Field(default="cross", description="isolated | cross | portfolio (docs/margin-modes.md)")
    parent: str | None = Field(default=None, description="the isolated account this sub-account belongs to")
    hedge_margin: float = Field(default=0.0, description="margin of the account's hedges, in requirement (currency)")


class HedgeTrade(Row):
    """A recommended hedge trade (docs/hedging.md): open ``notional`` (signed: long > 0) of ``instrument``."""

    account: str
    instrument: str
    underlying: str
    quantity: float = Field(description="units of the underlying, signed")
    notional: float = Field(description="quantity x price (currency), signed")
    funding: float = Field(description="funding over the horizon (currency; negative: received)")
    fee: float = Field(description="fee on the notional traded (currency)")
    margin: float = Field(description="requirement the hedge adds to its account (currency)")


class DeltaRow(Row):
    """Delta (currency per unit return of ``underlying``) before and after, per account and for the treasury."""

    owner: str = Field(description="an account id, or 'treasury'")
    underlying: str
    before: float = Field(description="today's holdings and positions, no hedge")
    after: float = Field(description="the targets, positions and recommended hedges")
    limit: float | None = Field(default=None, description="max_net_delta, if the owner has a band on it")


class Step(Row):
    step: int
    kind: Literal["transfer"] = "transfer"
    asset: str
    from_: str = Field(alias="from")
    to: str
    quantity: float
    value: float
    cost: float
    needs_funding: bool = False


class Binding(Row):
    label: str
    shadow_price: float = Field(description="objective increase per currency of extra requirement of the row's "
                                            "account (a limit: per currency of tightening it); an account's rows "
                                            "add up to its shadow_price")


class Funding(Row):
    step: int
    account: str
    amount: float


class PortfolioCoverage(Row):
    """The treasury-wide limit ([portfolio]): every account's collateral together against every requirement."""

    requirement: float = Field(description="sum of the accounts' requirements (no buffers)")
    pnl: float = Field(default=0.0, description="sum of the accounts' positions' P&L since their last mark")
    collateral: float
    sigma: float = Field(description="std. deviation of the whole book's change over the portfolio horizon")
    risk_excess: float = Field(description="collateral - z * sigma - sum of max(requirement - pnl, 0)")
    worst_scenario: str | None = None
    worst_scenario_excess: float | None = None


class Shortfall(Row):
    account: str
    amount: float
    constraint: str = "coverage"


class Diagnostics(Row):
    solver: str
    status: str
    phases: list[str]
    compile_seconds: float = 0.0
    setup_seconds: float = 0.0
    solve_seconds: float = 0.0
    total_seconds: float = 0.0
    money_scale: float = 1.0
    rate_scale: float = 1.0
    fallback_from: str | None = Field(default=None, description="the solver that failed, when a fallback solved")
    notes: list[str] = Field(default_factory=list)


TIMING_FIELDS = {"compile_seconds", "setup_seconds", "solve_seconds", "total_seconds"}


class Result(Reportable):
    status: Literal["optimal", "infeasible"]
    currency: str
    objective: Objective | None = None
    targets: Targets = Field(default_factory=Targets.empty, description="rows of asset, location, quantity, value "
                             "and initial_quantity, kept as columns (results/cell_rows.py)")
    accounts: list[AccountCoverage] = Field(default_factory=list)
    portfolio: PortfolioCoverage | None = None
    plan: list[Step] = Field(default_factory=list)
    plan_safe: bool = True
    funding: list[Funding] = Field(default_factory=list)
    shortfalls: list[Shortfall] = Field(default_factory=list)
    planned: bool = True
    marginal_values: MarginalValues = Field(default_factory=MarginalValues.empty, description="rows of asset, "
                                            "location and value, kept as columns (results/marginal.py)")
    binding: list[Binding] = Field(default_factory=list)
    hedges: list[HedgeTrade] = Field(default_factory=list)
    deltas: list[DeltaRow] = Field(default_factory=list)
    hedge_saving: float | None = Field(default=None, description="the unhedged optimum's cost minus this one's "
                                       "(currency); set by allocator.analysis.hedging.hedge_savings")
    diagnostics: Diagnostics

    @property
    def targets_frame(self) -> pd.DataFrame:
        return self.targets.frame()

    @property
    def accounts_frame(self) -> pd.DataFrame:
        return rows_frame(self.accounts, AccountCoverage).set_index("id")

    @property
    def plan_frame(self) -> pd.DataFrame:
        return rows_frame(self.plan, Step).set_index("step")

    @property
    def marginal_values_frame(self) -> pd.DataFrame:
        return self.marginal_values.frame()

    @property
    def shortfalls_frame(self) -> pd.DataFrame:
        return rows_frame(self.shortfalls, Shortfall)

    @property
    def hedges_frame(self) -> pd.DataFrame:
        return rows_frame(self.hedges, HedgeTrade)

    @property
    def deltas_frame(self) -> pd.DataFrame:
        return rows_frame(self.deltas, DeltaRow)

    def to_json(self, *, timings: bool = True, indent: int | None = 2) -> str:
        """JSON text; ``timings=False`` leaves out the seconds so equal inputs give byte-identical text. Written by
        pydantic's serializer (0.08 s for a 1000 x 60 book's 7 MB where the json module's indenting encoder took
        0.7 s); floats in their shortest round-trip form, as pydantic writes them (``1e-9``)."""
        exclude = None if timings else {"diagnostics": TIMING_FIELDS}
        return self.model_dump_json(indent=indent, by_alias=True, exclude=exclude)

    @classmethod
    def from_json(cls, text: str | bytes) -> Result:
        return cls.model_validate_json(text)

    #: The names ``to_frame`` accepts.
    FRAMES: ClassVar[tuple[str, ...]] = ("targets", "accounts", "plan", "funding", "shortfalls", "marginal_values",
                                         "binding")

    def to_frame(self, name: str) -> pd.DataFrame:
        """One flat frame of the result (``FRAMES``): one row per item, a RangeIndex, the account column named
        ``account`` and a marginal value ``marginal_value`` as in every frame, units in ``frame.attrs["units"]``
        (results/frames.py). The ``*_frame`` properties are the same rows, some indexed by their key."""
        rows: dict[str, tuple[Sequence[Row], type[Row], dict[str, str]]] = {
            "accounts": (self.accounts, AccountCoverage, {"id": "account"}),
            "plan": (self.plan, Step, {}),
            "funding": (self.funding, Funding, {}),
            "shortfalls": (self.shortfalls, Shortfall, {}),
            "binding": (self.binding, Binding, {}),
        }
        if name == "marginal_values":  # straight from its columns, as flat_frame would make it from the rows
            return with_units(self.marginal_values.frame().rename(columns={"value": "marginal_value"}))
        if name == "targets":
            return with_units(self.targets.frame())
        if name not in rows:
            raise unknown_frame(name, self.FRAMES)
        items, model, rename = rows[name]
        return flat_frame(items, model, rename)

    def headline(self) -> list[tuple[str, str]]:
        """The figures a reader needs first, as (label, text) pairs: status, cost, accounts covered, plan, solver.
        ``summary()`` prints them; the report's first section shows them."""
        money, d = self.currency, self.diagnostics
        solver = d.solver + (f", {d.total_seconds:.3f} s" if d.total_seconds else "") + \
            (f" (after {d.fallback_from} failed)" if d.fallback_from else "")
        if self.status == "infeasible":
            short = [s for s in self.shortfalls if s.constraint == "coverage"]
            limits = [s for s in self.shortfalls if s.constraint != "coverage"]
            pairs = [("status", "infeasible: no allocation meets every requirement and limit"),
                     ("shortfall", f"{sum(s.amount for s in short):,.2f} {money} uncovered by the best allocation ("
                                   + ", ".join(f"{s.account} {s.amount:,.2f}" for s in short) + ")")]
            if limits:
                pairs.append(("limits exceeded", ", ".join(f"{s.constraint} by {s.amount:,.2f}" for s in limits)))
            return [*pairs, ("solver", solver)]
        assert self.objective is not None  # an optimal result always has its objective
        o = self.objective
        covered = sum(a.collateral >= a.required - 1e-9 * max(abs(a.required), 1.0) for a in self.accounts)
        if not self.planned:
            plan = "not computed"
        elif not self.plan:
            plan = "nothing to move"
        elif self.plan_safe:
            plan = f"{len(self.plan)} transfers, in a safe order"
        else:
            flagged = sum(s.needs_funding for s in self.plan)
            plan = (f"{len(self.plan)} transfers; {flagged} need{'s' if flagged == 1 else ''} temporary funding "
                    f"({sum(f.amount for f in self.funding):,.2f} {money})")
        return [("status", "optimal" if self.plan_safe else "optimal, but the plan needs temporary funding"),
                ("cost", f"{o.total:,.2f} {money} over the horizon (carry {o.carry:,.2f}, transfers "
                         f"{o.transfer:,.2f}" + (f", hedging {o.hedging:,.2f})" if o.hedging else ")")),
                ("accounts covered", f"{covered} of {len(self.accounts)}"),
                ("plan", plan),
                ("solver", solver)]

    def summary(self) -> str:
        """A few lines of text: status, cost, accounts covered, plan steps and solver (``headline()``)."""
        return self.headline_text()



