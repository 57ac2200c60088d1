"""The multi-period transition end to end: derisk.toml solved, verified and replayed; limits never exceeded in
the replayed plan (checked here from the plan alone, independently of the engine); JSON and the CLI."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import PROBLEMS
from transition_helpers import tiny

import allocator
from allocator.cli import main
from allocator.transition import TransitionResult, plan_transition, validate_transition

DERISK = PROBLEMS / "derisk.toml"


@pytest.fixture(scope="module")
def derisk() -> allocator.Problem:
    return allocator.load_problem(DERISK)


@pytest.fixture(scope="module")
def result(derisk: allocator.Problem) -> TransitionResult:
    return plan_transition(derisk)


def test_derisk_is_solved_verified_and_replays(derisk, result):
    assert result.status == "optimal" and result.diagnostics.solver == "CLARABEL"
    assert validate_transition(derisk, result) == []
    assert result.periods == 24 and 0 < result.completion_hours <= 24
    kinds = {s.kind for s in result.steps}
    assert kinds == {"transfer", "trade"}
    c = result.costs
    assert math.isclose(c.total, c.carry + c.transfer + c.fees + c.spread + c.impact)
    assert min(c.transfer, c.fees, c.spread, c.impact) > 0
    # a trade's cost is what it loses; the trading costs are exactly what the trades lose
    lost = sum(s.value - (s.value_to or 0.0) for s in result.steps if s.kind == "trade")
    assert c.fees + c.spread + c.impact <= lost <= (c.fees + c.spread + c.impact) * (1 + 1e-5)
    transfer = sum(s.cost for s in result.steps if s.kind == "transfer")
    assert math.isclose(transfer, c.transfer, rel_tol=1e-9)


def test_derisk_ends_covered_with_buffers_and_limits(derisk, result):
    held = defaultdict(float)
    for t in result.targets:
        held[(t.asset, t.location)] += t.value
    for account in derisk.accounts:
        collateral = sum((1 - h) * held[(a, account.id)] for a, h in account.haircuts.items())
        assert collateral >= derisk.terms[account.id].required - 1e-12 * result.diagnostics.money_scale, account.id
        for asset, limit in account.concentration.items():
            posted = (1 - account.haircuts[asset]) * held[(asset, account.id)]
            assert posted <= limit * collateral * (1 + 1e-9), (account.id, asset)


def test_no_account_ever_falls_below_its_floor(result):
    frame = result.coverage_frame
    tolerance = 1e-6 * np.maximum(frame["required"], frame["floor"])
    assert (frame["lowest"] >= frame["floor"] - tolerance).all()
    assert (frame["end"] >= frame["lowest"] - 1e-6).all()
    last = frame[frame["period"] == result.periods]
    assert (last["end"] >= last["required"] * (1 - 1e-12)).all()


def _replayed_limits(problem: allocator.Problem, result: TransitionResult) -> None:
    """Capacity, delay and participation, recomputed from the plan and the problem only."""
    schedule = problem.schedule
    assert schedule is not None
    routes = {(r.from_, r.to): r for r in problem.routes or []}
    price = {a.id: a.price for a in problem.assets}
    adv = {a.id: a.adv for a in problem.assets}
    per_route: dict[tuple[str, str, int], float] = defaultdict(float)
    traded: dict[tuple[str, int], float] = defaultdict(float)
    for step in result.steps:
        start = (step.period - 1) * schedule.period_hours
        assert step.start_hours == pytest.approx(start)
        if step.kind == "transfer":
            route = routes[(step.from_, step.to)]
            assert step.arrival_hours == pytest.approx(start + route.delay_hours)
            # usable by the end of the horizon: lands within the last period, rounded up to whole periods
            lag = max(math.ceil(route.delay_hours / schedule.period_hours), 1)
            assert step.period + lag - 1 <= schedule.periods
            per_route[(step.from_, step.to, step.period)] += step.quantity * price[step.asset]
        else:
            traded[(step.asset, step.period)] += step.value
            traded[(step.asset_to, step.period)] += step.value_to
    for (source, destination, _), value in per_route.items():
        capacity = routes[(source, destination)].capacity
        if capacity is not None:
            assert value <= capacity * (1 + 1e-8), (source, destination, value)
    for (asset, _), value in traded.items():
        assert value <= schedule.participation * adv[asset] * schedule.period_hours / 24 * (1 + 1e-8), asset


def test_capacity_delay_and_participation_are_never_exceeded(derisk, result):
    _replayed_limits(derisk, result)


def test_limits_bind_on_a_problem_built_to_need_them():
    """The tiny desk needs 5M at the exchange through a 2M-per-hour, 2-hour route within 5 hours: departures in
    periods 1 to 4 only, and USDC bought in a period is usable only from the next: capacity binds."""
    problem = tiny(schedule={"periods": 5})
    result = plan_transition(problem)
    _replayed_limits(problem, result)
    moved = defaultdict(float)
    for step in result.steps:
        if step.kind == "transfer":
            moved[step.period] += step.value
    assert max(moved.values()) == pytest.approx(2_000_000.0, rel=1e-6)  # at capacity in some period
    assert result.completion_hours <= 5


def test_validate_transition_catches_tampering(derisk, result):
    # the exchange releases at most 10M per hour (withdrawal_limits) over a 1-hour route
    transfer = next(s for s in result.steps if s.kind == "transfer" and s.from_ == "cex")
    early = transfer.model_copy(update={"arrival_hours": transfer.start_hours})
    kinds = {v.kind for v in validate_transition(derisk, [early if s is transfer else s for s in result.steps])}
    assert "timing" in kinds
    big = transfer.model_copy(update={"quantity": transfer.quantity * 200})
    kinds = {v.kind for v in validate_transition(derisk, [big if s is transfer else s for s in result.steps])}
    assert {"withdrawal", "overdraw"} <= kinds
    trade = next(s for s in result.steps if s.kind == "trade")
    greedy = trade.model_copy(update={"quantity_to": (trade.quantity_to or 0) * 1.01})
    kinds = {v.kind for v in validate_transition(derisk, [greedy if s is trade else s for s in result.steps])}
    assert "conservation" in kinds
    assert {v.kind for v in validate_transition(derisk, [])} == {"coverage", "concentration"}


def test_result_round_trips_through_json(result):
    again = TransitionResult.from_json(result.to_json())
    assert again == result
    assert list(again.schedule_frame.columns)[:6] == ["step", "period", "start_hours", "arrival_hours", "kind",
                                                      "asset"]


def test_a_problem_without_schedule_is_an_input_error(desk):
    with pytest.raises(allocator.InputError) as error:
        plan_transition(desk)
    assert error.value.issues[0].code == "missing_schedule"


def test_the_single_period_optimiser_ignores_the_liquidity_fields(derisk):
    """derisk.toml is infeasible without trades: the single-period program still runs unchanged on it."""
    with pytest.raises(allocator.InfeasibleError):
        allocator.optimize(derisk)


def test_cli_transition(tmp_path):
    out = tmp_path / "derisk.json"
    run = CliRunner().invoke(main, ["transition", str(DERISK), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "lowest collateral during the transition" in run.output
    assert json.loads(out.read_text())["status"] == "optimal"
    run = CliRunner().invoke(main, ["transition", str(PROBLEMS / "desk.toml"), "-o", str(out)])
    assert run.exit_code == 2 and "schedule" in run.output


@pytest.mark.parametrize("restrict", [False, True], ids=["all-assets", "restricted-routes"])
def test_generated_problems_are_solved_and_replay(restrict):
    from allocator.transition._generate import generate_transition

    problem = generate_transition(8, 3, 6, seed=3, restrict_routes=restrict, venue_assets=4)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []
    _replayed_limits(problem, result)


def test_without_routes_moves_are_free_and_immediate():
    """No routes table: every location may send to any other through the virtual hub, at once and for free."""
    problem = tiny(routes=None)
    result = plan_transition(problem)
    assert validate_transition(problem, result) == []
    transfers = [s for s in result.steps if s.kind == "transfer"]
    assert transfers and all(s.arrival_hours == s.start_hours and s.cost == 0 for s in transfers)


def test_without_trades_or_delays_it_reproduces_the_single_period_optimum(desk):
    """An independent formulation: desk.toml has no venues and no delays, so with enough (short) periods for its
    two-hop paths the transition's cost is the single-period optimum (HiGHS, a different program and solver),
    up to the coverage margin and four periods of carry. The transition counts income forgone against today's
    holdings, the single period carry forgone at accounts: with a fixed inventory they differ by the carry
    forgone at accounts today (docs/transition.md)."""
    single = allocator.optimize(desk)
    result = plan_transition(desk.with_changes(schedule={"periods": 4, "period_hours": 1e-6}))
    assert validate_transition(desk.with_changes(schedule={"periods": 4, "period_hours": 1e-6}), result) == []
    layout = allocator.program._layout.Layout.from_problem(desk)
    numbers = allocator.program._numbers.Numbers.from_problem(desk, layout)
    today = float(numbers.carry_rate @ numbers.value(layout)[layout.account_cells])
    assert result.costs.total == pytest.approx(single.objective.total - today, rel=1e-4)
    assert result.costs.carry == pytest.approx(single.objective.carry - today, rel=1e-4)
    assert result.costs.transfer == pytest.approx(single.objective.transfer, rel=1e-4)
    assert result.costs.fees == result.costs.spread == result.costs.impact == 0
