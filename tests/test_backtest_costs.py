"""Every cost a backtest reports is money computed by hand on a small case: carry forgone (the single-period
objective's carry term, one day at a time), transfer costs, trading costs."""

from __future__ import annotations

import pytest
from backtest_cases import flat, problem

import allocator
from allocator.analysis.backtest import Moves, backtest
from allocator.analysis.backtest.policies.optimized import Optimized


class Still:
    """A policy that never moves anything."""

    name = "still"

    def decide(self, state: object) -> Moves:
        return Moves()


def test_carry_forgone_is_the_income_given_up_by_what_is_posted() -> None:
    """The venue holds 13 BTC (carry 0, no yield: nothing forgone) and 300,000 USDC (carry 5%, the venue pays 1%):
    posting them forgoes 4% a year of 300,000, every night; 31 dates are 30 nights."""
    case = problem(holdings=[{"asset": "BTC", "location": "venue", "quantity": 13.0},
                             {"asset": "USDC", "location": "venue", "quantity": 300_000.0},
                             {"asset": "USDC", "location": "wallet", "quantity": 1_000_000.0}])
    result = backtest(case, policies=[Still()], history=flat(31, BTC=100_000.0, USDC=1.0))
    expected = (0.05 - 0.01) * 300_000.0 * 30 / 365
    assert result.summary.loc[0, "carry_forgone"] == pytest.approx(expected, rel=1e-12)
    assert result.summary.loc[0, "total_cost"] == pytest.approx(expected, rel=1e-12)
    daily = result.daily.set_index("date")["carry_forgone"]
    assert daily.iloc[0] == 0.0  # the first day has no night before it
    assert daily.iloc[1] == pytest.approx(0.04 * 300_000.0 / 365, rel=1e-12)


def test_carry_forgone_per_day_is_the_single_period_objective_over_one_day() -> None:
    """The optimized policy's first-day allocation is optimize()'s with a buffer of the band's target; its income
    forgone over the problem's 30-day horizon is that objective's carry term, 30 nights of the backtest's."""
    case = problem(accounts=[{"id": "venue", "requirement": 1_000_000.0, "buffer": 0.3,
                              "haircuts": {"BTC": 0.1, "USDC": 0.0}, "yields": {"USDC": 0.01},
                              "concentration": {"BTC": 0.5}}])
    result = backtest(case, policies=[Optimized(band="1.1:1.5:1.3")], history=flat(31, BTC=100_000.0, USDC=1.0))
    optimum = allocator.optimize(case)
    assert result.summary.loc[0, "carry_forgone"] == pytest.approx(optimum.objective.carry, rel=1e-7)
    assert result.summary.loc[0, "transfer_cost"] == pytest.approx(optimum.objective.transfer, rel=1e-7)


def test_transfer_cost_is_the_route_rate_times_the_value_moved() -> None:
    """The venue is at 0.95 of its requirement: the waterfall brings it to 1.3 with the cheapest credit, BTC
    (carry 0) from the wallet: 3.5 BTC at 100,000 along a 2 bp route, 70.00."""
    case = problem(holdings=[{"asset": "BTC", "location": "wallet", "quantity": 20.0},
                             {"asset": "USDC", "location": "wallet", "quantity": 2_000_000.0},
                             {"asset": "BTC", "location": "venue", "quantity": 9.5}])
    result = backtest(case, policies=["waterfall"], history=flat(3, BTC=100_000.0, USDC=1.0))
    row = result.summary.iloc[0]
    assert row["transfer_cost"] == pytest.approx(3.5 * 100_000.0 * 2e-4, rel=1e-12)
    assert row["moves"] == 1 and row["moved_value"] == pytest.approx(350_000.0, rel=1e-12)
    assert result.daily["coverage_after"].iloc[0] == pytest.approx(1.3, rel=1e-12)
    # the treasury pays it in cash: the wallet's USDC
    assert result.treasury["value"].iloc[0] == pytest.approx(29.5 * 100_000.0 + 2_000_000.0 - 70.0, rel=1e-12)


def test_trading_cost_is_the_fee_on_what_is_sold() -> None:
    """all_stable on a desk without stablecoins: the venue's 13 BTC go back to the wallet (2 bp), BTC is sold for
    USDC at 10 bp (the default fee; no spreads) until the venue can be brought to 1.3M of USDC (2 bp again)."""
    case = problem(holdings=[{"asset": "BTC", "location": "wallet", "quantity": 20.0},
                             {"asset": "BTC", "location": "venue", "quantity": 13.0},
                             {"asset": "USDC", "location": "wallet", "quantity": 0.0}])
    result = backtest(case, policies=["all_stable"], history=flat(2, BTC=100_000.0, USDC=1.0))
    row = result.summary.iloc[0]
    sold = 1_300_000.0 / 0.999  # the value of BTC sold to receive 1.3M of USDC after the fee
    assert row["traded_value"] == pytest.approx(sold, rel=1e-9)
    assert row["trading_cost"] == pytest.approx(sold * 1e-3, rel=1e-9)
    assert row["transfer_cost"] == pytest.approx(13 * 100_000.0 * 2e-4 + 1_300_000.0 * 2e-4, rel=1e-9)
    assert result.daily["coverage_after"].iloc[0] == pytest.approx(1.3, rel=1e-9)
