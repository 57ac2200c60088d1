"""Haircut models (haircut_models.py): volatility-based flat haircuts and concave curves credited by chords,
checked by hand and re-checked with the exact formula."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import PROBLEMS, assert_verified
from scipy.stats import norm

import allocator
from allocator.venues.estimate import read_closes

TIERS = [{"upto": 1_000_000.0, "weight": 0.95}, {"upto": 2_000_000.0, "weight": 0.8}, {"weight": 0.5}]


GIVEN = {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.5, "USDC": 0.01}, "correlation": [[1.0, 0.0], [0.0, 1.0]]}


def desk(models: dict, requirement: float = 3e6, market: dict | None = GIVEN,  # type: ignore[no-untyped-def]
         **extra) -> allocator.Problem:
    return allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 95_000.0}, {"id": "USDC", "price": 1.0, "carry": 0.045}],
        "holdings": [{"asset": "BTC", "location": "custody", "quantity": 30.0},
                     {"asset": "USDC", "location": "custody", "quantity": 5e6}],
        "accounts": [{"id": "venue", "requirement": requirement, "haircuts": {"USDC": 0.0},
                      "haircut_models": models, **extra}],
        **({"market": market} if market is not None else {})})


def posted_value(result: allocator.Result, asset: str) -> float:
    return sum(t.value for t in result.targets if t.asset == asset and t.location == "venue")


def test_tiered_collateral_is_exact_and_the_optimum_is_the_hand_one():
    """All 30 BTC (free to hold) are posted: 0.95 x 1M + 0.8 x 1M + 0.5 x 0.85M = 2.175M of credit; the
    remaining 0.825M is USDC at 4.5% a year over the 30-day horizon."""
    problem = desk({"BTC": {"model": "tiered", "tiers": TIERS}})
    result = allocator.optimize(problem)
    assert_verified(problem, result)
    assert posted_value(result, "BTC") == pytest.approx(2.85e6, rel=1e-9)
    assert result.accounts[0].collateral == pytest.approx(3e6, rel=1e-8)  # plus the coverage margin
    assert result.objective.total == pytest.approx(825_000 * 0.045 * 30 / 365, rel=1e-7)


def test_liquidity_adjusted_curve_never_overstated_and_verified_exactly():
    problem = desk({"BTC": {"model": "liquidity", "haircut": 0.05, "eta": 0.5, "adv": 2e8}})
    result = allocator.optimize(problem)
    assert_verified(problem, result)
    v = posted_value(result, "BTC")
    exact = 0.95 * v - 0.5 * v**1.5 / np.sqrt(2e8) + posted_value(result, "USDC")
    assert result.accounts[0].collateral == pytest.approx(exact, rel=1e-12)
    assert exact >= 3e6 * (1 - 1e-12)


def test_size_discount_curve_from_drift_is_verified():
    problem = desk({"BTC": {"model": "size", "weight": 0.9, "imf": 0.0005}})
    result = allocator.optimize(problem)
    assert_verified(problem, result)


def test_volatility_haircut_by_hand():
    problem = desk({"BTC": {"model": "volatility", "confidence": 0.99, "horizon_days": 2.0, "floor": 0.02,
                            "cap": 0.6}})
    expected = float(np.clip(norm.ppf(0.99) * 0.5 * np.sqrt(2 / 365), 0.02, 0.6))
    assert problem.terms[problem.accounts[0].id].eligible["BTC"] == pytest.approx(expected, rel=1e-12)
    assert_verified(problem, allocator.optimize(problem))


def test_volatility_haircut_has_a_stressed_floor_from_history():
    """Anti-procyclical floor: the haircut of the 2022 stress (May to July) when today's volatility is lower."""
    market = {"assets": ["BTC", "USDC"], "estimator": "sample", "window_days": 90, "end": "2025-02-11",
              "history": {"BTC": str(PROBLEMS.parent / "market" / "BTC-USD_1d.csv"),
                          "USDC": str(PROBLEMS.parent / "market" / "USDC-USD_1d.csv")}}
    model = {"model": "volatility", "confidence": 0.99, "horizon_days": 5.0,
             "stressed_period": ["2022-05-01", "2022-07-31"]}
    problem = desk({"BTC": model}, market=market)
    closes = read_closes(PROBLEMS.parent / "market" / "BTC-USD_1d.csv")
    returns = np.log(closes).diff().dropna()
    stressed = returns.loc["2022-05-01":"2022-07-31"].std(ddof=1) * np.sqrt(365)
    floor = norm.ppf(0.99) * stressed * np.sqrt(5 / 365)
    today = norm.ppf(0.99) * problem.market.moments[0][0] * np.sqrt(5 / 365)
    assert floor > today  # 2022 was more volatile than the 90 days to 2025-02-11
    assert problem.terms[problem.accounts[0].id].eligible["BTC"] == pytest.approx(floor, rel=1e-9)


def test_a_curve_under_stress_and_cvar_is_verified_exactly():
    problem = desk({"BTC": {"model": "tiered", "tiers": TIERS}}, requirement=2e6,
                   risk={"horizon_days": 1.0, "confidence": 0.99, "cvar_confidence": 0.95, "cvar_scenarios": 200})
    data = problem.model_dump(by_alias=True)
    data["stress_scenarios"] = [{"name": "crash", "returns": {"BTC": -0.4}}]
    problem = allocator.Problem.model_validate(data)
    result = allocator.optimize(problem)
    assert_verified(problem, result)
    assert result.accounts[0].worst_scenario == "crash"


def test_rulebook_tiers_are_credited_on_their_curve():
    """Binance's BTC tiers as a curve: the credited collateral is the venue's own value of what is posted."""
    from allocator.venues.rulebooks import load_rulebook

    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 95_000.0}], "holdings": [{"asset": "BTC", "location": "c",
                                                                    "quantity": 3_000.0}],
        "accounts": [{"id": "pm", "rulebook": "binance-portfolio-margin", "requirement": 1.5e8}]})
    result = allocator.optimize(problem)
    assert_verified(problem, result)
    units = sum(t.quantity for t in result.targets if t.location == "pm")
    exact = load_rulebook("binance-portfolio-margin").collateral_value("BTC", units, 95_000.0)
    assert result.accounts[0].collateral == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize(("models", "extra", "location", "code"), [
    ({"BTC": {"model": "tiered", "tiers": [{"upto": 1e6, "weight": 0.5}, {"weight": 0.9}]}}, {},
     "accounts[0].haircut_models.BTC.tiered.tiers", "not_concave"),
    ({"USDC": {"model": "size", "weight": 0.9, "imf": 0.001}}, {}, "accounts[0].haircut_models.USDC",
     "conflicting_fields"),
    ({"DOGE": {"model": "size", "weight": 0.9, "imf": 0.001}}, {}, "accounts[0].haircut_models.DOGE",
     "unknown_asset"),
    ({"BTC": {"model": "volatility"}}, {"market": None}, "accounts[0].haircut_models.BTC", "missing_volatility"),
    ({"BTC": {"model": "liquidity", "haircut": 1.2, "eta": 0.1, "adv": 1e8}}, {},
     "accounts[0].haircut_models.BTC.liquidity.haircut", "out_of_range"),
], ids=["not-concave", "model-and-haircut", "unknown-asset", "no-market", "haircut-range"])
def test_bad_haircut_models_are_located(models, extra, location, code):
    with pytest.raises(allocator.InputError) as caught:
        desk(models, **extra)
    assert (location, code) in {(i.location, i.code) for i in caught.value.issues}, caught.value.issues


def test_tiered_optimum_agrees_between_highs_and_clarabel():
    """The chords of a tiered curve keep the program linear: HiGHS (the default) and Clarabel agree."""
    problem = desk({"BTC": {"model": "tiered", "tiers": TIERS}}, requirement=2.5e6)
    highs, clarabel = allocator.optimize(problem), allocator.optimize(problem, solver="CLARABEL")
    assert highs.diagnostics.solver == "HIGHS"
    # Clarabel asks for a coverage margin of 1e-6 of the money scale (HiGHS: 1e-9): that much more USDC carry
    margin = 1e-6 * clarabel.diagnostics.money_scale * 0.045 * 30 / 365
    assert 0 <= clarabel.objective.total - highs.objective.total <= margin


def test_concentration_limit_on_a_curved_asset_is_never_understated():
    """Review finding: the program's share of a curved asset was its credit variable, which may sit below the
    curve; the share is now the slope at zero times the value (an upper bound), so the exact check passes."""
    problem = desk({"BTC": {"model": "liquidity", "haircut": 0.05, "eta": 0.5, "adv": 2e8}},
                   concentration={"BTC": 0.6})
    result = allocator.optimize(problem)
    assert_verified(problem, result)
    btc = posted_value(result, "BTC")
    share = 0.95 * btc - 0.5 * btc**1.5 / np.sqrt(2e8)
    assert share <= 0.6 * result.accounts[0].collateral * (1 + 1e-9)
