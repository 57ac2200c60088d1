"""allocator: where a treasury's collateral should sit.

    >>> import allocator
    >>> problem = allocator.load_problem("fixtures/problems/desk.toml")
    >>> result = allocator.optimize(problem)
    >>> allocator.validate_plan(problem, result)
    []

``import allocator`` loads no solver: every public name is imported from its module the first time it is used
(PEP 562 ``__getattr__``), so the command line's ``--help`` and ``validate`` start in a fraction of a second and
cvxpy, HiGHS and Clarabel are loaded only when a solve is asked for. ``from allocator import optimize`` and
``allocator.optimize`` work as with eager imports; ``tests/test_startup.py`` checks that a plain import loads none of
cvxpy, highspy and clarabel.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as type checkers and IDEs see them; at run time __getattr__ imports them
    from allocator.analysis.backtest import BacktestResult, backtest
    from allocator.analysis.backtest.rebalance import RebalancePlan, rebalance
    from allocator.analysis.hedging import HedgeSavings, hedge_savings
    from allocator.analysis.modes import compare_modes
    from allocator.analysis.stress import StressReport, stress
    from allocator.errors import (
        AllocatorError,
        InfeasibleError,
        InputError,
        InputIssue,
        SolverError,
        VerificationError,
    )
    from allocator.inputs.hedges import Hedge
    from allocator.inputs.liquidity import Schedule, Venue
    from allocator.inputs.market import Market, PortfolioLimit, Position, RiskSettings, StressScenario
    from allocator.inputs.problem import Account, Asset, Holding, Location, Problem, Route
    from allocator.inputs.scenario import Scenario
    from allocator.io.examples import example_names, example_problem, load_example
    from allocator.io.loading import load_problem
    from allocator.plan.validate import PlanViolation, validate_plan
    from allocator.results.marginal import MarginalValues
    from allocator.results.result import Result
    from allocator.solve._engine import Allocator, optimize
    from allocator.solve._status import Status
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

#: Where each public name lives (imported on first use).
_HOMES: dict[str, str] = {
    **dict.fromkeys(["AllocatorError", "InfeasibleError", "InputError", "InputIssue", "SolverError",
                     "VerificationError"], "allocator.errors"),
    **dict.fromkeys(["Schedule", "Venue"], "allocator.inputs.liquidity"),
    **dict.fromkeys(["Market", "PortfolioLimit", "Position", "RiskSettings", "StressScenario"],
                    "allocator.inputs.market"),
    **dict.fromkeys(["Account", "Asset", "Holding", "Location", "Problem", "Route"], "allocator.inputs.problem"),
    "Scenario": "allocator.inputs.scenario",
    **dict.fromkeys(["example_names", "example_problem", "load_example"], "allocator.io.examples"),
    "load_problem": "allocator.io.loading",
    **dict.fromkeys(["PlanViolation", "validate_plan"], "allocator.plan.validate"),
    "Result": "allocator.results.result",
    "MarginalValues": "allocator.results.marginal",
    **dict.fromkeys(["Allocator", "optimize"], "allocator.solve._engine"),
    "Status": "allocator.solve._status",
    **dict.fromkeys(["TransitionDiagnosis", "TransitionInfeasibleError", "TransitionResult", "TransitionStep",
                     "TransitionViolation", "plan_transition", "validate_transition"], "allocator.transition"),
    **dict.fromkeys(["Rulebook", "available_rulebooks", "load_rulebook"], "allocator.venues.rulebooks"),
    **dict.fromkeys(["StressReport", "stress"], "allocator.analysis.stress"),
    "compare_modes": "allocator.analysis.modes",
    **dict.fromkeys(["HedgeSavings", "hedge_savings"], "allocator.analysis.hedging"),
    "Hedge": "allocator.inputs.hedges",
    **dict.fromkeys(["BacktestResult", "backtest"], "allocator.analysis.backtest"),
    **dict.fromkeys(["RebalancePlan", "rebalance"], "allocator.analysis.backtest.rebalance"),
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, and keep it here for the next."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'allocator' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Account",
    "Allocator",
    "AllocatorError",
    "Asset",
    "BacktestResult",
    "Hedge",
    "HedgeSavings",
    "Holding",
    "Location",
    "MarginalValues",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "PlanViolation",
    "Problem",
    "RebalancePlan",
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
    "StressReport",
    "StressScenario",
    "TransitionDiagnosis",
    "TransitionInfeasibleError",
    "TransitionResult",
    "TransitionStep",
    "TransitionViolation",
    "Venue",
    "available_rulebooks",
    "backtest",
    "compare_modes",
    "example_names",
    "example_problem",
    "hedge_savings",
    "load_example",
    "load_problem",
    "load_rulebook",
    "optimize",
    "plan_transition",
    "rebalance",
    "stress",
    "validate_plan",
    "validate_transition",
]
