"""The policies: an allocation that never needs to move is never moved, the waterfall covers every account whenever
the inventory can, a run is deterministic, the optimized policy never recompiles, and a policy of your own runs by
name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtest_cases import flat, history, problem

import allocator
from allocator.analysis.backtest import Moves, backtest, make_policy, policy_names, register_policy
from allocator.analysis.backtest.policies.optimized import Optimized, day_problem
from allocator.errors import InputError

SIX = ["isolated", "all_stable", "waterfall", "pro_rata", "optimized", "optimized_predictive"]


def test_an_allocation_that_never_needs_to_move_has_zero_moves() -> None:
    """One account at exactly the band's target in USDC (the settlement asset, a stablecoin, the cheapest and only
    eligible collateral), a wallet with nothing it can post, flat prices: no policy moves anything."""
    case = problem(holdings=[{"asset": "BTC", "location": "wallet", "quantity": 1.0},
                             {"asset": "USDC", "location": "venue", "quantity": 1_300_000.0}],
                   accounts=[{"id": "venue", "requirement": 1_000_000.0, "buffer": 0.3, "haircuts": {"USDC": 0.0}}])
    result = backtest(case, policies=SIX, history=flat(20, BTC=100_000.0, USDC=1.0))
    assert result.summary["moves"].tolist() == [0] * 6
    assert result.summary["total_cost"].tolist() == pytest.approx([(0.05 * 1_300_000.0 * 19 / 365)] * 6,
                                                                  rel=1e-12)


def _two_accounts(seed: int) -> allocator.Problem:
    rng = np.random.default_rng(seed)
    haircuts = {a: {"BTC": float(rng.uniform(0.0, 0.5)), "ETH": float(rng.uniform(0.0, 0.5)),
                    "USDC": float(rng.uniform(0.0, 0.1))} for a in ("a", "b")}
    return allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100_000.0, "carry": float(rng.uniform(0, 0.05))},
                   {"id": "ETH", "price": 3_000.0, "carry": float(rng.uniform(0, 0.05))},
                   {"id": "USDC", "price": 1.0, "carry": float(rng.uniform(0, 0.05))}],
        "holdings": [{"asset": "BTC", "location": "a", "quantity": 13.0},
                     {"asset": "ETH", "location": "b", "quantity": 400.0},
                     {"asset": "BTC", "location": "wallet", "quantity": float(rng.uniform(0, 20))},
                     {"asset": "ETH", "location": "wallet", "quantity": float(rng.uniform(0, 600))},
                     {"asset": "USDC", "location": "wallet", "quantity": float(rng.uniform(0, 2e6))}],
        "accounts": [{"id": k, "requirement": 1_000_000.0, "haircuts": haircuts[k]} for k in ("a", "b")],
    })


@pytest.mark.parametrize("seed", range(12))
def test_the_waterfall_covers_every_account_whenever_the_inventory_can(seed: int) -> None:
    """A crash takes both accounts below the band; whenever the inventory can still bring both to the band's target
    (the allocator says so: the day's problem with a buffer of the target is feasible), the waterfall does."""
    case = _two_accounts(seed)
    prices = history({"BTC": [100_000.0, 60_000.0], "ETH": [3_000.0, 2_000.0], "USDC": [1.0, 1.0]})
    result = backtest(case, policies=["waterfall"], history=prices, record_holdings=True)
    day = result.daily[result.daily["date"] == "2024-01-02"].set_index("account")
    assert (day["coverage"] < 1.1).any()  # the crash put something out of the band
    units = result.holdings[result.holdings["date"] == "2024-01-02"]
    before = allocator.Problem.model_validate({**case.model_dump(by_alias=True, exclude_none=True),
                                                "assets": [{"id": "BTC", "price": 60_000.0, "carry": 0.0},
                                                           {"id": "ETH", "price": 2_000.0, "carry": 0.0},
                                                           {"id": "USDC", "price": 1.0, "carry": 0.0}],
                                                "accounts": [{**a.model_dump(exclude_none=True), "buffer": 0.3}
                                                             for a in case.accounts]})
    try:
        allocator.optimize(before)
    except allocator.InfeasibleError:
        pytest.skip("the inventory cannot cover both accounts at the target")
    assert (day["coverage_after"] >= 1.3 - 1e-9).all(), day[["coverage", "coverage_after"]]
    assert len(units)


def test_a_thirty_day_rerun_is_identical(desk: allocator.Problem) -> None:
    policies = [*SIX[:5], {"policy": "optimized_predictive", "haircuts": "ewma"}]
    first = backtest(desk, "2022-11-01", "2022-11-30", policies)
    second = backtest(desk, "2022-11-01", "2022-11-30", policies)
    for frame in ("daily", "treasury", "summary"):
        pd.testing.assert_frame_equal(getattr(first, frame), getattr(second, frame), check_exact=True)


def test_the_optimized_policy_re_solves_without_recompiling(desk: allocator.Problem) -> None:
    """Every solve after the first only sets parameter values: the engine's compilations stay where the first solve
    left them (on the linear path, the default for this linear desk, one structure for both phases)."""
    policy = Optimized(every_days=1)  # a solve every day
    result = backtest(desk, "2024-03-01", "2024-03-20", [policy])
    assert policy.engine is not None and policy.solves == 20
    assert policy.engine.backend == "highs" and policy.engine.compilations == 1
    assert result.summary.loc[0, "compilations"] == 1


def test_the_day_problem_keeps_the_compiled_structure(desk: allocator.Problem) -> None:
    from allocator.analysis.backtest.books import Holdings
    from allocator.analysis.backtest.history import MarketHistory
    from allocator.analysis.backtest.settings import BacktestSettings
    from allocator.analysis.backtest.simulation import Context, day_state
    from allocator.program._layout import Layout

    context = Context.of(desk, MarketHistory.from_market(desk, "2024-01-01", "2024-01-02"), BacktestSettings())
    holdings = Holdings.of(desk, context.venues.account_location, context.cash)
    holdings.quantity[:, 0] = 0.0  # custody-a emptied: its location must keep its place
    state, _ = day_state(context, holdings, context.history.end, None)
    changed = day_problem(state, [1.3] * 4, {})
    assert Layout.from_problem(changed).signature() == Layout.from_problem(desk).signature()
    assert [a.buffer for a in changed.accounts] == pytest.approx([0.3] * 4)


def test_a_policy_of_your_own_runs_by_name() -> None:
    class Nothing:
        name = "nothing"

        def __init__(self, label: str = "nothing") -> None:
            self.name = label

        def decide(self, state: object) -> Moves:
            return Moves()

    register_policy("nothing", Nothing)
    assert "nothing" in policy_names()
    result = backtest(problem(), policies=["nothing", {"policy": "nothing", "label": "again"}],
                      history=flat(3, BTC=100_000.0, USDC=1.0))
    assert result.summary["policy"].tolist() == ["nothing", "again"]


def test_bad_policies_and_steps_are_input_errors() -> None:
    with pytest.raises(InputError) as error:
        backtest(problem(), policies=["nope", "waterfall", "waterfall"], history=flat(3, BTC=1.0, USDC=1.0))
    text = str(error.value)
    assert "unknown policy 'nope'" in text and "two policies are named 'waterfall'" in text
    with pytest.raises(InputError, match="band"):
        make_policy("waterfall", band="1.5:1.1")

    class Greedy:
        name = "greedy"

        def decide(self, state):  # type: ignore[no-untyped-def]
            from allocator.plan.transfers import Transfer
            return Moves((Transfer("BTC", "wallet", "venue", 1e6),))

    with pytest.raises(InputError, match=r"policy greedy: steps\[0\]: moves 1000000.0 units where 20.0 are held"):
        backtest(problem(), policies=[Greedy()], history=flat(3, BTC=100_000.0, USDC=1.0))
