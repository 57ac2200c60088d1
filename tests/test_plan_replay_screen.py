"""The vectorised replay (plan/validate_fast.py) answers True only for plans the step-by-step replay finds clean.

``validate_plan`` returns no violation without replaying step by step when ``replays_clean`` proves the plan
clean; anything it cannot prove goes to the step-by-step replay, which alone says what is wrong. So: on every
plan here, clean or broken on purpose (overdrawn, reordered below a floor, a wrong target, a bad route or
quantity, a step nudged by a hair past the tolerance), ``validate_plan`` must give exactly what the step-by-step
replay gives, and the screen must never say clean where that replay finds anything. The engine's own plans must
pass the screen (else it saves nothing); problems with risk limits or curved credit never use it.
"""

from __future__ import annotations

import numpy as np
import pytest

import allocator
from allocator.io.generate import generate_problem
from allocator.plan import validate as validate_module
from allocator.plan.ledger import Ledger
from allocator.plan.validate_fast import replays_clean
from allocator.results.result import Step


def _step_by_step(monkeypatch: pytest.MonkeyPatch, problem: allocator.Problem, steps, targets) -> list:
    """validate_plan with the screen off: the definition."""
    with monkeypatch.context() as patched:
        patched.setattr(validate_module, "replays_clean", lambda *args: False)
        return validate_module.validate_plan(problem, steps, targets)


def _agree(monkeypatch: pytest.MonkeyPatch, problem: allocator.Problem, steps, targets) -> tuple[bool, list]:
    """The screen's answer, after checking it against the step-by-step replay (never clean when that replay finds
    anything) and that validate_plan gives the step-by-step replay's violations."""
    expected = _step_by_step(monkeypatch, problem, steps, targets)
    clean = replays_clean(Ledger(problem), steps, targets)
    assert not (clean and expected), expected
    assert [str(v) for v in allocator.validate_plan(problem, steps, targets)] == [str(v) for v in expected]
    return clean, expected


def _moved(step: Step, **changes) -> Step:
    return step.model_copy(update=changes)


@pytest.fixture(scope="module")
def planned() -> list[tuple[allocator.Problem, allocator.Result]]:
    """Generated books with plans of tens to hundreds of steps: hub-and-spoke (no routes) and routed."""
    out = []
    for seed, (assets, accounts, topology) in enumerate([(40, 6, "hub"), (25, 5, "routed"), (80, 10, "hub")]):
        problem = generate_problem(assets, 2, accounts, seed=seed + 3, topology=topology)
        out.append((problem, allocator.optimize(problem)))
    return out


def test_the_engines_plans_pass_the_screen(planned):
    for problem, result in planned:
        assert result.plan and result.plan_safe
        assert replays_clean(Ledger(problem), result.plan, result.targets)
        assert replays_clean(Ledger(problem), result.plan, None)  # no targets: no end check
        assert allocator.validate_plan(problem, result) == []


def test_broken_plans_are_never_screened_clean(planned, monkeypatch):
    rng = np.random.default_rng(7)
    for problem, result in planned:
        steps, targets = list(result.plan), result.targets
        cases = {
            "overdraw": [_moved(s, quantity=s.quantity * 3) if i == 0 else s for i, s in enumerate(steps)],
            "reversed": steps[::-1],  # withdrawals before the deposits that pay for them
            "shuffled": [steps[i] for i in rng.permutation(len(steps))],
            "dropped": steps[1:],  # the end is off the targets
            "doubled": steps + steps[:1],
            "zero": [_moved(steps[0], quantity=0.0), *steps[1:]],
            "nan": [_moved(steps[0], quantity=float("nan")), *steps[1:]],
            "unknown asset": [_moved(steps[0], asset="NOPE"), *steps[1:]],
            "same place": [_moved(steps[0], to=steps[0].from_), *steps[1:]],
            "unknown place": [_moved(steps[0], to="nowhere"), *steps[1:]],
        }
        found = set()
        for name, broken in cases.items():
            clean, violations = _agree(monkeypatch, problem, broken, targets)
            assert not clean, name
            found.update(v.kind for v in violations)
        assert {"overdraw", "target", "quantity", "route"} <= found


def test_a_hair_past_the_tolerance_is_caught_and_a_hair_within_passes(planned, monkeypatch):
    """Nudging a step's quantity: within the unit tolerance the step-by-step replay finds nothing (the screen may
    or may not prove it); a little past it the replay reports it and the screen does not say clean."""
    problem, result = planned[0]
    ledger = Ledger(problem)
    steps = list(result.plan)
    first = steps[0]
    tolerance = ledger.unit_tolerance(first.asset)
    for extra, broken in ((0.25 * tolerance, False), (4.0 * tolerance, True)):
        nudged = [_moved(first, quantity=first.quantity + extra), *steps[1:]]
        clean, violations = _agree(monkeypatch, problem, nudged, result.targets)
        assert bool(violations) is broken
        assert not (broken and clean)


def test_every_prefix_of_a_plan_agrees(planned, monkeypatch):
    """A plan cut short is clean step by step and off at the end: every cut agrees with the step-by-step replay,
    with and without targets."""
    problem, result = planned[1]
    steps = list(result.plan)
    for cut in sorted({0, 1, len(steps) // 3, len(steps) // 2, len(steps) - 1, len(steps)}):
        _agree(monkeypatch, problem, steps[:cut], None)
        clean, violations = _agree(monkeypatch, problem, steps[:cut], result.targets)
        assert clean is (cut == len(steps))


def test_risk_limits_and_curves_go_step_by_step(monkeypatch):
    """Risk margins and curved credit are not running sums: the screen never answers for them, and their plans are
    judged step by step as before."""
    for name, (risk, curves) in {"fund": (True, False), "perps-risk": (True, False),
                                 "stress-desk": (False, True)}.items():
        problem = allocator.load_example(name)
        ledger = Ledger(problem)
        assert (ledger.risk is not None, any(ledger.curves.values())) == (risk, curves)
        result = allocator.optimize(problem)
        assert not replays_clean(ledger, result.plan, result.targets)
        _agree(monkeypatch, problem, list(result.plan), result.targets)


def test_a_plan_that_needs_funding_goes_step_by_step(monkeypatch):
    """The swap example has no safe order: its flagged step takes an account below its floor, which the screen
    leaves to the step-by-step replay to report."""
    problem = allocator.load_example("swap")
    result = allocator.optimize(problem)
    assert not result.plan_safe
    clean, violations = _agree(monkeypatch, problem, list(result.plan), result.targets)
    assert not clean and {v.kind for v in violations} == {"floor"}
