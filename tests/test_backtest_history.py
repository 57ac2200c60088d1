"""The backtest's prices: the market files' closes, lows and highs rescaled to the problem's prices on the first
day, proxies as the stress package's rules give them, assets without data held and reported; bad windows are
input errors; a result saves and loads whole."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT

import allocator
from allocator.analysis.backtest import BacktestResult, MarketHistory, backtest
from allocator.errors import InputError

MARKET = ROOT / "fixtures" / "market"


def _rows(name: str) -> dict[str, dict[str, float]]:
    with open(MARKET / name, newline="", encoding="utf-8") as handle:
        return {row["Date"][:10]: {k: float(row[k]) for k in ("Close", "Low", "High")}
                for row in csv.DictReader(handle)}


def test_prices_are_the_history_rescaled_to_the_problem_on_the_first_day(desk: allocator.Problem) -> None:
    history = MarketHistory.from_market(desk, "2021-05-10", "2021-05-25")
    btc = _rows("BTC-USD_1d.csv")
    price = {a.id: a.price for a in desk.assets}
    i = history.assets.index("BTC")
    for t in range(history.start, history.end + 1):
        day = history.day(t)
        scale = price["BTC"] / btc["2021-05-10"]["Close"]
        assert history.close[t, i] == pytest.approx(btc[day]["Close"] * scale, rel=1e-12)
        assert history.low[t, i] == pytest.approx(btc[day]["Low"] * scale, rel=1e-12)
        assert history.high[t, i] == pytest.approx(btc[day]["High"] * scale, rel=1e-12)
    # stETH follows ETH by the default rule: the same daily returns, at its own price
    s, e = history.assets.index("stETH"), history.assets.index("ETH")
    assert history.close[history.start, s] == price["stETH"]
    np.testing.assert_allclose(history.close[:, s] / history.close[:, e], price["stETH"] / price["ETH"], rtol=1e-12)


def test_assets_without_data_are_held_and_said(desk: allocator.Problem) -> None:
    history = MarketHistory.from_market(desk, "2020-03-01", "2020-04-20")
    sol, ustb = history.assets.index("SOL"), history.assets.index("USTB")
    before = history.dates <= pd.Timestamp("2020-04-10")
    assert np.all(history.close[before, sol] == history.close[history.start, sol])
    assert not np.all(history.close[~before, sol] == history.close[history.start, sol])  # its own data from then
    assert np.all(history.close[:, ustb] == 1.0)
    notes = history.notes()
    assert any(note.startswith("SOL: held at its price (missing: no data) from 2020-03-01 to 2020-04-10")
               for note in notes)
    assert any(note.startswith("stETH: follows ETH (rule)") for note in notes)
    # a proxy given for SOL is used where it has no data of its own
    proxied = MarketHistory.from_market(desk, "2020-03-01", "2020-04-20", proxies={"SOL": "ETH"})
    e = proxied.assets.index("ETH")
    np.testing.assert_allclose(np.diff(np.log(proxied.close[before, sol])), np.diff(np.log(proxied.close[before, e])),
                               atol=1e-12)


def test_bad_windows_and_proxies_are_input_errors(desk: allocator.Problem) -> None:
    with pytest.raises(InputError) as error:
        backtest(desk, "2025-01-01", "2026-01-01", proxies={"SOL": "NOPE", "XYZ": "ETH"})
    text = str(error.value)
    assert "end: 2026-01-01 is after the last day of the market files (2025-02-11)" in text
    assert "proxies.SOL: 'NOPE' has no market file" in text and "proxies.XYZ: unknown asset 'XYZ'" in text
    with pytest.raises(InputError, match="before start"):
        backtest(desk, "2024-02-01", "2024-01-01")
    with pytest.raises(InputError, match="start: is required"):
        backtest(desk, None, "2024-01-01")
    with pytest.raises(InputError, match="settings.cash: unknown asset 'EUR'"):
        backtest(desk, "2024-01-01", "2024-01-05", settings={"cash": "EUR"})


def test_a_result_saves_and_loads_whole(desk: allocator.Problem, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = backtest(desk, "2024-08-01", "2024-08-10", ["waterfall", "optimized"], record_holdings=True)
    again = BacktestResult.from_json(result.to_json())
    result.save(tmp_path / "out")
    loaded = BacktestResult.load(tmp_path / "out")
    for other in (again, loaded):
        for frame in ("daily", "treasury", "holdings"):
            pd.testing.assert_frame_equal(getattr(other, frame), getattr(result, frame), check_dtype=False)
        pd.testing.assert_frame_equal(other.summary, result.summary, check_dtype=False)
        assert other.meta == result.meta and other.notes == result.notes
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["daily.parquet", "holdings.parquet", "meta.json",
                                                                     "summary.csv", "treasury.parquet"]
