"""The compiled collateral program: parameters, variables and labelled constraint families, built once.

Three cvxpy problems share the variables and parameters, so a what-if sets values and never rebuilds:

* ``problem``: minimise capital cost (the optimum);
* ``moves`` (built on first need): minimise value moved on the optimal face of ``problem`` (see _face.py);
* ``elastic`` (built on first need): minimise total uncovered requirement (the infeasibility diagnosis).
"""

from __future__ import annotations

from functools import cached_property
from typing import Protocol

import cvxpy as cp
import numpy as np

from allocator.program._balance import Balance, NonNegative
from allocator.program._concentration import Concentration, concentration_gap
from allocator.program._costs import capital_cost
from allocator.program._coverage import Chords, CollateralValue, Coverage
from allocator.program._face import OptimalFace
from allocator.program._hedges import DeltaBand, HedgeLimit, HedgeMoney
from allocator.program._labelled import Labelled
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.program._parameters import Parameters
from allocator.program._portfolio import PortfolioConstraint
from allocator.program._risk import CvarLimit, ParametricLimit, StressLimit
from allocator.program._scaling import Scale
from allocator.program._scenarios import initial_working_set, slots_for
from allocator.program._shared import COST_TOLERANCE, Margins, SlotsFull
from allocator.program._variables import Variables

#: How far above the optimum (program units, costs of order one) the cost bound of a conic moves phase sits.
COST_SLACK = 2 * COST_TOLERANCE


class ConstraintFamily(Protocol):
    """A constraint family: one method emitting labelled constraints from the variables and parameters."""

    def emit(self, layout: Layout, v: Variables, p: Parameters) -> list[Labelled]: ...


def _dpp(problem: cp.Problem, name: str) -> cp.Problem:
    if not problem.is_dpp():  # pragma: no cover - a programming error, not a user error
        raise RuntimeError(f"the {name} program is not DPP; a parameter product slipped in")
    return problem


class Program:
    def __init__(self, layout: Layout, stress_slots: int | None = None) -> None:
        """``stress_slots``: stress rows per risk account (default: every scenario while few, else a working set
        of scenarios.FIRST_SLOTS; the engine rebuilds with more when a working set outgrows them)."""
        self.layout = layout
        self.stress_slots = slots_for(len(layout.stress), len(layout.risk_accounts)) if stress_slots is None \
            else stress_slots  # stress rows per risk account (_scenarios.py)
        self.parameters = Parameters.create(layout, self.stress_slots)
        self.variables = Variables.create(layout)
        self.constraints = self._emit(Balance(), NonNegative(), CollateralValue(), Chords(), Coverage(),
                                      Concentration(), ParametricLimit(), StressLimit(), CvarLimit(),
                                      PortfolioConstraint()) + self._hedge_rows()
        self.cost = capital_cost(layout, self.variables, self.parameters)
        self.problem = _dpp(cp.Problem(cp.Minimize(self.cost), [c.constraint for c in self.constraints]), "cost")
        self.scale: Scale | None = None
        self.working = initial_working_set(layout, self.stress_slots)  # per risk account: its slots' scenarios
        self._stress_inputs: tuple[Numbers, Scale, float] | None = None

    def _emit(self, *families: ConstraintFamily) -> list[Labelled]:
        return [c for family in families for c in family.emit(self.layout, self.variables, self.parameters)]

    def _hedge_rows(self, shortfall: cp.Variable | None = None) -> list[Labelled]:
        """The hedges' own rows (_hedges.py): size limits and delta bands (relaxed by ``shortfall``)."""
        hedges = self.parameters.hedges
        if hedges is None:
            return []
        families = (HedgeLimit(), HedgeMoney(), DeltaBand(shortfall))
        return [c for family in families for c in family.emit(self.layout, self.variables, hedges)]

    def assign(self, numbers: Numbers, profile: Margins, working: list[list[int]] | None = None) -> Scale:
        """Set every parameter from the problem's numbers (rescaled each time); returns the scale used.
        The stress slots get the initial working set (_scenarios.py) plus ``working``."""
        self.scale = Scale.of(self.layout, numbers)
        self.working = initial_working_set(self.layout, self.stress_slots, numbers)
        for j, extra in enumerate(working or ()):
            self.working[j] += [s for s in extra if s not in self.working[j]]
        if any(len(w) > self.stress_slots for w in self.working):
            raise SlotsFull(self.working)
        self.parameters.assign(self.layout, numbers, self.scale, profile.coverage_margin, profile.limit_margin,
                               self.working)
        self._stress_inputs = (numbers, self.scale, profile.coverage_margin)
        return self.scale

    def add_scenarios(self, additions: dict[int, list[int]]) -> None:
        """Put scenarios in the slots of risk accounts (by position in ``layout.risk_accounts``) and set the
        parameters; SlotsFull, changing nothing, if some account has too few free slots."""
        if any(len(self.working[j]) + len(new) > self.stress_slots for j, new in additions.items()):
            raise SlotsFull([w + additions.get(j, []) for j, w in enumerate(self.working)])
        for j, new in additions.items():
            self.working[j] += [s for s in new if s not in self.working[j]]
        assert self._stress_inputs is not None  # assign() comes first
        numbers, scale, margin = self._stress_inputs
        self.parameters.assign_stress(self.layout, numbers, scale, margin, self.working)

    def stress_floor(self, numbers: Numbers, scale: Scale) -> np.ndarray:
        """(K,) what a stress slot asks of each account, in currency: its requirement (net of the positions' P&L)
        plus the slot's margin."""
        assert self._stress_inputs is not None  # assign() comes first
        return numbers.net_requirement + self._stress_inputs[2] * scale.money * scale.accounts

    def family(self, name: str) -> Labelled | None:
        return next((c for c in self.constraints if c.family == name), None)

    def dual(self, name: str) -> np.ndarray:
        """The duals of every row of a family, in order (a family may be several constraints, one per account)."""
        duals = [c.dual() for c in self.constraints if c.family == name]
        return np.concatenate(duals) if duals else np.zeros(0)

    def labels(self, name: str) -> tuple[str, ...]:
        return tuple(label for c in self.constraints if c.family == name for label in c.labels)

    @cached_property
    def face(self) -> OptimalFace:
        return OptimalFace.create(self.layout)

    @cached_property
    def cost_bound(self) -> cp.Parameter:
        """The optimal cost plus COST_SLACK (program units), for the moves phase of a conic program."""
        return cp.Parameter(name="cost_bound")

    @cached_property
    def moves(self) -> cp.Problem:
        """Least value moved on the optimal face. With cones, complementary slackness of the linear rows alone
        does not pin the cost (the cones' duals would be needed), so a cost bound row is added as well."""
        constraints = [c.constraint for c in self.constraints + self._emit(self.face)]
        if self.parameters.hedges is not None:  # the hedges stay as the cost optimum traded them
            constraints += self.face.fix_hedges(self.variables)
        if self.layout.has_cones:
            constraints.append(self.cost <= self.cost_bound)
        return _dpp(cp.Problem(cp.Minimize(cp.sum(self.variables.move)), constraints), "moves")

    def restrict_to_optimum(self) -> None:
        """Set the face of the cost optimum just found (values and duals of ``problem``)."""
        v, p = self.variables, self.parameters
        if self.layout.has_cones:
            self.cost_bound.value = float(np.asarray(self.cost.value)) + COST_SLACK
        limits = -np.asarray(concentration_gap(self.layout, v, p).value) if len(self.layout.limit_pair) else None
        if v.hedge is not None:
            self.face.hedges(np.asarray(v.hedge.value))
        self.face.restrict(
            values={"holding": np.asarray(v.holding.value), "move": np.asarray(v.move.value),
                    "coverage": np.asarray(v.collateral.value) - np.asarray(p.required.value),
                    "concentration": limits},
            duals={name: self.dual(name) for name in ("nonneg_holding", "nonneg_move", "coverage", "concentration")})

    @cached_property
    def elastic(self) -> ElasticProgram:
        return ElasticProgram(self)


class ElasticProgram:
    """Minimise total shortfall: coverage and concentration rows get non-negative slack."""

    def __init__(self, program: Program) -> None:
        layout = program.layout
        self.shortfall = cp.Variable(len(layout.accounts), name="shortfall", nonneg=True)
        self.excess = cp.Variable(max(len(layout.limit_pair), 1), name="excess", nonneg=True)
        self.portfolio_shortfall = cp.Variable(name="portfolio_shortfall", nonneg=True)  # money units
        self.delta_shortfall = cp.Variable(max(len(layout.delta_owner), 1), name="delta_shortfall", nonneg=True)
        constraints = program._emit(Balance(), NonNegative(), CollateralValue(), Chords(), Coverage(self.shortfall),
                                    Concentration(self.excess if len(layout.limit_pair) else None),
                                    ParametricLimit(self.shortfall), StressLimit(self.shortfall),
                                    CvarLimit(self.shortfall), PortfolioConstraint(self.portfolio_shortfall))
        constraints += program._hedge_rows(self.delta_shortfall if len(layout.delta_owner) else None)
        p = program.parameters  # shortfalls are in account units: weigh them back to money
        objective = cp.Minimize(p.account_scale @ self.shortfall + p.limit_scale @ self.excess
                                + self.portfolio_shortfall + cp.sum(self.delta_shortfall))
        self.problem = _dpp(cp.Problem(objective, [c.constraint for c in constraints]), "elastic")
