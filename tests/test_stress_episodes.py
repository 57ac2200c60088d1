"""Historical stress episodes: the reviewed file, and every move recomputed here from the market CSVs with the csv
module (not the library's reader), close to close and to the intraday low, with the proxy rules."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pytest
from helpers import PROBLEMS, ROOT

import allocator
from allocator.analysis.stress import load_episodes, stress
from allocator.analysis.stress.episodes import EPISODES_FILE
from allocator.analysis.stress.market_data import market_file
from allocator.analysis.stress.returns import episode_moves
from allocator.errors import InputError
from allocator.io.data_files import market_folder
from allocator.venues.rulebooks import available_rulebooks

MARKET = ROOT / "fixtures" / "market"
REQUIRED = {"2020-03-covid": ("2020-03-12", "2020-03-13"), "2021-05-crash": ("2021-05-19", "2021-05-19"),
            "2022-05-luna": ("2022-05-07", "2022-05-12"), "2022-06-3ac": ("2022-06-13", "2022-06-18"),
            "2022-11-ftx": ("2022-11-08", "2022-11-09"), "2023-03-usdc": ("2023-03-10", "2023-03-11")}


def rows(ticker: str) -> list[tuple[datetime.date, float, float]]:
    """(day, close, low) of a market file, read with the csv module."""
    with open(MARKET / f"{ticker}-USD_1d.csv", newline="", encoding="utf-8") as handle:
        return [(datetime.date.fromisoformat(row["Date"][:10]), float(row["Close"]), float(row["Low"]))
                for row in csv.DictReader(handle)]


def expected_move(ticker: str, start: str, end: str, intraday: bool) -> float:
    data = rows(ticker)
    first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    base = [close for day, close, _ in data if day < first][-1]
    inside = [(close, low) for day, close, low in data if first <= day <= last]
    return (min(low for _, low in inside) if intraday else inside[-1][0]) / base - 1.0


def test_the_file_lists_the_required_episodes_with_sources() -> None:
    episodes = load_episodes()
    found = {e.name: (e.start, e.end) for e in episodes.episodes}
    assert {name: found[name] for name in REQUIRED} == REQUIRED
    assert all(e.description and e.source for e in episodes.episodes)
    assert "stress-episodes" not in available_rulebooks()  # a models/ file that is not a rulebook


def test_anchor_figures_of_the_issue() -> None:
    """BTC close 2020-03-11 to 2020-03-12 is -37.2% (a one-day move inside the 2020-03-covid window) and USDC closed
    at 0.9715 on 2023-03-11; the window's own moves are what the episode applies."""
    btc = {day.isoformat(): close for day, close, _ in rows("BTC")}
    assert btc["2020-03-12"] / btc["2020-03-11"] - 1 == pytest.approx(-0.372, abs=5e-4)
    usdc = {day.isoformat(): close for day, close, _ in rows("USDC")}
    assert usdc["2023-03-11"] == pytest.approx(0.9715, abs=5e-5)

    rules = load_episodes()
    covid, usdc_depeg = rules.select(["2020-03-covid", "2023-03-usdc"])
    (move,) = episode_moves(["BTC"], covid, False, {}, rules)
    assert (move.base_date, move.end_date) == ("2020-03-11", "2020-03-13")  # close before start -> close of end
    assert move.move == pytest.approx(5563.70703125 / 7911.43017578125 - 1)  # -29.7%, not the one-day -37.2%
    (low,) = episode_moves(["BTC"], covid, True, {}, rules)
    assert (low.end_date, low.move) == ("2020-03-13", pytest.approx(4106.98095703125 / 7911.43017578125 - 1))
    (usdc_move,) = episode_moves(["USDC"], usdc_depeg, False, {}, rules)
    assert usdc_move.end == pytest.approx(0.9714999794960022) and usdc_move.base_date == "2023-03-09"
    assert usdc_move.move == pytest.approx(0.9714999794960022 / 1.0000079870224 - 1)  # close of 2023-03-09


@pytest.mark.parametrize("intraday", [False, True])
def test_every_episode_move_equals_the_market_files(intraday: bool) -> None:
    rules = load_episodes()
    tickers = ["BTC", "ETH", "SOL", "USDC", "USDT", "BNB", "XRP", "DOGE"]
    for episode in rules.episodes:
        for move in episode_moves(tickers, episode, intraday, {}, rules):
            if move.source == "data":
                assert move.move == pytest.approx(expected_move(move.asset, episode.start, episode.end, intraday),
                                                  rel=1e-12, abs=1e-15), (episode.name, move.asset)
            else:  # SOL before April 2020: no data, no rule
                assert (episode.name, move.asset, move.source, move.move) == ("2020-03-covid", "SOL", "missing", 0.0)


def test_proxies_rules_overrides_and_missing_assets() -> None:
    rules = load_episodes()
    (ftx,) = rules.select(["2022-11-ftx"])
    eth = expected_move("ETH", "2022-11-08", "2022-11-09", False)
    usdc = expected_move("USDC", "2022-11-08", "2022-11-09", False)
    moves = {m.asset: m for m in episode_moves(["stETH", "wstETH", "DAI", "USTB", "SOL"], ftx, False,
                                               {"SOL": "BTC", "USTB": "constant"}, rules)}
    assert (moves["stETH"].source, moves["stETH"].ticker, moves["stETH"].move) == ("rule", "ETH", pytest.approx(eth))
    assert moves["wstETH"].move == pytest.approx(eth)
    assert (moves["DAI"].ticker, moves["DAI"].move) == ("USDC", pytest.approx(usdc))  # a stablecoin follows USDC
    assert (moves["USTB"].source, moves["USTB"].move) == ("constant", 0.0)
    assert moves["SOL"].source == "data"  # its own data first: the proxy is only for windows without data
    (covid,) = rules.select(["2020-03-covid"])
    (sol,) = episode_moves(["SOL"], covid, False, {"SOL": "BTC"}, rules)
    assert (sol.source, sol.ticker, sol.move) == ("proxy", "BTC", pytest.approx(expected_move(
        "BTC", "2020-03-12", "2020-03-13", False)))
    (unknown,) = episode_moves(["XYZ"], covid, False, {}, rules)
    assert (unknown.source, unknown.move) == ("missing", 0.0) and "no data and no proxy" in unknown.note


def test_bad_names_are_located_input_errors(stress_desk: allocator.Problem) -> None:
    with pytest.raises(InputError) as raised:
        stress(stress_desk, episodes=["2020-03-covid", "nope"])
    assert [(i.location, i.code) for i in raised.value.issues] == [("episodes[1]", "unknown_episode")]
    with pytest.raises(InputError) as raised:
        stress(stress_desk, episodes=[], proxies={"ZZZ": "ETH", "SOL": "NOPE"})
    assert sorted((i.location, i.code) for i in raised.value.issues) == [
        ("stress.proxies.SOL", "unknown_ticker"), ("stress.proxies.ZZZ", "unknown_asset")]
    changed = stress_desk.model_dump(by_alias=True)
    changed["stress"] = {"liquidation_penalty": {"nobody": 0.1}}
    with pytest.raises(InputError) as raised:
        stress(allocator.Problem.model_validate(changed), episodes=[])
    assert [i.location for i in raised.value.issues] == ["stress.liquidation_penalty.nobody"]


def test_every_market_file_and_the_episodes_ship_with_the_package() -> None:
    """pyproject.toml ships fixtures/market/*.csv and models/*.toml; found through the package, not the checkout."""
    assert sorted(p.name for p in market_folder().glob("*.csv")) == sorted(p.name for p in MARKET.glob("*.csv"))
    assert market_file("AAPL") == market_folder() / "AAPL_1d.csv" and market_file("NOPE") is None
    assert (ROOT / "models" / EPISODES_FILE).is_file()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"allocator._fixtures.market" = ["*.csv"]' in text
    total = sum(p.stat().st_size for p in MARKET.glob("*.csv"))
    assert total < 6_000_000  # a few MB (the wheel compresses them further)


def test_episode_file_errors_are_located(tmp_path: Path) -> None:
    text = (ROOT / "models" / EPISODES_FILE).read_text(encoding="utf-8")
    bad = tmp_path / "episodes.toml"
    bad.write_text(text.replace("end = 2020-03-13", "end = 2020-03-01"), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_episodes(bad)
    assert "before start" in str(raised.value) and str(bad) in raised.value.issues[0].location


@pytest.fixture(scope="module")
def stress_desk() -> allocator.Problem:
    return allocator.load_problem(PROBLEMS / "stress-desk.toml")
