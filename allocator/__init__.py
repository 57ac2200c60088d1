"""allocator: where a treasury's collateral should sit.

    >>> import allocator
    >>> problem = allocator.load_problem("fixtures/problems/desk.toml")
    >>> result = allocator.optimize(problem)
    >>> allocator.validate_plan(problem, result)
    []

``import allocator`` loads no solver: every public name is imported from its module the first time it is used
(PEP 562 ``__getattr__``, by lazy_loader's ``attach``), so the command line's ``--help`` and ``validate`` start in a
fraction of a second and cvxpy, HiGHS and Clarabel are loaded only when a solve is asked for. ``from allocator
import optimize`` and ``allocator.optimize`` work as with eager imports; ``tests/test_startup.py`` checks that a
plain import loads none of cvxpy, highspy and clarabel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

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
    from allocator.results.result import Result, Targets
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

#: Where each public name lives (its module, relative to this package), imported on first use by lazy_loader's
#: ``attach``, as the analysis and transition packages do theirs.
__getattr__, _, _ = lazy_loader.attach(__name__, submod_attrs={
    "errors": ["AllocatorError", "InfeasibleError", "InputError", "InputIssue", "SolverError", "VerificationError"],
    "inputs.liquidity": ["Schedule", "Venue"],
    "inputs.market": ["Market", "PortfolioLimit", "Position", "RiskSettings", "StressScenario"],
    "inputs.problem": ["Account", "Asset", "Holding", "Location", "Problem", "Route"],
    "inputs.scenario": ["Scenario"],
    "io.examples": ["example_names", "example_problem", "load_example"],
    "io.loading": ["load_problem"],
    "plan.validate": ["PlanViolation", "validate_plan"],
    "results.result": ["Result", "Targets"],
    "results.marginal": ["MarginalValues"],
    "solve._engine": ["Allocator", "optimize"],
    "solve._status": ["Status"],
    "transition": ["TransitionDiagnosis", "TransitionInfeasibleError", "TransitionResult", "TransitionStep",
                   "TransitionViolation", "plan_transition", "validate_transition"],
    "venues.rulebooks": ["Rulebook", "available_rulebooks", "load_rulebook"],
    "analysis.stress": ["StressReport", "stress"],
    "analysis.modes": ["compare_modes"],
    "analysis.hedging": ["HedgeSavings", "hedge_savings"],
    "inputs.hedges": ["Hedge"],
    "analysis.backtest": ["BacktestResult", "backtest"],
    "analysis.backtest.rebalance": ["RebalancePlan", "rebalance"],
})


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
    "Targets",
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
