"""allocator: where a treasury's collateral should sit.

    >>> import allocator
    >>> problem = allocator.load_problem("fixtures/problems/desk.toml")
    >>> result = allocator.optimize(problem)
    >>> allocator.validate_plan(problem, result)
    []
"""

from allocator.errors import AllocatorError, InfeasibleError, InputError, InputIssue, SolverError, VerificationError
from allocator.inputs.liquidity import Schedule, Venue
from allocator.inputs.market import Market, PortfolioLimit, Position, RiskSettings, StressScenario
from allocator.inputs.problem import Account, Asset, Holding, Location, Problem, Route
from allocator.inputs.scenario import Scenario
from allocator.io.examples import example_names, example_problem, load_example
from allocator.io.loading import load_problem
from allocator.plan.validate import PlanViolation, validate_plan
from allocator.results.result import Result
from allocator.solve.engine import Allocator, optimize
from allocator.solve.status import Status
from allocator.transition import (
    TransitionDiagnosis,
    TransitionInfeasibleError,
    TransitionResult,
    TransitionStep,
    TransitionViolation,
    plan_transition,
    validate_transition,
)
from allocator.venues.rulebooks import Rulebook, available_rulebooks, load_rulebook

__version__ = "0.1.0"

__all__ = [
    "Account",
    "Allocator",
    "AllocatorError",
    "Asset",
    "Holding",
    "Location",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "PlanViolation",
    "Problem",
    "Result",
    "Route",
    "SolverError",
    "Status",
    "VerificationError",
    "Market",
    "PortfolioLimit",
    "Position",
    "RiskSettings",
    "Rulebook",
    "Scenario",
    "Schedule",
    "StressScenario",
    "TransitionDiagnosis",
    "TransitionInfeasibleError",
    "TransitionResult",
    "TransitionStep",
    "TransitionViolation",
    "Venue",
    "available_rulebooks",
    "example_names",
    "example_problem",
    "load_example",
    "load_problem",
    "load_rulebook",
    "optimize",
    "plan_transition",
    "validate_plan",
    "validate_transition",
]
