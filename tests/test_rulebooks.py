"""Rulebooks: every shipped file loads and validates; malformed files give located errors all at once; every
collateral curve is concave and never overstated by its chords; Aave, Binance, Hyperliquid and dYdX reproduce the
worked examples recorded in docs/research/venue-rulebooks.md (each test names its example)."""

from __future__ import annotations

import datetime
from fractions import Fraction
from pathlib import Path

import pytest
from rulebook_helpers import data, option, perp
from test_collateral import assert_concave_and_covered

from allocator.errors import InputError
from allocator.venues.collateral import Curve
from allocator.venues.rulebooks import (
    AaveRulebook,
    BinanceRulebook,
    DydxRulebook,
    HyperliquidRulebook,
    available_rulebooks,
    load_rulebook,
    rulebook_from_data,
)
from allocator.venues.rulebooks import dydx_math as dx

SHIPPED = ["aave-v3-ethereum", "bcbs-iosco-uncleared", "binance-portfolio-margin", "deribit-portfolio-margin",
           "drift-v2", "dydx-v4", "hyperliquid"]
PRICES = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0, "USDC": 1.0, "USDT": 1.0, "DAI": 1.0, "wstETH": 3_500.0,
          "rETH": 3_300.0, "cbETH": 3_200.0, "LDO": 2.0, "stETH": 3_000.0, "mSOL": 180.0, "JitoSOL": 170.0,
          "ORDI": 10.0, "FIL": 5.0, "PAXG": 2_000.0, "GALA": 0.03, "USD": 1.0, "EUR": 1.1, "XAU": 2_000.0,
          "AAPL": 200.0, "JPM": 150.0}


def test_every_shipped_rulebook_loads_with_its_header() -> None:
    assert available_rulebooks() == tuple(SHIPPED)
    for name in SHIPPED:
        rulebook = load_rulebook(name)
        assert rulebook.name == name and rulebook.path == f"models/{name}.toml"
        assert rulebook.reviewed == datetime.date(2026, 11, 24)
        assert rulebook.parameters_as_of <= rulebook.reviewed
        assert rulebook.sources and rulebook.spec.notes.strip() and rulebook.collateral_assets


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("basis", ["maintenance", "initial"])
def test_every_collateral_curve_is_concave_and_never_overstated(name: str, basis: str) -> None:
    rulebook = load_rulebook(name)
    for asset in rulebook.collateral_assets:
        curve = rulebook.collateral_curve(asset, PRICES[asset], basis)  # type: ignore[arg-type]
        assert isinstance(curve, Curve)
        for upto in (1e4, 1e8, 5e8):
            assert_concave_and_covered(curve, upto)
        quantity = 1e6 / PRICES[asset]
        assert rulebook.collateral_value(asset, quantity, PRICES[asset], basis) <= 1e6 + 1e-6  # type: ignore


def test_load_by_path_and_unknown_name(tmp_path: Path) -> None:
    assert isinstance(load_rulebook(Path(__file__).parents[1] / "models" / "hyperliquid.toml"), HyperliquidRulebook)
    with pytest.raises(InputError, match="no file models/nowhere.toml") as raised:
        load_rulebook("nowhere")
    assert raised.value.issues[0].code == "unknown_rulebook"
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_rulebook(broken)


def test_malformed_rulebook_lists_every_issue_located(tmp_path: Path) -> None:
    """Three field errors in one file come back together, each naming the file and the field."""
    raw = (Path(__file__).parents[1] / "models" / "hyperliquid.toml").read_text(encoding="utf-8")
    raw = raw.replace("[collateral.USDC]\nhaircut = 0.0", "[collateral.WBTC]\nhaircut = 1.2\ncolour = 'red'")
    raw = raw.replace("{ lower_bound = 0.0, max_leverage = 40 }", "{ lower_bound = 0.0, max_leverage = 0.5 }")
    path = tmp_path / "x.toml"
    path.write_text(raw, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_rulebook(path)
    lines = str(raised.value).splitlines()
    assert f"{path}: collateral.WBTC.haircut: 1.2 is not in [0, 1)" in lines
    assert f"{path}: collateral.WBTC.colour: unknown field 'colour' (misspelt?)" in lines
    assert any(line.startswith(f'{path}: margin_tables."tiered 40x".tiers[0].max_leverage') or
               line.startswith(f"{path}: margin_tables.tiered 40x.tiers[0].max_leverage") for line in lines), lines
    assert len(raised.value.issues) == 3


def test_cross_field_issues_are_located_together() -> None:
    raw = data("aave-v3-ethereum")
    raw["reserves"]["WBTC"]["ltv_bps"] = 9000
    raw["reserves"]["USDC"]["emode_category"] = 7
    with pytest.raises(InputError) as raised:
        rulebook_from_data(raw, "models/aave-v3-ethereum.toml")
    assert [str(issue) for issue in raised.value.issues] == [
        "models/aave-v3-ethereum.toml: reserves.WBTC.ltv_bps: 9000 is above the liquidation threshold 7800",
        "models/aave-v3-ethereum.toml: reserves.USDC.emode_category: no e-mode category 7"]
    raw = data("hyperliquid")
    raw["kind"] = "gmx"
    with pytest.raises(InputError, match="kind: 'gmx' is not a known kind"):
        rulebook_from_data(raw)


def test_nan_and_strings_are_rejected() -> None:
    raw = data("drift-v2")
    raw["spot_markets"]["SOL"]["imf_factor"] = float("nan")
    raw["spot_markets"]["SOL"]["maintenance_asset_weight"] = "0.9"
    with pytest.raises(InputError) as raised:
        rulebook_from_data(raw, "d.toml")
    assert {issue.location for issue in raised.value.issues} == {
        "d.toml: spot_markets.SOL.imf_factor", "d.toml: spot_markets.SOL.maintenance_asset_weight"}


# -- Aave v3 ----------------------------------------------------------------------------------------------------

def aave() -> AaveRulebook:
    rulebook = load_rulebook("aave-v3-ethereum")
    assert isinstance(rulebook, AaveRulebook)
    return rulebook


def test_aave_help_page_example() -> None:
    """Aave help (liquidations): $10,000 supplied at an 80% liquidation threshold, $6,000 borrowed -> HF 1.333.
    USDC has exactly 80% in the 2023-10-31 snapshot."""
    assert aave().health_factor({"USDC": 10_000}, {"USDC": 1.0}, debt=6_000) == pytest.approx(1.33333333)


def test_aave_mixed_collateral_example() -> None:
    """Research notes, Aave example 2 [D]: 10 WETH at $2,000 + 5,000 USDC against 10,000 USDT -> avgLT 8240 bps,
    HF 2.06. WETH is asked for by its common ticker ETH."""
    rulebook = aave()
    prices = {"ETH": 2_000.0, "USDC": 1.0}
    assert rulebook.average_thresholds({"ETH": 10, "USDC": 5_000}, prices, None)[2] == 8240
    assert rulebook.health_factor({"ETH": 10, "USDC": 5_000}, prices, debt=10_000) == pytest.approx(2.06)
    maintenance = sum(rulebook.collateral_value(a, q, prices[a]) for a, q in {"ETH": 10, "USDC": 5_000}.items())
    assert maintenance == pytest.approx(20_600)  # covering the debt with maintenance credit <=> HF >= 1


def test_aave_emode_example() -> None:
    """Research notes, Aave example 3 [D]: 10 wstETH at $2,300 against 8 WETH at $2,000: HF 1.164375 without
    e-mode, 1.336875 in e-mode 1 (LT 93%, Oct 2023), 1.365625 with the Jan 2024 values (LT 95%); borrowing power
    18,055 / 20,700 / 21,390."""
    rulebook, position, prices = aave(), {"wstETH": 10}, {"wstETH": 2_300.0}
    assert rulebook.health_factor(position, prices, 16_000) == pytest.approx(1.164375)
    assert rulebook.health_factor(position, prices, 16_000, emode=1) == pytest.approx(1.336875)
    assert rulebook.borrowing_power(position, prices) == pytest.approx(18_055)
    assert rulebook.borrowing_power(position, prices, emode=1) == pytest.approx(20_700)
    raw = data("aave-v3-ethereum")
    raw["emode_categories"]["1"].update(ltv_bps=9300, liquidation_threshold_bps=9500)
    january = rulebook_from_data(raw)
    assert isinstance(january, AaveRulebook)
    assert january.health_factor(position, prices, 16_000, emode=1) == pytest.approx(1.365625)
    assert january.borrowing_power(position, prices, emode=1) == pytest.approx(21_390)
    assert rulebook.collateral_value("BTC", 1, 60_000, emode=1) == pytest.approx(60_000 * 0.78)  # not a member


def test_aave_bases_aliases_and_no_positions() -> None:
    rulebook = aave()
    assert rulebook.collateral_value("ETH", 1, 2_000) == pytest.approx(1_660)
    assert rulebook.collateral_value("WETH", 1, 2_000, "initial") == pytest.approx(1_610)
    assert "GHO" not in rulebook.collateral_assets and "BTC" in rulebook.collateral_assets
    with pytest.raises(InputError, match="'GHO' is not a known collateral asset"):
        rulebook.collateral_value("GHO", 1, 1.0)
    assert rulebook.maintenance_margin([], {}) == 0.0
    with pytest.raises(InputError, match="no derivatives positions"):
        rulebook.maintenance_margin([perp("ETH", 1)], {"ETH": 2_000.0})


# -- Binance ----------------------------------------------------------------------------------------------------

def binance() -> BinanceRulebook:
    rulebook = load_rulebook("binance-portfolio-margin")
    assert isinstance(rulebook, BinanceRulebook)
    return rulebook


def test_binance_collateral_examples() -> None:
    """Binance Cross Margin FAQ: 6,000 BTC at 20,000 USDT -> 119,500,000. [D] 9,000 BTC -> 175,000,000;
    PM Pro rank 8 (ORDI), $900,000 -> 680,000. Negative balances count at full value."""
    rulebook = binance()
    assert rulebook.collateral_value("BTC", 6_000, 20_000) == pytest.approx(119_500_000)
    assert rulebook.collateral_value("BTC", 9_000, 20_000) == pytest.approx(175_000_000)
    assert rulebook.collateral_value("ORDI", 90_000, 10.0) == pytest.approx(680_000)
    assert rulebook.collateral_value("PAXG", 10, 2_000) == pytest.approx(12_000)
    assert rulebook.collateral_value("ETH", -15, 2_000) == -30_000


def test_binance_futures_brackets_and_margin_loans() -> None:
    """BTCUSDT brackets of 2021-03-18: maintenance amounts derived for continuity [D] (0, 50, 1,300, 16,300,
    266,300); 1.5M notional needs 1.5M x 2.5% - 16,300 = 21,200, the sum of its slices. PM Pro example: loans of
    0.04 BTC and 15 ETH at 10% MMR (3x) need 0.004 BTC and 1.5 ETH."""
    rulebook = binance()
    tiers = rulebook.futures_tiers("BTC")
    assert tiers.maintenance_amounts()[:5].tolist() == pytest.approx([0, 50, 1_300, 16_300, 266_300])
    assert rulebook.maintenance_margin([perp("BTC", 37.5)], {"BTC": 40_000}) == pytest.approx(21_200)
    slices = 50_000 * 0.004 + 200_000 * 0.005 + 750_000 * 0.01 + 500_000 * 0.025
    assert slices == pytest.approx(21_200)
    assert rulebook.maintenance_margin([perp("BTC", -0.05)], {"BTC": 40_000}) == pytest.approx(8.0)
    assert rulebook.initial_margin([perp("BTC", -0.05)], {"BTC": 40_000}) == pytest.approx(16.0)
    prices = {"BTC": 40_000.0, "ETH": 2_000.0}
    assert rulebook.loan_maintenance({"BTC": 0.04}, prices, leverage=3) == pytest.approx(0.004 * 40_000)
    assert rulebook.loan_maintenance({"ETH": 15}, prices, leverage=3) == pytest.approx(1.5 * 2_000)
    with pytest.raises(InputError, match="above the largest position"):
        rulebook.maintenance_margin([perp("BTC", 20_000)], {"BTC": 40_000})


def test_binance_unimmr_levels() -> None:
    rulebook = binance()
    ratio = rulebook.uni_mmr({"BTC": 1.0}, {"BTC": 40_000}, [perp("BTC", 37.5)])
    assert ratio == pytest.approx(40_000 / 21_200)
    assert rulebook.status(ratio) == "normal"
    assert [rulebook.status(x) for x in (1.3, 1.1, 1.05, 1.01, 0.9)] == [
        "margin call reminder", "reduce-only: new orders refused", "liquidation", "liquidation",
        "liquidation with loss claim"]


# -- Hyperliquid ------------------------------------------------------------------------------------------------

def test_hyperliquid_docs_examples() -> None:
    """Hyperliquid docs: at 20x max leverage the maintenance rate is 2.5%. Community wiki [S]: a $10,000 position
    on a 20x asset needs MM $250, IM $1,000 at 10x and $500 at 20x. [D] BTC: MM(100M) = 1.25M, MM(150M) = 1.875M,
    MM(200M) = 200M x 2.5% - 1.875M = 3.125M."""
    rulebook = load_rulebook("hyperliquid")
    assert isinstance(rulebook, HyperliquidRulebook)
    sol = [perp("SOL", 100)]
    assert rulebook.maintenance_margin(sol, {"SOL": 100.0}) == pytest.approx(250)
    assert rulebook.initial_margin(sol, {"SOL": 100.0}) == pytest.approx(500)
    assert rulebook.initial_margin(sol, {"SOL": 100.0}, leverage={"SOL": 10}) == pytest.approx(1_000)
    for notional, margin in ((100e6, 1.25e6), (150e6, 1.875e6), (200e6, 3.125e6)):
        assert rulebook.maintenance_margin([perp("BTC", notional / 1e5)], {"BTC": 1e5}) == pytest.approx(margin)
    both = [perp("BTC", -1000), perp("ETH", 10_000), perp("BTC", 500)]
    assert rulebook.maintenance_margin(both, {"BTC": 1e5, "ETH": 3e3}) == pytest.approx(5e7 / 80 + 3e7 / 50)
    assert rulebook.collateral_value("USDC", 1_000, 1.0) == 1_000
    with pytest.raises(InputError, match="'PEPE' is not a known perp market"):
        rulebook.maintenance_margin([perp("PEPE", 1)], {"PEPE": 1.0})
    with pytest.raises(InputError, match="linear positions only"):
        rulebook.maintenance_margin([option("BTC", 1, 1e5, "2027-01-01", "call", 0.5)], {"BTC": 1e5})


# -- dYdX v4 ----------------------------------------------------------------------------------------------------

def test_dydx_liquidity_tier_test_vectors() -> None:
    """dYdX v4-chain x/perpetuals/types/liquidity_tier_test.go @ 01a48f23: maintenance ppm, initial margin in
    quote quantums with and without open-interest scaling, adjusted IMF ppm."""
    assert [dx.maintenance_margin_ppm(a, b) for a, b in ((150_000, 800_000), (450_000, 770_000),
                                                         (637_239, 289_284))] == [120_000, 346_500, 184_343]
    assert [dx.initial_margin_quantums(Fraction(n), ppm) for n, ppm in (
        (500_000, 200_000), (1_000_000, 500_000), (1, 100_000), (123_456, 567_243))] == [100_000, 500_000, 1, 70_030]
    oi = dx.initial_margin_quantums
    assert oi(Fraction(500_000), 200_000, 10**12, 2 * 10**12, Fraction(15 * 10**11)) == 300_000
    assert oi(Fraction(500_000), 200_000, 25 * 10**12, 50 * 10**12, Fraction(80 * 10**12)) == 500_000
    assert oi(Fraction(500_000), 200_000, 25 * 10**12, 50 * 10**12, Fraction(25 * 10**12)) == 100_000
    assert oi(Fraction(500_000), 200_000, 25 * 10**12, 60 * 10**12, Fraction(28_123_456_789_123)) == 135_697
    adjusted = [dx.adjusted_initial_margin_ppm(200_000, 10**6, 2 * 10**6, x)
                for x in (0, 1_500_000, 1_234_567, 2_000_000, 2_500_000)]
    assert adjusted == [200_000, 600_000, 387_653, 1_000_000, 1_000_000]
    assert dx.adjusted_initial_margin_ppm(200_000, 0, 0, 1_500_000) == 200_000


def test_dydx_genesis_tiers() -> None:
    """[D] research notes: a $1,000,000 BTC position at genesis (Large-Cap 5%, MF 0.6): IM $50,000, MM $30,000;
    SOL is Mid-Cap (10%, 0.5)."""
    rulebook = load_rulebook("dydx-v4")
    assert isinstance(rulebook, DydxRulebook)
    btc = [perp("BTC", 20)]
    assert rulebook.initial_margin(btc, {"BTC": 50_000}) == 50_000
    assert rulebook.maintenance_margin(btc, {"BTC": 50_000}) == 30_000
    assert rulebook.maintenance_margin([perp("SOL", -1_000)], {"SOL": 150}) == pytest.approx(7_500)
    raw = data("dydx-v4")
    raw["liquidity_tiers"][0].update(open_interest_lower_cap=10**12 * 20, open_interest_upper_cap=10**12 * 50)
    capped = rulebook_from_data(raw)
    assert isinstance(capped, DydxRulebook)
    # OI $35M, halfway between $20M and $50M: IMF = 5% + 0.5 x 95% = 52.5%
    assert capped.initial_margin(btc, {"BTC": 50_000}, open_interest={"BTC": 35e6}) == pytest.approx(525_000)
    with pytest.raises(InputError, match="pass open_interest"):
        capped.initial_margin(btc, {"BTC": 50_000})


def test_exported_names() -> None:
    import allocator.venues.collateral
    import allocator.venues.rulebooks
    assert sorted(allocator.venues.collateral.__all__) == [
        "Curve", "Flat", "LiquidityAdjusted", "SizeDiscount", "Tier", "Tiered", "evaluate_chords", "stressed_floor",
        "stressed_volatility", "volatility_haircut"]
    assert {"Rulebook", "load_rulebook", "available_rulebooks", "rulebook_from_data", "NotionalTiers",
            "ScenarioGrid"} <= set(allocator.venues.rulebooks.__all__)
    for module in (allocator.venues.collateral, allocator.venues.rulebooks):
        assert all(hasattr(module, name) for name in module.__all__)
