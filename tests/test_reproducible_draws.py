"""The same seed gives the same CVaR draws, and the same CVaR, on every machine.

The draws are ``normal @ F'`` with ``F`` the Cholesky factor of the covariance in the market's asset order
(market.psd_cholesky): a function of the matrix alone, unlike eigenvectors, whose signs, order and bases of
repeated eigenvalues depend on the linear-algebra build. The stored numbers below were computed once
(2026-11, numpy's PCG64 stream, which numpy keeps stable across versions); a change of them is a change of every
CVaR answer and must be deliberate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import PROBLEMS

import allocator
from allocator.inputs.market import Market, RiskSettings, psd_cholesky

#: fund.toml, account hyperliquid (seed 7, 500 draws, 1-day horizon): rows 0, 250 and 499 of its draws, in the
#: order BTC, ETH, wstETH, SOL, USDC, USDT.
STORED_DRAWS = {
    0: [2.8416426852872354e-05, 0.007036269093008971, 0.007036269093008969, -0.028506721559374948,
        -8.253969223461017e-05, -0.00029929495196678353],
    250: [-0.02814201540270274, 0.008619618880258254, 0.008619618880258244, 0.030914810895575396,
          0.000220209977395502, 0.0001060558156652357],
    499: [-0.006152809093742452, -0.04066180937623698, -0.04066180937623697, 0.05404983423393006,
          -7.448950377817796e-05, -0.0009495655608840945],
}
#: CVaR (97.5%) of hyperliquid's loss at the optimum of fund.toml, in USD.
STORED_CVAR = 179158.69519625674


@pytest.fixture(scope="module")
def fund() -> allocator.Problem:
    return allocator.load_problem(PROBLEMS / "fund.toml")


def test_stored_draws_of_the_fund(fund):
    account = {a.id: a for a in fund.accounts}["hyperliquid"]
    assert account.risk is not None and fund.market is not None
    draws = account.risk.draws(fund.market.factor())
    assert draws.shape == (500, 6)
    for row, stored in STORED_DRAWS.items():
        np.testing.assert_allclose(draws[row], stored, rtol=1e-9, atol=0.0)


def test_stored_cvar_of_the_optimized_fund(fund):
    result = allocator.optimize(fund)
    assert result.accounts_frame.loc["hyperliquid", "cvar"] == pytest.approx(STORED_CVAR, rel=1e-6)


def test_the_factor_is_the_cholesky_factor_written_out():
    """Two assets: F = [[v1, 0], [v2 rho, v2 sqrt(1 - rho^2)]], F F' = Sigma."""
    market = Market(assets=["BTC", "ETH"], volatility={"BTC": 0.6, "ETH": 0.8}, correlation=[[1.0, 0.7], [0.7, 1.0]])
    expected = np.array([[0.6, 0.0], [0.8 * 0.7, 0.8 * math.sqrt(1 - 0.49)]])
    np.testing.assert_allclose(market.factor(), expected, rtol=1e-15, atol=1e-15)


def test_repeated_eigenvalues_do_not_make_the_factor_ambiguous():
    """Equal correlations 0.5 between four assets: the eigenvalue 0.5 is triple, so eigenvectors could be any
    basis of its space; the Cholesky factor is unique (its entries solved by hand from the recurrence)."""
    correlation = np.full((4, 4), 0.5) + 0.5 * np.eye(4)
    lower = psd_cholesky(correlation)
    expected = np.zeros((4, 4))
    for j in range(4):  # L_jj = sqrt((j + 2) / (2 (j + 1))), L_ij = L_jj / (j + 2) below the diagonal
        expected[j, j] = math.sqrt((j + 2) / (2 * (j + 1)))
        expected[j + 1:, j] = expected[j, j] / (j + 2)
    np.testing.assert_allclose(lower, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(lower @ lower.T, correlation, atol=1e-15)


def test_a_rank_deficient_market_has_an_exact_factor_with_zero_columns(fund):
    """fund.toml's wstETH has ETH's history (correlation 1): its pivot is zero, its column is zero, F F' = Sigma,
    and the parametric cone (deribit) and the CVaR rows (hyperliquid) still solve."""
    market = fund.market
    assert market is not None
    factor = market.factor()
    eth, wsteth = market.assets.index("ETH"), market.assets.index("wstETH")
    assert np.all(factor[:, wsteth] == 0.0)
    np.testing.assert_allclose(factor[wsteth], factor[eth], rtol=1e-7)
    vol, correlation = market.moments
    covariance = np.outer(vol, vol) * correlation
    np.testing.assert_allclose(factor @ factor.T, covariance, rtol=0, atol=1e-12 * covariance.max())
    singular = RiskSettings(cvar_confidence=0.95, cvar_scenarios=20, seed=3).draws(
        Market(assets=["A", "B"], volatility={"A": 0.5, "B": 0.5}, correlation=[[1.0, 1.0], [1.0, 1.0]]).factor())
    np.testing.assert_array_equal(singular[:, 0], singular[:, 1])  # perfectly correlated draws, exactly
