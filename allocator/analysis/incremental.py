"""Pre-trade what-if: the exact increase in capital cost of a change, beside its first-order estimate.

The estimate is the change of the cost program's Lagrangian at the current optimum (primal and dual values
fixed) when the parameters take the changed values, in the same scale: for a requirement change it is the
shadow price times the change, for inventory the marginal values, and likewise for prices, haircuts and costs.
Exact and estimate agree while the optimal basis does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allocator.inputs.problem import Problem
from allocator.inputs.scenario import Scenario
from allocator.program._numbers import Numbers
from allocator.solve._engine import Allocator
from allocator.solve._sensitivity import lagrangian
from allocator.solve._solvers import profile


@dataclass(frozen=True)
class IncrementalCost:
    base: float  # objective before the change (currency)
    changed: float  # objective after, re-solved
    estimate: float  # first-order estimate of changed - base

    @property
    def exact(self) -> float:
        return self.changed - self.base

    def as_dict(self) -> dict[str, float]:
        return {"base": self.base, "changed": self.changed, "exact": self.exact, "estimate": self.estimate}


def incremental_cost(problem: Problem, change: Problem | Scenario | dict[str, Any],
                     solver: str | None = None) -> IncrementalCost:
    """Exact (re-solved) and estimated (shadow prices) increase of the capital cost caused by ``change``."""
    engine = Allocator(problem, solver, backend="cvxpy")  # the estimate reads the cvxpy program's Lagrangian
    base = engine.solve(plan=False)
    changed_problem = engine.changed(change)
    program = engine.program
    scale = program.scale
    assert scale is not None and base.objective is not None
    before = lagrangian(program)
    saved = [(parameter, parameter.value) for parameter in program.problem.parameters()]
    margins = profile(engine.solver)
    program.parameters.assign(engine.layout, Numbers.from_problem(changed_problem, engine.layout), scale,
                              margins.coverage_margin, margins.limit_margin, program.working)
    estimate = (lagrangian(program) - before) * scale.cost
    for parameter, value in saved:
        parameter.value = value
    after = engine.solve(changed_problem, plan=False)
    assert after.objective is not None
    return IncrementalCost(base=base.objective.total, changed=after.objective.total, estimate=estimate)
