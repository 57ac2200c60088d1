"""Hedges on the compile-free linear path (program/_lp/, solve/_fast.py; docs/hedging.md): the same program as the
cvxpy one, so ``backend="highs"`` gives the cvxpy program's optimum, hedge trades, binding rows, shadow prices,
marginal values, liquidation distances and delta rows; net-delta limits still need the cvxpy program."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS, assert_verified, relative_gap

import allocator
from allocator.io.generate import generate_problem
from allocator.program._layout import Layout
from allocator.program._lp.support import unsupported
from allocator.program._lp.values import LinearValues
from allocator.program._model import Program
from allocator.program._numbers import Numbers
from allocator.solve._solvers import profile

HORIZON = 30 / 365


def _desk() -> allocator.Problem:
    """desk.toml with six hedges (tests/benchmarks/bench_hedge.py): BTC, ETH and SOL perps at the CEX perps account
    and the prime broker; funding pays shorts, so each is traded to its size."""
    data = allocator.load_problem(PROBLEMS / "desk.toml").model_dump(by_alias=True)
    data["hedges"] = [{"account": account, "instrument": f"{asset}-PERP", "underlying": asset, "funding_rate": 0.1095,
                       "fee_bps": 4.5, "max_notional": 2e6, "margin_rate": 0.05}
                      for account in ("cex-perps", "prime-broker") for asset in ("BTC", "ETH", "SOL")]
    return allocator.Problem.model_validate(data)


def _generated(funding: float = 0.05, **bands: float) -> allocator.Problem:
    """A generated 30 x 2 x 6 hub-and-spoke book with one perp per account on the account's own asset ``A00k``."""
    data = generate_problem(30, 2, 6, seed=1, topology="hub").model_dump(by_alias=True)
    data["hedges"] = [{"account": account["id"], "instrument": f"A{k:03d}-PERP", "underlying": f"A{k:03d}",
                       "funding_rate": funding, "fee_bps": 3.0, "max_notional": 1e6, "margin_rate": 0.05}
                      for k, account in enumerate(data["accounts"])]
    data["max_net_delta"] = bands
    return allocator.Problem.model_validate(data)


def _margin_only(requirement: float = 0.0) -> allocator.Problem:
    """An account that needs nothing but its hedge's margin: a short perp paid 10.95% a year, margined at 5% with a
    10% buffer, covered by USDC moved in from custody (1 bp) at a 4.5% carry forgone."""
    return allocator.Problem.model_validate({
        "currency": "USD", "horizon_days": 30,
        "assets": [{"id": "BTC", "price": 100_000.0, "carry": 0.02}, {"id": "USDC", "price": 1.0, "carry": 0.045}],
        "holdings": [{"asset": "USDC", "location": "custody", "quantity": 3e6},
                     {"asset": "BTC", "location": "custody", "quantity": 10.0}],
        "accounts": [{"id": "cex", "requirement": requirement, "buffer": 0.1, "haircuts": {"USDC": 0.01}}],
        "routes": [{"from": "custody", "to": "cex", "cost_bps": 1.0},
                   {"from": "cex", "to": "custody", "cost_bps": 1.0}],
        "hedges": [{"account": "cex", "instrument": "BTC-PERP", "underlying": "BTC", "funding_rate": 0.1095,
                    "fee_bps": 4.5, "max_notional": 2e6, "margin_rate": 0.05}]})


def _both(problem: allocator.Problem) -> tuple[allocator.Result, allocator.Result]:
    return (allocator.Allocator(problem, backend="cvxpy").solve(),
            allocator.Allocator(problem, backend="highs").solve())


def _trades(result: allocator.Result) -> dict[tuple[str, str, str], float]:
    return {(h.account, h.instrument, name): getattr(h, name) for h in result.hedges
            for name in ("notional", "funding", "fee", "margin")}


def _deltas(result: allocator.Result) -> dict[tuple[str, str, str], float]:
    return {(d.owner, d.underlying, name): getattr(d, name) for d in result.deltas for name in ("before", "after")}


def _assert_same(reference: allocator.Result, fast: allocator.Result) -> None:
    """The same money, hedges, coverage and its duals, binding rows, marginal values, liquidation distances, delta
    rows and least value moved."""
    objective = reference.objective
    gross = abs(objective.carry) + abs(objective.transfer) + abs(objective.hedging)
    assert relative_gap(objective.total, fast.objective.total, gross) <= 1e-9
    assert fast.objective.hedging == pytest.approx(objective.hedging, rel=1e-9, abs=1e-6)
    assert _trades(fast) == pytest.approx(_trades(reference), rel=1e-9, abs=1e-6)
    for ours, theirs in zip(fast.accounts, reference.accounts, strict=True):
        assert ours.id == theirs.id
        for name in ("required", "collateral", "hedge_margin", "shadow_price", "liquidation_move",
                     "market_liquidation_move"):
            mine, expected = getattr(ours, name), getattr(theirs, name)
            assert (mine is None) == (expected is None), (ours.id, name)
            if expected is not None:
                assert mine == pytest.approx(expected, rel=1e-7, abs=1e-9), (ours.id, name)
    assert {b.label: b.shadow_price for b in fast.binding} == pytest.approx(
        {b.label: b.shadow_price for b in reference.binding}, rel=1e-7, abs=1e-12)
    marginal = {(m.asset, m.location): m.value for m in reference.marginal_values}
    for row in fast.marginal_values:
        assert row.value == pytest.approx(marginal.pop((row.asset, row.location), 0.0), rel=1e-7, abs=1e-9)
    assert all(abs(v) <= 1e-9 for v in marginal.values())
    assert _deltas(fast) == pytest.approx(_deltas(reference), rel=1e-9, abs=1e-6)
    moved = [sum(step.value for step in r.plan) for r in (reference, fast)]
    assert moved[1] == pytest.approx(moved[0], rel=1e-9, abs=1e-6)
    assert fast.diagnostics.phases == reference.diagnostics.phases


def test_the_hedged_desk_matches_the_cvxpy_program():
    problem = _desk()
    assert unsupported(Layout.from_problem(problem)) == []
    reference, fast = _both(problem)
    assert len(fast.hedges) == 6 and all(h.notional == pytest.approx(-2e6) for h in fast.hedges)
    labels = {b.label for b in fast.binding}
    assert {"hedge[cex-perps,BTC-PERP]", "coverage[cex-perps]", "concentration[cex-perps,BTC]"} <= labels
    _assert_same(reference, fast)
    assert_verified(problem, fast)


def test_a_generated_book_with_a_hedge_per_account_matches_and_resolves():
    problem = _generated()
    reference, fast = _both(problem)
    assert len(fast.hedges) == len(problem.hedges)
    _assert_same(reference, fast)
    assert_verified(problem, fast)
    data = problem.model_dump(by_alias=True)  # a what-if: prices and the funding move, the structure stays
    data["assets"][0]["price"] *= 1.01
    data["hedges"][2]["funding_rate"] = -0.05
    changed = allocator.Problem.model_validate(data)
    engines = [allocator.Allocator(problem, backend=backend) for backend in ("cvxpy", "highs")]
    again = [engine.solve(changed) for engine in engines]
    _assert_same(*again)
    assert_verified(changed, again[1])
    assert allocator.Allocator(changed, backend="highs").solve().objective.total == pytest.approx(
        again[1].objective.total, rel=1e-12)  # from the home basis or from scratch: the same answer


def test_a_hedge_nobody_trades_changes_nothing():
    """Without funding each direction only costs its fee: no hedge is traded, the optimum is the unhedged one."""
    problem = _generated(funding=0.0)
    reference, fast = _both(problem)
    assert fast.hedges == [] and reference.hedges == []
    assert not any(b.label.startswith("hedge[") for b in fast.binding)
    _assert_same(reference, fast)
    plain = allocator.Allocator(problem.model_copy(update={"hedges": [], "max_net_delta": {}}),
                                backend="highs").solve()
    assert fast.objective.total == pytest.approx(plain.objective.total, rel=1e-12)
    assert_verified(problem, fast)


def test_a_hedges_margin_makes_coverage_bind_by_hand():
    """An account with no requirement of its own: only the short perp's margin asks for collateral, so coverage
    binds because of the hedge. By hand: a short of 2M is paid funding 10.95% x 30/365 and pays the 4.5 bp fee; its
    margin 5% x 2M with the 10% buffer is covered by USDC at 1 - 1% haircut, which forgoes its 4.5% carry and pays
    1 bp to move. One more currency of requirement costs 1.1 / 0.99 USDC more of the same."""
    problem = _margin_only()
    reference, fast = _both(problem)
    (trade,) = fast.hedges
    assert trade.notional == pytest.approx(-2e6, rel=1e-12)
    assert trade.margin == pytest.approx(0.05 * 2e6, rel=1e-12)
    posted = 1.1 * 0.05 * 2e6 / 0.99
    (account,) = fast.accounts
    assert account.required == pytest.approx(1.1 * 0.05 * 2e6, rel=1e-12)
    assert account.collateral == pytest.approx(account.required, rel=1e-9)
    per_unit = 0.045 * HORIZON + 1e-4  # carry forgone and the move, per USDC posted
    assert fast.objective.total == pytest.approx(-0.1095 * HORIZON * 2e6 + 4.5e-4 * 2e6 + posted * per_unit,
                                                 rel=1e-9)
    assert account.shadow_price == pytest.approx(1.1 / 0.99 * per_unit, rel=1e-9)
    binding = {b.label: b.shadow_price for b in fast.binding}
    assert binding["coverage[cex]"] == pytest.approx(1.1 / 0.99 * per_unit, rel=1e-9)
    assert "hedge[cex,BTC-PERP]" in binding
    _assert_same(reference, fast)
    assert_verified(problem, fast)


def test_an_infeasible_hedged_problem_gets_the_same_diagnosis():
    problem = _margin_only(requirement=5e6)  # 3M USDC cannot cover 5.5M
    diagnoses = []
    for backend in ("cvxpy", "highs"):
        with pytest.raises(allocator.InfeasibleError) as caught:
            allocator.Allocator(problem, backend=backend).solve()
        diagnoses.append(caught.value.diagnosis.by_account())
    assert diagnoses[1] == pytest.approx(diagnoses[0], rel=1e-9)
    assert diagnoses[1]["cex"] == pytest.approx(5.5e6 - 0.99 * 3e6, rel=1e-9)  # no hedge: it would only add margin


def test_the_linear_hedge_values_are_the_cvxpy_parameter_values():
    problem = _desk()
    layout = Layout.from_problem(problem)
    numbers = Numbers.from_problem(problem, layout)
    program = Program(layout)
    margins = profile("CLARABEL")  # non-zero margins on both rows
    scale = program.assign(numbers, margins)
    values = LinearValues.of(layout, numbers, scale, margins.coverage_margin, margins.limit_margin).hedges
    assert values is not None and len(values.limit_pairs)
    parameters = program.parameters.hedges
    assert parameters is not None
    np.testing.assert_array_equal(values.limit_pairs, parameters.limit_pairs)
    for field in ("scale", "size", "cost", "coverage", "limit"):
        assert getattr(values, field) == pytest.approx(np.asarray(getattr(parameters, field).value), rel=1e-15,
                                                       abs=0), field


def test_forcing_highs_serves_hedges_but_not_net_delta_limits():
    problem = _generated()
    assert allocator.Allocator(problem, backend="highs").backend == "highs"
    banded = _generated(A001=1.5e6)
    assert unsupported(Layout.from_problem(banded)) == ["net-delta limits (max_net_delta)"]
    with pytest.raises(allocator.SolverError, match="net-delta limits") as caught:
        allocator.Allocator(banded, backend="highs")
    assert caught.value.status == "unsupported"
    assert allocator.Allocator(banded, backend="auto").backend == "cvxpy"


@pytest.mark.parametrize("backend", ["cvxpy", "highs"])
def test_a_hedge_limits_shadow_price_is_the_cost_per_currency_of_max_notional(backend):
    """Regression: the size row of a hedge is in its account's units, so its dual, in currency per currency of
    ``max_notional``, is divided by the account's scale (it came out 1/a too small on both paths). Checked by a
    finite difference: raising a binding limit by ``step`` lowers the cost by the shadow price times ``step``."""
    problem = _desk()
    result = allocator.Allocator(problem, backend=backend).solve()
    hedges = {b.label: b.shadow_price for b in result.binding if b.label.startswith("hedge[")}
    assert hedges, "the desk's hedges are traded at their limits"
    label, price = max(hedges.items(), key=lambda item: item[1])
    account, instrument = label[len("hedge["):-1].split(",")
    step = 1_000.0
    data = problem.model_dump(by_alias=True)
    for hedge in data["hedges"]:
        if hedge["account"] == account and hedge["instrument"] == instrument:
            hedge["max_notional"] += step
    looser = allocator.Allocator(allocator.Problem.model_validate(data), backend=backend).solve()
    saved = result.objective.total - looser.objective.total
    assert saved == pytest.approx(price * step, rel=1e-6)
