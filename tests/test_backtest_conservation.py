"""The books of a backtest balance day by day for every policy: the inventory's value changes only by the market,
the positions' variation margin, the costs and the liquidations' losses,

    value(close_t) - value(close_{t-1}) = market_pnl + pnl - transfer_cost - trading_cost - liquidation_loss,

on the desk through March 2020 (liquidations, restorations, trades) and on the DeFi desk (a perp's variation
margin, Aave loans); and on a day without a liquidation ``market_pnl`` is the units held overnight revalued."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import PROBLEMS

import allocator
from allocator.analysis.backtest import backtest

POLICIES = ["isolated", "all_stable", "waterfall", "pro_rata", "optimized",
            {"policy": "optimized_predictive", "haircuts": "ewma"}]


@pytest.fixture(scope="module")
def march(desk: allocator.Problem):  # type: ignore[no-untyped-def]
    return backtest(desk, "2020-03-01", "2020-03-31", POLICIES, record_holdings=True)


@pytest.fixture(scope="module")
def defi():  # type: ignore[no-untyped-def]
    problem = allocator.load_problem(PROBLEMS / "defi-desk.toml")
    policies = [p if p == "isolated" else {**({"policy": p} if isinstance(p, str) else p),
                                             "bands": {"hyperliquid": "4:8"}} for p in POLICIES]
    return backtest(problem, "2021-05-01", "2021-06-15", policies, record_holdings=True)


def _identity(result) -> None:  # type: ignore[no-untyped-def]
    for policy, books in result.treasury.groupby("policy"):
        value = books["value"].to_numpy()
        change = np.diff(value)
        explained = (books["market_pnl"] + books["pnl"] - books["transfer_cost"] - books["trading_cost"]
                     - books["liquidation_loss"]).to_numpy()[1:]
        assert np.abs(change - explained).max() <= 1e-9 * np.abs(value).max(), policy


def test_the_books_balance_every_day_for_every_policy(march, defi) -> None:  # type: ignore[no-untyped-def]
    _identity(march)
    _identity(defi)
    assert march.summary["liquidations"].sum() > 0  # the window has liquidations to account for
    assert (defi.treasury["pnl"] != 0).any()  # and the DeFi desk's perp settles its variation margin


def test_the_accounts_pnl_and_liquidations_add_up_to_the_treasury(march, defi) -> None:  # type: ignore[no-untyped-def]
    for result in (march, defi):
        per_day = result.daily.groupby(["policy", "date"])[["pnl", "liquidation_loss", "carry_forgone"]].sum()
        books = result.treasury.set_index(["policy", "date"])
        # the accounts' carry is what their collateral forgoes; the treasury's adds what the exchanges forgo
        per_day["carry_forgone"] += books["carry_exchanged"]
        books = books[["pnl", "liquidation_loss", "carry_forgone"]]
        pd.testing.assert_frame_equal(per_day.sort_index(), books.sort_index(), rtol=1e-12, atol=1e-6)


def test_market_pnl_is_the_overnight_units_revalued(march, desk) -> None:  # type: ignore[no-untyped-def]
    """On a day without a liquidation the units held at yesterday's close are revalued at today's (prices from the
    history, units from the recorded holdings: an independent recomputation)."""
    from allocator.analysis.backtest import MarketHistory

    history = MarketHistory.from_market(desk, "2020-03-01", "2020-03-31")
    close = pd.DataFrame(history.close, index=[d.date().isoformat() for d in history.dates], columns=history.assets)
    units = march.holdings.pivot_table(index=["policy", "date"], columns="asset", values="quantity", aggfunc="sum",
                                       fill_value=0.0)
    liquidated = march.daily.groupby(["policy", "date"])["liquidated"].any()
    checked = 0
    for (policy, date), books in march.treasury.set_index(["policy", "date"]).iterrows():
        previous = (pd.Timestamp(date) - pd.Timedelta(days=1)).date().isoformat()
        if (policy, previous) not in units.index or liquidated[(policy, date)]:
            continue
        held = units.loc[(policy, previous)].reindex(history.assets, fill_value=0.0)
        expected = float(held @ (close.loc[date] - close.loc[previous]))
        assert books["market_pnl"] == pytest.approx(expected, rel=1e-9, abs=1e-6), (policy, date)
        checked += 1
    assert checked > 100
