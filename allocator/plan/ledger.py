"""Holdings and account collateral while a plan is replayed, step by step.

Shared by the scheduler (which builds safe plans) and :func:`~allocator.plan.validate.validate_plan` (which
replays any plan), and by the transition's independent replay (transition/_validate.py), so every plan is judged
by the same arithmetic. An account's *floor* is :func:`account_floor`, ``min(collateral today, requirement net of
its positions' P&L)``: no step may take it below that (see docs/formulation.md); the transition's program,
repair, verification and outcome read the same definition. A problem with risk limits also carries their margins
and floors (``risk``, plan/risk.py); without any, ``risk`` is None and nothing else changes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from allocator.inputs.market import marked_pnl, net_of_pnl
from allocator.inputs.problem import Problem
from allocator.plan.risk import MarginChange, RiskFloors, risk_floors
from allocator.program._allocation import ROUNDING, TOLERANCE
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers

NO_CHANGES: tuple[MarginChange, ...] = ()

Amount = TypeVar("Amount", float, np.ndarray)


def account_floor(today: Amount, requirement: Amount, pnl: Amount | float = 0.0) -> Amount:
    """The collateral no step of a plan may take an account below (currency; numbers or arrays alike): what it
    holds today, or its requirement net of its positions' P&L (``net_of_pnl``) when that is less. An account
    covered today keeps its requirement; one short today gets no worse than today."""
    if isinstance(today, np.ndarray) or isinstance(requirement, np.ndarray):
        return np.minimum(today, net_of_pnl(np.asarray(requirement), np.asarray(pnl)))  # type: ignore[return-value]
    return min(float(today), net_of_pnl(float(requirement), float(pnl)))  # type: ignore[return-value]


class Ledger:
    def __init__(self, problem: Problem, arrays: tuple[Layout, Numbers] | None = None) -> None:
        """``arrays``: the problem's layout and numbers if already built (risk limits need them); numbers ``hedged``
        with the result's hedges (docs/hedging.md: they are opened before any transfer) add their margin to the
        floors and their exposure to the risk margins."""
        self.price = {asset.id: asset.price for asset in problem.assets}
        terms = problem.terms
        self.weights = {k: t.weights for k, t in terms.items()}  # shared with every ledger of the problem
        self.curves = {k: t.curves for k, t in terms.items()}  # exact credit of curved assets
        self.quantity: defaultdict[tuple[str, str], float] = defaultdict(float)
        for holding in problem.holdings:
            self.quantity[(holding.asset, holding.location)] += holding.quantity
        held: dict[str, set[str]] = {}  # the assets each location holds today (a set: a book's accounts are
        for asset, location in self.quantity:  # eligible for hundreds of assets and hold a few)
            held.setdefault(location, set()).add(asset)
        self.collateral = {k: self._collateral_of(k, held.get(k, set())) for k in self.weights}
        self.initial_collateral = dict(self.collateral)
        marked = marked_pnl(problem.positions, self.price, problem.as_of)  # the positions' P&L counts as equity
        hedged = {} if arrays is None or arrays[1].hedge_requirement is None else \
            dict(zip(arrays[0].accounts, arrays[1].hedge_requirement, strict=True))  # hedges open first (hedging.md)
        self.floor = {k: account_floor(self.collateral[k], net_of_pnl(t.requirement, marked.get(k, 0.0))
                                       + hedged.get(k, 0.0)) for k, t in terms.items()}
        inventory = sum(self.price[asset] * quantity for (asset, _), quantity in self.quantity.items())
        self.money_scale = max(inventory, sum(t.required for t in terms.values()), 1.0)
        # the verification's tolerances (solve/_verify.py): amounts to 1e-9 of the book (the plan is built from
        # the repaired moves, so it never overdraws; this only absorbs float rounding), floors to each account's size
        rounding = ROUNDING * self.money_scale
        self._unit_tolerance = {a: TOLERANCE * self.money_scale / p for a, p in self.price.items()}
        self.floor_tolerance = {k: TOLERANCE * min(max(t.required, self.collateral[k]), self.money_scale)
                                + rounding for k, t in terms.items()}
        self.locations = set(problem.locations)
        self.route_rate = problem.route_rates
        self.risk: RiskFloors | None = risk_floors(problem, self.money_scale, self.initial_collateral, arrays)

    def _collateral_of(self, account: str, held: set[str] | None = None) -> float:
        """Credit of what the account holds, in its eligible assets' order. A cell never held is left out (it
        adds an exact 0: every curve is 0 at 0), so a large book's accounts do not each touch every asset.
        ``held``: the assets the account holds, when the caller has them (the same cells, found faster)."""
        curves, price, quantity = self.curves[account], self.price, self.quantity

        def credit(a: str, w: float) -> float:
            return float(curves[a].value(max(price[a] * quantity[(a, account)], 0.0))) if a in curves \
                else w * price[a] * quantity[(a, account)]

        if held is not None:
            return sum(credit(a, w) for a, w in self.weights[account].items() if a in held)
        return sum(credit(a, w) for a, w in self.weights[account].items() if (a, account) in quantity)

    def allows(self, asset: str, source: str, destination: str) -> bool:
        """Whether a step may move ``asset`` from ``source`` to ``destination``: a route that carries it, or,
        without routes, two different locations of the problem."""
        if self.route_rate is None:
            return source in self.locations and destination in self.locations and source != destination
        return source != destination and self.route_rate.rate(source, destination, asset) is not None

    def unit_tolerance(self, asset: str) -> float:
        return self._unit_tolerance[asset]

    def available(self, asset: str, location: str) -> float:
        return self.quantity[(asset, location)]

    def headroom(self, asset: str, location: str) -> float:
        """Units of ``asset`` that may leave ``location`` without taking an account below its floor (for a curved
        asset, at its largest marginal weight, the weight of a small posting: a safe underestimate)."""
        weight = self.weights.get(location, {}).get(asset, 0.0)
        if weight == 0.0:
            return math.inf
        return max(self.collateral[location] - self.floor[location], 0.0) / (weight * self.price[asset])

    def apply(self, asset: str, source: str, destination: str, quantity: float) -> Sequence[MarginChange]:
        """Move ``quantity``; return the risk margins it changed (none without risk limits)."""
        self.withdraw(asset, source, quantity)
        self.deposit(asset, destination, quantity)
        if self.risk is None:
            return NO_CHANGES
        return self.risk.apply(asset, source, destination, quantity)

    def withdraw(self, asset: str, location: str, quantity: float) -> None:
        """Take ``quantity`` out of ``location`` (a departure, or a sale at a venue there); risk margins are not
        followed (apply does that for a whole transfer)."""
        self._change(asset, location, -quantity)

    def deposit(self, asset: str, location: str, quantity: float) -> None:
        """Put ``quantity`` at ``location`` (an arrival, or a purchase at a venue there)."""
        self._change(asset, location, quantity)

    def _change(self, asset: str, location: str, quantity: float) -> None:
        self.quantity[(asset, location)] += quantity
        weight = self.weights.get(location, {}).get(asset, 0.0)
        if weight and asset in self.curves[location]:
            self.collateral[location] = self._collateral_of(location)
        elif weight:
            self.collateral[location] += weight * self.price[asset] * quantity

    def deficit(self, account: str) -> float:
        """Currency by which an account is below its floor (0 when it is not)."""
        return max(self.floor[account] - self.collateral[account], 0.0)

    def is_account(self, location: str) -> bool:
        return location in self.weights

