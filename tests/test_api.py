"""The public surface: exactly the intended names, and the README example as written."""

from __future__ import annotations

import re
import subprocess
import sys

from helpers import ROOT

import allocator

PUBLIC = {
    "Account", "Allocator", "AllocatorError", "Asset", "Holding", "InfeasibleError", "InputError", "InputIssue",
    "PlanViolation", "Problem", "Result", "MarginalValues", "Targets", "Route", "SolverError", "Status",
    "VerificationError", "load_problem", "optimize", "validate_plan", "Location",
    # example problems shipped with the package
    "example_names", "example_problem", "load_example",
    # stress, margin modes and hedges
    "stress", "StressReport", "compare_modes", "hedge_savings", "HedgeSavings", "Hedge",
    # backtests of rebalancing policies and the live rebalance
    "backtest", "BacktestResult", "rebalance", "RebalancePlan",
    # risk and rulebooks
    "Market", "PortfolioLimit", "Position", "RiskSettings", "StressScenario", "Rulebook", "available_rulebooks",
    "load_rulebook", "Scenario",
    # liquidity and the multi-period transition
    "Schedule", "Venue", "TransitionDiagnosis", "TransitionInfeasibleError", "TransitionResult", "TransitionStep",
    "TransitionViolation", "plan_transition", "validate_transition",
}


def test_exported_names_are_exactly_the_public_api():
    assert set(allocator.__all__) == PUBLIC
    assert len(allocator.__all__) == len(PUBLIC)  # no name listed twice
    assert [name for name in allocator.__all__ if not hasattr(allocator, name)] == []  # `import *` would fail


def test_readme_python_example_runs():
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    subprocess.run([sys.executable, "-c", example], check=True, cwd=ROOT, capture_output=True, text=True)


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, re.S)
    assert "allocator optimize fixtures/problems/desk.toml" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci  # CI runs the README's own test command
