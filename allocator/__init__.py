"""allocator: where a treasury's collateral should sit.

    >>> import allocator
    >>> problem = allocator.load_problem("fixtures/problems/desk.toml")
    >>> result = allocator.optimize(problem)
    >>> allocator.validate_plan(problem, result)
    []
"""

from allocator.engine import Allocator, optimize
from allocator.errors import AllocatorError, InfeasibleError, InputError, InputIssue, SolverError, VerificationError
from allocator.loading import load_problem
from allocator.plan.validate import PlanViolation, validate_plan
from allocator.problem import Account, Asset, Holding, Problem, Route
from allocator.result import Result
from allocator.solve.status import Status

__version__ = "0.1.0"

__all__ = [
    "Account",
    "Allocator",
    "AllocatorError",
    "Asset",
    "Holding",
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
    "load_problem",
    "optimize",
    "validate_plan",
]
