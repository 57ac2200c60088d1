"""Options: Black-76 values and greeks, option positions' delta exposure and full repricing in stress scenarios,
and rejected option inputs."""

from __future__ import annotations

from datetime import date

import pytest

import allocator
from allocator.venues.options import black76


def test_black76_textbook_value_and_parity():
    call, put = black76(100.0, 100.0, 1.0, 0.2, "call"), black76(100.0, 100.0, 1.0, 0.2, "put")
    assert call.value == pytest.approx(7.965567455, rel=1e-9)  # F = K = 100, T = 1, sigma = 20%
    assert put.value == pytest.approx(call.value, rel=1e-12)  # at the money forward
    for forward, strike in [(100.0, 90.0), (100.0, 120.0), (95_000.0, 100_000.0)]:
        c, p = black76(forward, strike, 0.25, 0.6, "call"), black76(forward, strike, 0.25, 0.6, "put")
        assert c.value - p.value == pytest.approx(forward - strike, rel=1e-12, abs=1e-9)  # put-call parity
        assert c.delta - p.delta == pytest.approx(1.0, abs=1e-12)


def test_the_normal_distribution_matches_scipy_in_the_body_and_both_tails():
    """black76's own distribution function (math.erfc) against scipy.stats.norm, which it replaced for speed."""
    import numpy as np
    from scipy.stats import norm

    from allocator.venues.options import _phi

    for x in np.linspace(-37.0, 37.0, 2_001):
        assert _phi(float(x)) == pytest.approx(float(norm.cdf(x)), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("kind", ["call", "put"])
def test_greeks_match_finite_differences(kind):
    forward, strike, years, vol, step = 95_000.0, 100_000.0, 30 / 365, 0.55, 1.0
    up, mid, down = (black76(forward + d, strike, years, vol, kind) for d in (step, 0.0, -step))
    assert mid.delta == pytest.approx((up.value - down.value) / (2 * step), rel=1e-6)
    assert mid.gamma == pytest.approx((up.value - 2 * mid.value + down.value) / step**2, rel=1e-4)
    bumped = black76(forward, strike, years, vol + 1e-6, kind)
    assert mid.vega == pytest.approx((bumped.value - mid.value) / 1e-6, rel=1e-4)


def test_expired_or_zero_vol_option_is_worth_its_intrinsic_value():
    assert black76(110.0, 100.0, 0.0, 0.5, "call").value == 10.0
    assert black76(110.0, 100.0, 0.5, 0.0, "put").value == 0.0


def options_desk(**position) -> dict:  # type: ignore[no-untyped-def]
    return {
        "as_of": "2025-02-11",
        "assets": [{"id": "BTC", "price": 100_000.0}, {"id": "USDC", "price": 1.0, "carry": 0.04}],
        "holdings": [{"asset": "USDC", "location": "vault", "quantity": 5_000_000.0}],
        "accounts": [{"id": "deribit", "requirement": 500_000.0, "haircuts": {"USDC": 0.0},
                      "risk": {"horizon_days": 1.0, "confidence": 0.99}}],
        "market": {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.6, "USDC": 0.005},
                   "correlation": [[1.0, 0.0], [0.0, 1.0]]},
        "positions": [{"account": "deribit", "instrument": "BTC-28MAR25-90000-P", "underlying": "BTC",
                       "kind": "option", "quantity": -20.0, "strike": 90_000.0, "expiry": "2025-03-28",
                       "type": "put", "implied_volatility": 0.55, **position}],
        "stress_scenarios": [{"name": "crash", "returns": {"BTC": -0.3}}],
    }


def test_short_put_is_repriced_in_the_crash_and_delta_sets_its_exposure():
    problem = allocator.Problem.model_validate(options_desk())
    result = allocator.optimize(problem)
    account = result.accounts[0]
    years = (date(2025, 3, 28) - date(2025, 2, 11)).days / 365  # 45 days
    today = black76(100_000.0, 90_000.0, years, 0.55, "put")
    crashed = black76(70_000.0, 90_000.0, years, 0.55, "put")
    pnl = -20.0 * (crashed.value - today.value)  # a short put loses when the price falls
    assert pnl < -100_000.0
    posted = sum(t.value for t in result.targets if t.location == "deribit")
    assert account.worst_scenario == "crash"
    assert account.worst_scenario_excess == pytest.approx(posted + pnl - 500_000.0, rel=1e-7, abs=1e-3)
    assert account.worst_scenario_excess >= -1e-6  # covered after the crash: collateral was added for it
    # the parametric limit sees the position's delta: -20 * delta(put) * price of BTC exposure
    exposure = -20.0 * today.delta * 100_000.0
    sigma = abs(exposure) * 0.6 * (1 / 365) ** 0.5  # USDC posted adds almost nothing
    assert account.sigma == pytest.approx(sigma, rel=1e-3)


@pytest.mark.parametrize(("change", "location", "code"), [
    ({"expiry": "2025-01-01"}, "positions[0].expiry", "expired"),
    ({"implied_volatility": 0.0}, "positions[0].implied_volatility", "out_of_range"),
    ({"implied_volatility": None}, "positions[0].implied_volatility", "missing_field"),
    ({"strike": -1.0}, "positions[0].strike", "out_of_range"),
    ({"type": "straddle"}, "positions[0].type", "literal_error"),
    ({"kind": "perp"}, "positions[0].strike", "not_applicable"),
], ids=["expired", "zero-vol", "no-vol", "negative-strike", "bad-type", "strike-on-a-perp"])
def test_bad_option_input_is_located(change, location, code):
    data = options_desk(**change)
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert (location, code) in {(i.location, i.code) for i in caught.value.issues}, caught.value.issues


def test_options_need_a_valuation_date():
    data = options_desk()
    del data["as_of"]
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert ("as_of", "missing_field") in {(i.location, i.code) for i in caught.value.issues}
