"""Every variant of the transition program (transition/_program.py ``build``) is DPP, so that cvxpy compiles it with
its parameters kept symbolic and the margin-free bound can swap their values (_pwl._margin_free). ``build`` does not
assert it itself: the check took 40 ms per build at 100 x 10 x 48."""

from __future__ import annotations

import pytest
from transition_helpers import CRASH, tiny, with_risk

from allocator.transition._data import TransitionData
from allocator.transition._generate import generate_transition
from allocator.transition._periods import Periods
from allocator.transition._program import build

VARIANTS = {
    "conic": {},
    "pwl": {"pwl": True},
    "elastic": {"elastic": True},
    "lower": {"lower": True},
    "pwl elastic": {"pwl": True, "elastic": True},
    "pwl with move limits": {"pwl": True, "max_moves": 3, "max_moves_per_period": 2, "min_move_value": 1_000.0},
}
PROBLEMS = {
    "tiny": tiny,
    "generated 12x3x12": lambda: generate_transition(12, 3, 12, seed=2, eligible_share=0.4, venue_assets=6,
                                                     restrict_routes=True),
    "stress scenario and parametric limit": lambda: with_risk({"horizon_days": 2, "confidence": 0.99}, CRASH),
}


@pytest.mark.parametrize("case", PROBLEMS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_is_dpp(case, variant):
    problem = PROBLEMS[case]()
    periods = Periods.from_problem(problem)
    program = build(periods, TransitionData.from_problem(problem, periods), coverage_margin=1e-5,
                    limit_margin=1e-6, **VARIANTS[variant])
    assert program.problem.is_dpp()
    assert program.problem.is_dcp(dpp=True)
