"""Volatility forecasts for predictive haircuts (allocator/venues/forecast.py): no look-ahead, each method against
an independent computation, on the real BTC history in fixtures/market/."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

from allocator.venues import forecast as fc
from allocator.venues.estimate import read_closes


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    closes = read_closes(ROOT / "fixtures" / "market" / "BTC-USD_1d.csv").loc["2019-06-01":"2020-06-30"]
    return fc.log_returns(closes)


@pytest.mark.parametrize("method", ["trailing", "ewma", "garch"])
def test_no_forecast_sees_its_own_day_or_a_later_one(returns, method):
    """Replace every return from day d on by noise: the forecasts up to and including d do not move."""
    d = 250
    before = fc.forecast(returns, method, window_days=90, refit_days=63)
    noisy = returns.copy()
    noisy.iloc[d:] = np.random.default_rng(0).normal(0.0, 0.2, len(noisy) - d)
    after = fc.forecast(noisy, method, window_days=90, refit_days=63)
    pd.testing.assert_series_equal(before.iloc[:d + 1], after.iloc[:d + 1])
    assert not np.allclose(before.iloc[d + 1:], after.iloc[d + 1:])  # and later ones do see the new data


def test_trailing_is_the_sample_deviation_of_the_window_before(returns):
    sigma = fc.forecast(returns, "trailing", window_days=90)
    d = 200
    expected = np.std(returns.to_numpy()[d - 90:d], ddof=1) * math.sqrt(365)
    assert sigma.iloc[d] == pytest.approx(expected, rel=1e-12)
    assert sigma.iloc[:90].isna().all()


def test_ewma_is_the_riskmetrics_recursion(returns):
    r = returns.to_numpy()
    lam = 0.5 ** (1 / 30.0)
    variance = np.var(r[:90], ddof=1)
    expected = []
    for d in range(90, len(r)):
        expected.append(math.sqrt(variance * 365))
        variance = lam * variance + (1 - lam) * r[d] ** 2
    assert fc.forecast(returns, "ewma", window_days=90, half_life_days=30.0).iloc[90:].to_numpy() == \
        pytest.approx(expected, rel=1e-12)


def test_garch_at_a_refit_day_is_arch_s_own_one_step_forecast(returns):
    """At a refit day d the forecast is the model fitted on the returns before d, forecasting one step ahead."""
    from arch import arch_model

    d = 90 + 63  # the second refit
    sigma = fc.forecast(returns, "garch", window_days=90, refit_days=63)
    fit = arch_model(100 * returns.to_numpy()[:d], mean="Zero", vol="GARCH", p=1, q=1, dist="t",
                     rescale=False).fit(disp="off", show_warning=False)
    variance = float(fit.forecast(horizon=1, reindex=False).variance.iloc[-1, 0]) / 1e4
    assert sigma.iloc[d] == pytest.approx(math.sqrt(variance * 365), rel=1e-6)


def test_haircuts_keep_the_stressed_floor_and_the_cap(returns):
    closes = np.exp(returns.cumsum())
    haircut = fc.predictive_haircuts(closes, "ewma", window_days=30, stressed_window_days=60, cap=0.3)
    valid = haircut.dropna()
    assert (valid <= 0.3 + 1e-12).all() and (valid > 0).all()
    # after the COVID crash the stressed floor holds the haircut above what calm forecasts alone would give
    calm = fc.predictive_haircuts(closes, "ewma", window_days=30, stressed_window_days=60, floor_share=0.0, cap=0.3)
    late = valid.index[-1]
    assert haircut[late] >= calm[late] and haircut[late] > calm[late] + 1e-6
