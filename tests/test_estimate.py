"""Volatilities and correlations estimated from the real daily history in fixtures/market, checked against
independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

import allocator
from allocator.venues.estimate import daily_returns, estimate, read_closes

MARKET = ROOT / "fixtures" / "market"
FILES = {"BTC": "BTC-USD_1d.csv", "ETH": "ETH-USD_1d.csv", "SOL": "SOL-USD_1d.csv", "USDC": "USDC-USD_1d.csv"}


@pytest.fixture(scope="module")
def returns():
    closes = {asset: read_closes(MARKET / name) for asset, name in FILES.items()}
    return daily_returns(closes, "2025-02-11", 365)


def test_returns_are_aligned_log_returns(returns):
    assert len(returns) == 365 and returns.index[-1] == pd.Timestamp("2025-02-11")
    btc = pd.read_csv(MARKET / "BTC-USD_1d.csv", index_col="Date", parse_dates=True)["Close"]
    assert returns["BTC"].iloc[-1] == pytest.approx(np.log(btc.iloc[-1] / btc.iloc[-2]), rel=1e-12)


def test_sample_estimator_matches_pandas(returns):
    volatility, correlation = estimate(returns, "sample", 30.0)
    assert volatility == pytest.approx((returns.std() * np.sqrt(365)).to_numpy(), rel=1e-12)
    assert correlation == pytest.approx(returns.corr().to_numpy(), abs=1e-12)
    assert volatility[0] == pytest.approx(0.524, abs=1e-3)  # BTC, as in perps-risk.toml


def test_ewma_matches_a_hand_written_loop(returns):
    volatility, correlation = estimate(returns, "ewma", 10.0)
    values = returns.to_numpy()
    total, weights = np.zeros((4, 4)), 0.0
    for age, row in enumerate(values[::-1]):
        weight = 0.5 ** (age / 10.0)
        total += weight * np.outer(row, row)
        weights += weight
    covariance = total / weights * 365
    assert volatility == pytest.approx(np.sqrt(np.diag(covariance)), rel=1e-10)
    assert correlation[0, 1] == pytest.approx(covariance[0, 1] / np.sqrt(covariance[0, 0] * covariance[1, 1]),
                                              rel=1e-10)


def test_ledoit_wolf_shrinks_towards_the_target(returns):
    sample_volatility, sample = estimate(returns, "sample", 30.0)
    volatility, shrunk = estimate(returns, "ledoit-wolf", 30.0)
    assert volatility == pytest.approx(sample_volatility, rel=1e-12)  # volatilities are the sample ones
    assert np.all(np.linalg.eigvalsh(shrunk) > 0)
    off = ~np.eye(4, dtype=bool)
    assert np.all(np.abs(shrunk[off]) <= np.abs(sample[off]) + 1e-12)  # towards a scaled identity


def test_problem_with_history_estimates_its_market(tmp_path):
    data = {
        "assets": [{"id": "BTC", "price": 95057.54}, {"id": "USDC", "price": 1.0, "carry": 0.04}],
        "holdings": [{"asset": "BTC", "location": "vault", "quantity": 30.0},
                     {"asset": "USDC", "location": "vault", "quantity": 3_000_000.0}],
        "accounts": [{"id": "perps", "requirement": 1_000_000.0, "haircuts": {"BTC": 0.05, "USDC": 0.0},
                      "risk": {"horizon_days": 2.0}}],
        "positions": [{"account": "perps", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                       "quantity": 20.0}],
        "market": {"assets": ["BTC", "USDC"], "estimator": "ledoit-wolf", "end": "2025-02-11",
                   "history": {"BTC": str(MARKET / FILES["BTC"]), "USDC": str(MARKET / FILES["USDC"])}},
    }
    problem = allocator.Problem.model_validate(data)
    volatility, _ = problem.market.moments  # type: ignore[union-attr]
    assert 0.3 < volatility[0] < 0.8 and volatility[1] < 0.05
    result = allocator.optimize(problem)
    assert result.accounts[0].sigma > 0
    # relative paths in a problem file are resolved against the file's folder
    text = (f'[[assets]]\nid = "BTC"\nprice = 95057.54\n[[assets]]\nid = "USDC"\nprice = 1.0\n'
            f'[[holdings]]\nasset = "USDC"\nlocation = "vault"\nquantity = 3e6\n'
            f'[[accounts]]\nid = "perps"\nrequirement = 1e6\nhaircuts = {{ USDC = 0.0 }}\n'
            f'risk = {{ horizon_days = 2.0 }}\n'
            f'[market]\nassets = ["BTC", "USDC"]\n'
            f'history = {{ BTC = "market/{FILES["BTC"]}", USDC = "market/{FILES["USDC"]}" }}\n')
    (tmp_path / "market").mkdir()
    for name in FILES.values():
        (tmp_path / "market" / name).write_bytes((MARKET / name).read_bytes())
    (tmp_path / "p.toml").write_text(text)
    assert allocator.load_problem(tmp_path / "p.toml").market.moments[0][0] > 0.3  # type: ignore[union-attr]


@pytest.mark.parametrize(("market", "location", "code"), [
    ({"history": {"BTC": "nope.csv", "USDC": "x"}}, "market.history.BTC", "bad_history"),
    ({"history": {"BTC": str(MARKET / FILES["BTC"])}}, "market.history.USDC", "missing_field"),
    ({"history": {"BTC": str(MARKET / FILES["BTC"]), "USDC": str(MARKET / FILES["USDC"])},
      "volatility": {"BTC": 0.5, "USDC": 0.01}}, "market.volatility", "conflicting_fields"),
    ({"history": {"BTC": str(MARKET / FILES["BTC"]), "USDC": str(MARKET / FILES["USDC"])},
      "end": "2018-10-20"}, "market.history", "short_history"),
    ({}, "market.volatility", "missing_field"),
], ids=["no-file", "missing-asset", "both", "too-short", "neither"])
def test_bad_history_is_located(market, location, code):
    data = {"assets": [{"id": "BTC", "price": 1.0}, {"id": "USDC", "price": 1.0}],
            "holdings": [{"asset": "USDC", "location": "vault", "quantity": 10.0}],
            "accounts": [{"id": "a", "requirement": 1.0, "haircuts": {"USDC": 0.0}, "risk": {}}],
            "market": {"assets": ["BTC", "USDC"], **market}}
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert (location, code) in {(i.location, i.code) for i in caught.value.issues}, caught.value.issues
