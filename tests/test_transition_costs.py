"""Trade costs: the impact law's values against a hand computation, its convexity, and the cost split of a
schedule recomputed from the plan alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
from transition_helpers import tiny

from allocator.transition import plan_transition
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods


@pytest.fixture(scope="module")
def data() -> TransitionData:
    problem = tiny()
    return TransitionData.from_problem(problem, Periods.from_problem(problem))


def test_impact_law_against_a_hand_computation(data):
    # BTC: impact 1.0, annual volatility 0.5 -> daily 0.5 / sqrt(365), ADV 1e9; venue fee 10 bps, spread 2 bps
    sigma = 0.5 / math.sqrt(365.0)
    value = 1_000_000.0
    impact = 1.0 * sigma * value ** 1.5 / math.sqrt(1e9)
    assert impact == pytest.approx(827.6, abs=0.1)  # 0.026171 * 1e9 / 31622.8
    fees, spread, cost = (part[0] for part in data.leg_cost(np.array([value, 0.0])))
    assert fees == pytest.approx(value * 10 / 1e4)
    assert spread == pytest.approx(value * 2 / 2e4)
    assert cost == pytest.approx(impact, rel=1e-12)
    # USDC: impact 0.1, volatility 0.01, ADV 1e10, spread 1 bp
    usdc = 0.1 * (0.01 / math.sqrt(365.0)) * value ** 1.5 / math.sqrt(1e10)
    assert data.leg_cost(np.array([0.0, value]))[2][1] == pytest.approx(usdc, rel=1e-12)


def test_impact_is_convex_and_grows_faster_than_size(data):
    values = np.array([[0.0, 1e5, 5e5, 1e6, 2e6, 4e6], [0.0] * 6])
    impact = data.leg_cost(values)[2][0]
    assert np.all(np.diff(impact) > 0)
    per_unit = impact[1:] / values[0, 1:]
    assert np.all(np.diff(per_unit) > 0)  # cost per dollar rises with size: splitting pays
    # midpoint convexity on random pairs
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 5e6, 100), rng.uniform(0, 5e6, 100)
    f = lambda v: data.leg_cost(np.vstack([v, np.zeros_like(v)]))[2][0]  # noqa: E731
    assert np.all(f((a + b) / 2) <= (f(a) + f(b)) / 2 + 1e-9)
    # v^1.5 exactly: doubling the size multiplies the impact by 2^1.5
    assert f(np.array([2e6]))[0] / f(np.array([1e6]))[0] == pytest.approx(2 ** 1.5)


def test_the_schedule_spreads_a_large_sale_over_periods():
    """With convex impact, selling in several periods costs less than in one: the optimum spreads the sale."""
    result = plan_transition(tiny(schedule={"periods": 8}))
    sales = [s for s in result.steps if s.kind == "trade"]
    assert len({s.period for s in sales}) >= 3


def test_cost_split_recomputed_from_the_plan():
    problem = tiny()
    result = plan_transition(problem)
    assets = {a.id: a for a in problem.assets}
    venue = problem.venues[0]
    legs: dict[tuple[int, str], float] = {}
    for step in result.steps:
        if step.kind == "trade":
            legs[(step.period, step.asset)] = legs.get((step.period, step.asset), 0.0) + step.value
            legs[(step.period, step.asset_to)] = legs.get((step.period, step.asset_to), 0.0) + step.value_to
    fees = sum(v * venue.fee_bps / 1e4 for v in legs.values())
    spread = sum(v * assets[a].spread_bps / 2e4 for (_, a), v in legs.items())
    impact = sum(assets[a].impact * assets[a].volatility / math.sqrt(365) * v ** 1.5 / math.sqrt(assets[a].adv)
                 for (_, a), v in legs.items())
    assert result.costs.fees == pytest.approx(fees, rel=1e-9)
    assert result.costs.spread == pytest.approx(spread, rel=1e-9)
    assert result.costs.impact == pytest.approx(impact, rel=1e-9)
    transfers = sum(s.value * 1e-4 for s in result.steps if s.kind == "transfer")
    assert result.costs.transfer == pytest.approx(transfers, rel=1e-9)
