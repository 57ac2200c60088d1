"""Monte Carlo moves: the Student-t model is fitted to the market files (checked against a likelihood written out
here), its draws are pinned (the same on every machine), and they run through the stress like episodes."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from helpers import PROBLEMS, ROOT
from scipy.special import gammaln

import allocator
from allocator.analysis.stress import stress
from allocator.analysis.stress.montecarlo import StudentT, fit

END = pd.Timestamp("2025-02-11")


def log_returns(ticker: str, days: int) -> np.ndarray:
    with open(ROOT / "fixtures" / "market" / f"{ticker}-USD_1d.csv", newline="", encoding="utf-8") as handle:
        closes = {row["Date"][:10]: float(row["Close"]) for row in csv.DictReader(handle)}
    dates = sorted(d for d in closes if d <= "2025-02-11")
    values = np.log([closes[d] for d in dates])
    return np.diff(values)[-days:]


def t_log_likelihood(x: np.ndarray, shape: np.ndarray, nu: float) -> float:
    """The multivariate t log density written out: lgamma((nu+p)/2) - lgamma(nu/2) - p/2 log(nu pi)
    - 1/2 log det(shape) - (nu+p)/2 log(1 + x' shape^-1 x / nu), summed over rows."""
    p = x.shape[1]
    inverse = np.linalg.inv(shape)
    quadratic = np.einsum("ij,jk,ik->i", x, inverse, x)
    constant = gammaln((nu + p) / 2) - gammaln(nu / 2) - p / 2 * math.log(nu * math.pi)
    return float(np.sum(constant - 0.5 * np.linalg.slogdet(shape)[1] - (nu + p) / 2 * np.log1p(quadratic / nu)))


def test_fit_is_the_maximum_likelihood_student_t_of_the_market_files() -> None:
    model = fit(["BTC", "ETH", "USDC"], END, 365)
    x = np.column_stack([log_returns(t, 365) for t in ("BTC", "ETH", "USDC")])
    assert (model.start, model.end, model.observations) == ("2024-02-13", "2025-02-11", 365)
    second = x.T @ x / len(x)
    assert np.allclose(model.volatility, np.sqrt(np.diag(second)), rtol=1e-12)
    assert np.allclose(model.correlation, second / np.outer(model.volatility, model.volatility), atol=1e-12)
    # the shape matrix reproduces the second moment: A A' nu / (nu - 2) = S
    assert np.allclose(model.factor @ model.factor.T * model.nu / (model.nu - 2), second, rtol=1e-9, atol=1e-15)
    grid = np.linspace(2.5, 30.0, 1101)
    likelihood = [t_log_likelihood(x, second * (nu - 2) / nu, nu) for nu in grid]
    assert model.nu == pytest.approx(grid[int(np.argmax(likelihood))], abs=0.03)
    assert model.nu == pytest.approx(6.8014, rel=1e-3)  # BTC, ETH, USDC over the year to 2025-02-11: fat tails


def test_draws_are_pinned_and_reproducible() -> None:
    """Cholesky (no eigen-decomposition) and PCG64: these numbers are the same on every machine."""
    model = StudentT(("A", "B", "C"), np.array([0.03, 0.04, 0.001]),
                     np.array([[1.0, 0.8, -0.1], [0.8, 1.0, 0.0], [-0.1, 0.0, 1.0]]), 4.0, "x", "y", 10)
    pinned = np.array([[1.8497112068303522e-02, 4.3885082985343292e-02, 7.4057767557891244e-04],
                       [-3.0480006914378775e-02, -6.6167999833085189e-02, -2.3465249236893507e-05],
                       [1.2379126790722414e-02, 1.9122261379767611e-02, 8.4152151551852199e-04]])
    assert np.allclose(model.draw(3, 2024), pinned, rtol=1e-12, atol=1e-16)
    assert np.array_equal(model.draw(500, 7), model.draw(500, 7))
    assert not np.array_equal(model.draw(500, 7), model.draw(500, 8))
    draws = model.draw(200_000, 1)
    assert draws.min() > -1.0  # exp(x) - 1: a price stays positive
    log = np.log1p(draws)
    assert np.corrcoef(log[:, 0], log[:, 1])[0, 1] == pytest.approx(0.8, abs=0.01)


def test_monte_carlo_report_on_the_desk() -> None:
    problem = allocator.load_problem(PROBLEMS / "stress-desk.toml")
    report = stress(problem, episodes=[], draws=400, seed=3)
    again = stress(problem, episodes=[], draws=400, seed=3)
    assert report.draws.equals(again.draws)
    mc = report.monte_carlo
    assert mc is not None and mc.draws == 400 and mc.series["wstETH"] == "ETH"
    losses = report.draws["total_loss"].to_numpy()
    assert mc.var_99 == pytest.approx(np.quantile(losses, 0.99))
    assert mc.expected_shortfall_99 == pytest.approx(losses[losses >= np.quantile(losses, 0.99)].mean())
    assert mc.probability_any_liquidation == pytest.approx((report.draws["liquidated"] > 0).mean())
    frame = report.draw_accounts.set_index("account")
    liquidated = report.draws.explode("accounts_liquidated")["accounts_liquidated"].value_counts()
    for account in problem.account_ids:
        assert frame.loc[account, "probability_liquidated"] == pytest.approx(liquidated.get(account, 0) / 400)
    assert report.summary_rows == [] and report.account_rows == []
