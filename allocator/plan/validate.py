"""Replaying a plan from today's holdings and reporting every violation (an empty list means valid)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from allocator.inputs.problem import Problem
from allocator.plan.ledger import Ledger
from allocator.plan.risk import PORTFOLIO, MarginChange
from allocator.plan.validate_fast import replays_clean
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.results.result import Result, Step, Target

#: Violations a step flagged ``needs_funding`` may have: it takes an account (or the book) below a floor, by the
#: amount recorded in the result's ``funding``.
FUNDABLE = frozenset({"floor", "risk_floor", "portfolio_floor"})


@dataclass(frozen=True)
class PlanViolation:
    step: int  # 0 for the end state
    kind: str  # route | quantity | overdraw | floor | risk_floor | portfolio_floor | target
    message: str
    limit: str = ""  # risk_floor and portfolio_floor: the limit's label, e.g. "parametric" or "stress[crash]"

    def __str__(self) -> str:
        return f"step {self.step}: {self.message}" if self.step else f"end: {self.message}"


def validate_plan(problem: Problem, plan: Result | Sequence[Step], targets: Iterable[Target] | None = None, *,
                  arrays: tuple[Layout, Numbers] | None = None) -> list[PlanViolation]:
    """Replay ``plan`` (a Result, or its steps) on ``problem``; given a Result, also check its targets.

    Checks each step's route (and the route's asset list), that the quantity is positive and finite, that
    the source holds it, that no account falls below ``min(collateral today, requirement)``, and that no risk
    limit's margin (its left side minus the requirement, plan/risk.py) falls below ``min(margin today, 0)`` or,
    already below, any further; at the end, that the holdings equal ``targets``. A Result's hedges are open from
    the start (docs/hedging.md): their margin and exposure count at every step. ``arrays``: the problem's layout and
    numbers, hedged with the result's hedges, when the caller has them (the engine). Tolerance: ``TOLERANCE`` of the
    account's size (of the book's for the portfolio limit) plus float rounding (docs/transition-plan.md).
    """
    if isinstance(plan, Result):
        targets = plan.targets if targets is None else targets
        arrays = hedged_arrays(problem, plan) if arrays is None else arrays
        plan = plan.plan
    ledger = Ledger(problem, arrays)
    steps = plan if isinstance(plan, Sequence) else list(plan)
    if targets is not None and not isinstance(targets, Sequence):
        targets = list(targets)  # read twice: by the screen, then maybe step by step
    if replays_clean(ledger, steps, targets):
        return []  # proved: the step-by-step replay below would find nothing (plan/validate_fast.py)
    violations: list[PlanViolation] = []
    for step in steps:
        violations.extend(_check_step(ledger, step))
    if targets is not None:
        violations.extend(_check_end(ledger, targets))
    return violations


def hedged_arrays(problem: Problem, result: Result) -> tuple[Layout, Numbers] | None:
    """The problem's layout and numbers with the result's hedges traded, or None when it has no hedges."""
    if not problem.hedges:
        return None
    layout = Layout.from_problem(problem)
    traded = {(h.account, h.instrument): h.notional for h in result.hedges}
    notional = np.array([traded.get((h.account, h.instrument), 0.0) for h in problem.hedges])
    return layout, Numbers.from_problem(problem, layout).hedged(layout, notional)


def _check_step(ledger: Ledger, step: Step) -> list[PlanViolation]:
    out = []
    number, asset, source, destination = step.step, step.asset, step.from_, step.to
    if asset not in ledger.price:
        return [PlanViolation(number, "route", f"unknown asset {asset!r}")]
    if not ledger.allows(asset, source, destination):
        out.append(PlanViolation(number, "route", f"no route carries {asset} from {source!r} to {destination!r}"))
    if not (math.isfinite(step.quantity) and step.quantity > 0):
        return out + [PlanViolation(number, "quantity", f"quantity {step.quantity!r} is not a positive number")]
    held = ledger.available(asset, source)
    if step.quantity > held + ledger.unit_tolerance(asset):
        out.append(PlanViolation(number, "overdraw", f"moves {step.quantity:.10g} {asset} out of {source!r}, "
                                 f"which holds {held:.10g}"))
    changes = ledger.apply(asset, source, destination, step.quantity)
    # only the source can lose collateral in a step
    if ledger.is_account(source) and ledger.deficit(source) > ledger.floor_tolerance[source]:
        out.append(PlanViolation(number, "floor", f"{source} falls to {ledger.collateral[source]:,.2f}, "
                                 f"below its floor {ledger.floor[source]:,.2f} "
                                 f"(min of collateral today and requirement)"))
    return out + [violation for change in changes for violation in _check_margin(ledger, number, change)]


def _check_margin(ledger: Ledger, number: int, change: MarginChange) -> list[PlanViolation]:
    """A risk margin may not end a step below ``min(floor, margin before the step)`` beyond the tolerance."""
    assert ledger.risk is not None
    floor, tolerance = ledger.risk.floor[change.owner][change.label], ledger.risk.tolerance[change.owner]
    if change.after >= min(floor, change.before) - tolerance:
        return []
    owner = "the book" if change.owner == PORTFOLIO else change.owner
    kind = "portfolio_floor" if change.owner == PORTFOLIO else "risk_floor"
    where = f"below its floor {floor:,.2f} (min of today's margin and 0)" if change.before >= floor - tolerance else \
        f"below {change.before:,.2f}, already under its floor {floor:,.2f}"
    return [PlanViolation(number, kind, f"{owner}'s {change.label} margin (left side minus requirement) falls to "
                          f"{change.after:,.2f}, {where}", limit=change.label)]


def _check_end(ledger: Ledger, targets: Iterable[Target]) -> list[PlanViolation]:
    out = []
    expected = {(t.asset, t.location): t.quantity for t in targets}
    for key in sorted(set(expected) | {k for k, q in ledger.quantity.items() if q != 0}):
        asset, location = key
        have, want = ledger.quantity.get(key, 0.0), expected.get(key, 0.0)
        if abs(have - want) > ledger.unit_tolerance(asset):
            out.append(PlanViolation(0, "target", f"{asset} at {location!r}: plan ends at {have:.10g}, "
                                     f"target {want:.10g}"))
    return out
