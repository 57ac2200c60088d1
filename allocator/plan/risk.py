"""The risk limits of a plan's intermediate states: every limit keeps at least ``min(its margin today, 0)``.

A limit's *margin* is its left side minus the requirement (no buffer, net of the positions' P&L), in currency:
``collateral - z sigma`` (parametric), the collateral after a stress scenario plus the positions' P&L
(``stress[name]``), ``collateral - CVaR`` (``cvar``), and for the treasury-wide limit the total collateral less
``z sigma_P`` and after each scenario (``portfolio[risk]``, ``portfolio[stress,name]``) against the sum of the
requirements.
The optimum meets every limit (margin >= 0). Its *floor* is ``min(margin today, 0)``: a limit met today stays met
at every step; one missed today gets no worse than today. It is the coverage floor of ledger.py carried over to
the risk limits (coverage's margin is collateral - requirement, its floor ``min(collateral, requirement)``).

Every margin is evaluated by the verification's own numpy code (solve/_verify.py ``Allocation``), on the plan's
holdings. Each margin is concave in the quantity of a transfer (collateral linear or concave, sigma and CVaR
convex), so the quantities a transfer may move safely form an interval from zero, found by bisection.

Only a step's source and destination can move margins: theirs, and the portfolio's when one of them is an account.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.inputs.problem import Problem
from allocator.program._allocation import ROUNDING, TOLERANCE, Allocation
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers

#: The owner of the treasury-wide limits in margins and floors: never an account id (ids cannot start or end with
#: a space, fields.Id).
PORTFOLIO = " portfolio "
#: Bisection steps when a transfer is split at a risk floor (the split lands within 2**-44 of the safe quantity).
BISECTIONS = 44


@dataclass(frozen=True)
class MarginChange:
    """A margin moved by a step: its owner (an account id or PORTFOLIO), the limit's label, before and after."""

    owner: str
    label: str
    before: float
    after: float


class RiskFloors:
    """The margins of every risk limit while a plan is replayed, their floors and tolerances."""

    def __init__(self, problem: Problem, money_scale: float, collateral: dict[str, float],
                 arrays: tuple[Layout, Numbers] | None = None) -> None:
        if arrays is None:
            layout = Layout.from_problem(problem)
            arrays = layout, Numbers.from_problem(problem, layout)
        self.layout, self.numbers = layout, numbers = arrays
        self.quantity = numbers.quantity.copy()
        self.asset = {a: i for i, a in enumerate(layout.assets)}
        self.location = {name: i for i, name in enumerate(layout.locations)}
        self.account = {name: k for k, name in enumerate(layout.accounts)}
        self.cvar_position = {int(k): j for j, k in enumerate(layout.cvar_accounts)}
        self.stressed = {int(k) for k in layout.risk_accounts}
        self.parametric = {int(layout.risk_accounts[j]) for j in layout.cone} if len(layout.market_assets) else set()
        market = {int(a) for a in layout.market_assets}
        self.moves_margin: dict[str, set[int]] = {}  # assets whose moves change an owner's margins
        for k in self.stressed | set(self.cvar_position):
            eligible = {int(a) for a in layout.pair_asset[layout.pair_account == k]}
            self.moves_margin[layout.accounts[k]] = eligible | (market if k in self.parametric else set())
        if layout.portfolio:
            self.moves_margin[PORTFOLIO] = set(range(layout.n_assets))
        self.margin = {owner: m for owner, m in self.evaluate(list(self.moves_margin)).items() if m}
        self.floor = {owner: {label: min(m, 0.0) for label, m in margins.items()}
                      for owner, margins in self.margin.items()}
        # the coverage floor's tolerances (ledger.py): TOLERANCE of the account's size, plus float rounding
        rounding = ROUNDING * money_scale
        required = {k: t.required for k, t in problem.terms.items()}
        size = {owner: max(required[owner], collateral[owner]) for owner in self.margin if owner != PORTFOLIO}
        if PORTFOLIO in self.margin:
            size[PORTFOLIO] = max(sum(required.values()), sum(collateral.values()))
        self.tolerance = {owner: TOLERANCE * min(s, money_scale) + rounding for owner, s in size.items()}
        self.slack = rounding  # what the scheduler allows under a floor: the verification's rounding of the end

    def __bool__(self) -> bool:
        return bool(self.margin)

    def evaluate(self, owners: list[str]) -> dict[str, dict[str, float]]:
        """Owner -> label -> margin (currency) of each of the owners' limits on the current holdings."""
        allocation = Allocation(self.quantity, np.zeros(0))
        collateral = allocation.collateral(self.layout, self.numbers)
        return {owner: self._margins(allocation, collateral, owner) for owner in owners}

    def _margins(self, allocation: Allocation, collateral: np.ndarray, owner: str) -> dict[str, float]:
        layout, numbers = self.layout, self.numbers
        if owner == PORTFOLIO:
            return self._portfolio_margins(allocation, collateral)
        k = self.account[owner]
        requirement = float(numbers.net_requirement[k])  # net of the positions' P&L, as the program
        out: dict[str, float] = {}
        if k in self.parametric:
            sigma = allocation.account_sigma(layout, numbers, k)
            out["parametric"] = float(collateral[k]) - float(numbers.risk_z[k]) * sigma - requirement
        if len(layout.stress) and k in self.stressed:
            stressed = allocation.account_stressed(layout, numbers, k)
            out |= {f"stress[{name}]": float(stressed[s]) - requirement for s, name in enumerate(layout.stress)}
        if k in self.cvar_position:
            cvar = allocation.account_cvar(layout, numbers, self.cvar_position[k])
            out["cvar"] = float(collateral[k]) - cvar - requirement
        return out

    def _portfolio_margins(self, allocation: Allocation, collateral: np.ndarray) -> dict[str, float]:
        layout, numbers = self.layout, self.numbers
        total, requirement = float(collateral.sum()), float(numbers.net_requirement.sum())
        sigma, stressed = allocation.portfolio(layout, numbers)
        out = {"portfolio[risk]": total - numbers.portfolio_z * sigma - requirement}
        if layout.portfolio_stress:
            out |= {f"portfolio[stress,{name}]": float(stressed[s]) - requirement
                    for s, name in enumerate(layout.stress)}
        return out

    def owners(self, asset: str, source: str, destination: str) -> list[str]:
        """Owners whose margins a move of ``asset`` from ``source`` to ``destination`` can change."""
        a = self.asset[asset]
        out = [owner for owner in (source, destination) if owner in self.margin and a in self.moves_margin[owner]]
        if PORTFOLIO in self.margin and (source in self.account or destination in self.account):
            out.append(PORTFOLIO)
        return out

    def trial(self, asset: str, source: str, destination: str, quantity: float) -> dict[str, dict[str, float]]:
        """The affected owners' margins if ``quantity`` moved (the holdings are restored exactly afterwards)."""
        cells = self._cells(asset, source, destination)
        kept = self.quantity[cells].copy()
        self._move(cells, quantity)
        try:
            return self.evaluate(self.owners(asset, source, destination))
        finally:
            self.quantity[cells] = kept

    def safe(self, asset: str, source: str, destination: str, quantity: float) -> bool:
        """Whether moving ``quantity`` keeps every margin at or above ``min(floor - slack, margin now)``."""
        return all(m >= min(self.floor[owner][label] - self.slack, self.margin[owner][label])
                   for owner, margins in self.trial(asset, source, destination, quantity).items()
                   for label, m in margins.items())

    def room(self, asset: str, source: str, destination: str, upto: float) -> float:
        """The most of ``upto`` units that may move safely: ``upto`` itself, or a bisected lower bound."""
        if not self.owners(asset, source, destination) or self.safe(asset, source, destination, upto):
            return upto
        low, high = 0.0, upto
        for _ in range(BISECTIONS):
            middle = 0.5 * (low + high)
            if self.safe(asset, source, destination, middle):
                low = middle
            else:
                high = middle
        return low

    def apply(self, asset: str, source: str, destination: str, quantity: float) -> list[MarginChange]:
        """Move ``quantity`` and return every margin that changed."""
        self._move(self._cells(asset, source, destination), quantity)
        changes = []
        for owner, after in self.evaluate(self.owners(asset, source, destination)).items():
            changes += [MarginChange(owner, label, self.margin[owner][label], m) for label, m in after.items()]
            self.margin[owner] = after
        return changes

    def deficit(self, owner: str) -> float:
        """Currency by which ``owner``'s worst limit is below its floor (0 when none is): cash posted at the account
        (credited in full, with no price risk) raises each of its margins, and the portfolio's, by as much."""
        return max([self.floor[owner][label] - m for label, m in self.margin.get(owner, {}).items()] + [0.0])

    def _cells(self, asset: str, source: str, destination: str) -> list[int]:
        a = self.asset[asset]
        return [self.layout.cell(a, self.location[source]), self.layout.cell(a, self.location[destination])]

    def _move(self, cells: list[int], quantity: float) -> None:
        self.quantity[cells[0]] -= quantity
        self.quantity[cells[1]] += quantity


def risk_floors(problem: Problem, money_scale: float, collateral: dict[str, float],
                arrays: tuple[Layout, Numbers] | None = None) -> RiskFloors | None:
    """The problem's risk floors, or None when it has no risk limit (the plan is then judged on coverage alone).
    ``arrays``: its layout and numbers, if already built."""
    if problem.portfolio is None and all(account.risk is None for account in problem.accounts):
        return None
    floors = RiskFloors(problem, money_scale, collateral, arrays)
    return floors if floors else None
