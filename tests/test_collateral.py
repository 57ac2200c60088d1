"""Collateral curves: exact values from venues' examples, concavity, and chords that never overstate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from allocator.venues.collateral import (
    Flat,
    LiquidityAdjusted,
    SizeDiscount,
    Tiered,
    evaluate_chords,
    stressed_floor,
    stressed_volatility,
    volatility_haircut,
)
from allocator.venues.estimate import read_closes

MARKET = Path(__file__).resolve().parents[1] / "fixtures" / "market"
BINANCE_BTC = [(1e8, 1.0), (1.2e8, 0.975), (1.5e8, 0.95), (1.8e8, 0.9), (2e8, 0.85)]


def assert_concave_and_covered(curve, upto: float, pieces: int = 12) -> None:
    """Dense grid: the curve is concave and non-decreasing, the chords never exceed it on [0, upto] nor past
    it, and they touch it at zero and at upto."""
    grid = np.concatenate(([0.0], np.geomspace(upto * 1e-7, upto * 3, 4000)))
    values = curve.value(grid)
    assert np.all(np.diff(values) >= -1e-9 * upto)
    mids = curve.value((grid[:-2] + grid[2:]) / 2)
    assert np.all(mids >= (values[:-2] + values[2:]) / 2 - 1e-9 * upto)  # concave on the grid (midpoints)
    intercepts, slopes = curve.chords(upto, pieces)
    approx = evaluate_chords(intercepts, slopes, grid)
    assert np.all(approx <= values + 1e-9 * max(upto, 1.0))
    assert evaluate_chords(intercepts, slopes, upto)[()] == pytest.approx(curve.value(upto)[()], rel=1e-12)
    assert evaluate_chords(intercepts, slopes, 0.0)[()] == pytest.approx(0.0, abs=1e-9 * upto)


def test_binance_cross_margin_example() -> None:
    """Binance Cross Margin collateral-haircut FAQ: 6,000 BTC at 20,000 USDT = 120M notional is credited
    100M * 100% + 20M * 97.5% = 119,500,000 USDT."""
    curve = Tiered.of(BINANCE_BTC)
    assert curve.value(6000 * 20000.0)[()] == pytest.approx(119_500_000)
    assert curve.value(9000 * 20000.0)[()] == pytest.approx(175_000_000)  # [D] research notes
    assert curve.value(3e8)[()] == pytest.approx(192_000_000)  # nothing credited past the last published bound


def test_binance_pm_pro_rank8_example() -> None:
    """[D] research notes, Binance PM Pro rank 8 (ORDI, FIL from 2025-10-24): $900,000 -> 680,000."""
    curve = Tiered.of([(2e5, 1.0), (4e5, 0.8), (8e5, 0.7), (1e6, 0.4), (math.inf, 0.2)])
    assert curve.value(900_000.0)[()] == pytest.approx(680_000)
    assert not curve.is_linear and curve.weight == 1.0


def test_tiered_chords_are_exact() -> None:
    curve = Tiered.of(BINANCE_BTC)
    grid = np.linspace(0, 4e8, 10_001)
    assert np.allclose(evaluate_chords(*curve.chords(1e8), grid), curve.value(grid), rtol=1e-12, atol=1e-6)


def test_tiered_rejects_increasing_rates_with_location() -> None:
    with pytest.raises(ValidationError) as raised:
        Tiered.of([(1e6, 0.9), (2e6, 0.95), (math.inf, 0.5)])
    assert "tiers[1].weight 0.95 is above tiers[0].weight 0.9" in str(raised.value)
    with pytest.raises(ValidationError, match=r"tiers\[1\].upto 1e\+06 is not above"):
        Tiered.of([(1e6, 0.9), (1e6, 0.8)])
    with pytest.raises(ValidationError, match="has no bound but is not the last"):
        Tiered.of([(math.inf, 0.9), (1e6, 0.8)])


def test_drift_docs_example_and_kink() -> None:
    """Drift docs: 2000 SOL with imf 0.003 keep weight min(0.80, 1.1 / (1 + 0.003 sqrt(2000))) = 0.80; [D] the
    discount binds above 15,625 SOL and 40,000 SOL get 0.6875."""
    curve = SizeDiscount(weight_base=0.8, imf=0.003, price=25.0)
    assert curve.weight_at(2000 * 25.0)[()] == min(0.8, 1.1 / (1 + 0.003 * math.sqrt(2000))) == 0.8  # 0.970 > 0.8
    assert curve.kink == pytest.approx(15_625 * 25.0)
    assert curve.weight_at(40_000 * 25.0)[()] == pytest.approx(0.6875)
    assert curve.value(40_000 * 25.0)[()] == pytest.approx(0.6875 * 1e6)


def test_liquidity_adjusted_peak_and_flat() -> None:
    curve = LiquidityAdjusted(haircut=0.1, eta=0.5, adv=1e6)
    assert curve.peak == pytest.approx(1e6 * (0.9 / 0.75) ** 2)
    v = 1e5
    assert curve.value(v)[()] == pytest.approx(0.9 * v - 0.5 * v ** 1.5 / 1e3)
    assert curve.value(10 * curve.peak)[()] == pytest.approx(curve.value(curve.peak)[()])
    assert LiquidityAdjusted(haircut=0.1, eta=0.0, adv=1e6).is_linear


def test_flat_is_one_line() -> None:
    curve = Flat(haircut=0.15)
    intercepts, slopes = curve.chords(1e9)
    assert intercepts.tolist() == [0.0] and slopes.tolist() == [0.85]
    assert curve.value(np.array([0.0, 100.0])).tolist() == [0.0, 85.0]
    with pytest.raises(ValidationError, match=r"1.2 is not in \[0, 1\)"):
        Flat(haircut=1.2)


@pytest.mark.parametrize("curve", [
    Flat(haircut=0.05),
    Tiered.of(BINANCE_BTC),
    Tiered.of([(2e5, 1.0), (4e5, 0.8), (8e5, 0.7), (1e6, 0.4), (math.inf, 0.2)]),
    SizeDiscount(weight_base=0.8, imf=0.003, price=150.0),
    SizeDiscount(weight_base=0.9, imf=0.105, price=60_000.0),
    LiquidityAdjusted(haircut=0.02, eta=0.3, adv=5e7),
], ids=["flat", "binance-btc", "binance-rank8", "drift-sol", "drift-wbtc", "liquidity"])
@pytest.mark.parametrize("upto", [1e3, 1e6, 3e8, 1e11])
def test_chords_never_overstate(curve, upto: float) -> None:
    assert_concave_and_covered(curve, upto)


@given(weight=st.floats(0.01, 1.0), imf=st.floats(1e-6, 0.5), price=st.floats(1e-3, 1e5),
       upto=st.floats(1.0, 1e12), pieces=st.integers(1, 30))
def test_size_discount_chords_property(weight: float, imf: float, price: float, upto: float, pieces: int) -> None:
    assert_concave_and_covered(SizeDiscount(weight_base=weight, imf=imf, price=price), upto, pieces)


@given(haircut=st.floats(0.0, 0.9), eta=st.floats(1e-4, 10.0), adv=st.floats(1e3, 1e11),
       upto=st.floats(1.0, 1e12), pieces=st.integers(1, 30))
def test_liquidity_chords_property(haircut: float, eta: float, adv: float, upto: float, pieces: int) -> None:
    assert_concave_and_covered(LiquidityAdjusted(haircut=haircut, eta=eta, adv=adv), upto, pieces)


@given(rates=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
       widths=st.lists(st.floats(1.0, 1e9), min_size=8, max_size=8), bounded=st.booleans())
def test_tiered_chords_property(rates: list[float], widths: list[float], bounded: bool) -> None:
    rates = sorted(rates, reverse=True)
    bounds = np.cumsum(widths[:len(rates)]).tolist()
    if not bounded:
        bounds[-1] = math.inf
    curve = Tiered.of(list(zip(bounds, rates, strict=True)))
    assert_concave_and_covered(curve, float(np.cumsum(widths)[-1]))


def test_volatility_haircut_clips() -> None:
    assert volatility_haircut(2.33, 0.6, 2.0) == pytest.approx(2.33 * 0.6 * math.sqrt(2 / 365))
    assert volatility_haircut(2.33, 0.01, 2.0, floor=0.02) == 0.02
    assert volatility_haircut(10.0, 5.0, 30.0, cap=0.5) == 0.5


def test_stressed_floor_from_btc_history() -> None:
    """Real BTC closes: the March 2020 window is more volatile than 2023, and the worst rolling year bounds any
    named window of at least a year from above."""
    closes = read_closes(MARKET / "BTC-USD_1d.csv")
    covid = stressed_volatility(closes, period=("2020-02-15", "2020-04-15"))
    calm = stressed_volatility(closes, period=("2023-01-01", "2023-12-31"))
    worst = stressed_volatility(closes, window_days=365)
    year = stressed_volatility(closes, period=("2022-01-01", "2022-12-31"))
    assert covid > 1.5 * calm and worst >= year - 1e-12
    floor = stressed_floor(closes, z=2.33, horizon_days=2.0, period=("2020-02-15", "2020-04-15"))
    assert floor == pytest.approx(2.33 * covid * math.sqrt(2 / 365))
    assert volatility_haircut(2.33, calm, 2.0, floor=floor) == floor
