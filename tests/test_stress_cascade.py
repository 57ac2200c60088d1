"""The liquidation cascade's properties on random books long in every asset (hypothesis): it reaches a fixed point
within as many rounds as accounts, never raises a price nor adds value, and a larger shock never liquidates fewer
accounts. Thin markets (small ADVs) make the cascades real. CI runs few examples; the slow test runs many."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import allocator
from allocator.analysis.stress.book import Book
from allocator.analysis.stress.cascade import MAX_ITERATIONS, Outcome, run, settle
from allocator.analysis.stress.liquidation import rules
from allocator.analysis.stress.liquidity import liquidity
from allocator.analysis.stress.revalue import revalue

ASSETS = {"XA": 100.0, "XB": 50.0, "XC": 20.0}  # fictional assets: no market files, liquidity from the problem


def num(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_subnormal=False)


@st.composite
def books(draw: st.DrawFn) -> dict[str, Any]:
    """A problem long in every asset (collateral, wallet, long perps), with thin markets."""
    assets = [{"id": a, "price": p, "adv": draw(num(1e4, 1e7)), "volatility": draw(num(0.3, 1.5)),
               "impact": 1.0} for a, p in ASSETS.items()]
    accounts, holdings, positions = [], [], []
    for k in range(draw(st.integers(1, 4))):
        name = f"acct{k}"
        haircuts = {a: draw(num(0.0, 0.5)) for a in ASSETS}
        units = {a: float(draw(st.integers(1, 2_000))) for a in ASSETS}
        holdings += [{"asset": a, "location": name, "quantity": q} for a, q in units.items() if q > 0]
        credit = sum((1 - haircuts[a]) * ASSETS[a] * q for a, q in units.items())
        accounts.append({"id": name, "haircuts": haircuts,
                         "requirement": draw(num(0.3, 1.2)) * max(credit, 1_000.0)})
        if draw(st.booleans()):
            underlying = draw(st.sampled_from(list(ASSETS)))
            positions.append({"account": name, "instrument": f"{underlying}-PERP", "underlying": underlying,
                              "kind": "perp", "quantity": float(draw(st.integers(1, 3_000)))})
    holdings += [{"asset": a, "location": "wallet", "quantity": float(draw(st.integers(0, 1_000)))} for a in ASSETS]
    shock = [draw(num(-0.5, 0.0)) for _ in ASSETS]
    deeper = [max(s - draw(num(0.0, 0.3)), -0.95) for s in shock]
    return {"problem": {"as_of": "2025-02-11", "assets": assets, "holdings": holdings, "accounts": accounts,
                        "positions": positions}, "shocks": np.array([shock, deeper])}


def stressed(case: dict[str, Any], cascade: bool = True) -> tuple[Book, Outcome]:
    problem = allocator.Problem.model_validate(case["problem"])
    book = Book.of(problem)
    account_rules = rules(problem, {})
    market = liquidity(problem, {a: None for a in ASSETS}, pd.Timestamp("2025-02-11"))
    return book, run(book, account_rules, market, book.price * (1 + case["shocks"]), cascade)


def check(case: dict[str, Any]) -> None:
    book, outcome = stressed(case)
    _, alone = stressed(case, cascade=False)
    accounts = len(book.accounts)
    # bounded: one round per account at most, every price iteration converged
    assert outcome.rounds.max() <= accounts and outcome.iterations.max() < MAX_ITERATIONS * accounts
    # never creates value: prices only fall, the treasury and every standing account only lose
    assert np.all(outcome.price <= outcome.shocked * (1 + 1e-12))
    assert np.all(outcome.after <= outcome.after_round_one + 1e-6 * max(outcome.before, 1.0))
    assert np.all(outcome.cascade_loss >= -1e-6 * max(outcome.before, 1.0))
    standing = outcome.round == 0
    assert np.all(outcome.state.equity[standing] <= alone.state.equity[standing] + 1e-6)
    # round 1 of the cascade is the stress without one; the cascade only adds accounts
    assert np.array_equal(outcome.round == 1, alone.round == 1)
    assert np.array_equal(alone.after, outcome.after_round_one)
    # a fixed point: no standing account falls at the final prices
    final = settle(book, rules(book.problem, {}), revalue(book, outcome.price), outcome.price)
    assert not np.any(final.condemned & standing)
    # monotone: the deeper shock (row 1) liquidates every account the shallower one (row 0) does, and loses more
    for result in (outcome, alone):
        fell = result.round > 0
        assert np.all(fell[1] >= fell[0])
        assert result.total_loss[1] >= result.total_loss[0] - 1e-6 * max(result.before, 1.0)


@settings(max_examples=30)
@given(books())
def test_cascade_properties(case: dict[str, Any]) -> None:
    check(case)


@pytest.mark.slow
@settings(max_examples=2_000)
@given(books())
def test_cascade_properties_many(case: dict[str, Any]) -> None:
    check(case)


def test_no_impact_means_no_cascade() -> None:
    """With prices that sales cannot move (zero volatility in the impact law), the cascade is round 1 exactly."""
    case = {"problem": {"as_of": "2025-02-11",
                        "assets": [{"id": a, "price": p, "adv": 1e6, "volatility": 0.0} for a, p in ASSETS.items()],
                        "holdings": [{"asset": "XA", "location": "a", "quantity": 100.0},
                                     {"asset": "XB", "location": "b", "quantity": 100.0}],
                        "accounts": [{"id": "a", "requirement": 7_000.0, "haircuts": {"XA": 0.1}},
                                     {"id": "b", "requirement": 3_000.0, "haircuts": {"XA": 0.1, "XB": 0.1}}],
                        "positions": []},
            "shocks": np.array([[-0.3, -0.1, 0.0], [-0.5, -0.5, 0.0]])}
    _, outcome = stressed(case)
    _, alone = stressed(case, cascade=False)
    assert np.array_equal(outcome.round, alone.round) and outcome.round.max() == 1
    assert np.array_equal(outcome.after, alone.after) and np.array_equal(outcome.price, outcome.shocked)


def test_a_hand_made_two_round_cascade() -> None:
    """Account a (100 XA, requirement 8,000, haircut 0) falls at -25%; its venue sells 100 x 1.05 x 8,000 / 7,500
    = all of it into a market of ADV 100,000 with daily sigma 0.05: XA falls a further 0.05 sqrt(100 x 100 / 1e5)
    = 1.58%, which takes b (100 XA, requirement 7,400, equity 7,500 at -25%) down in round 2; b sells all too."""
    sigma = 0.05 * np.sqrt(365)
    case = {"problem": {"as_of": "2025-02-11",
                        "assets": [{"id": "XA", "price": 100.0, "adv": 1e5, "volatility": sigma, "impact": 1.0}],
                        "holdings": [{"asset": "XA", "location": "a", "quantity": 100.0},
                                     {"asset": "XA", "location": "b", "quantity": 100.0}],
                        "accounts": [{"id": "a", "requirement": 8_000.0, "haircuts": {"XA": 0.0}},
                                     {"id": "b", "requirement": 7_400.0, "haircuts": {"XA": 0.0}}],
                        "positions": []},
            "shocks": np.array([[-0.25]])}
    _, outcome = stressed(case)
    assert outcome.round.tolist() == [[1, 2]]
    final = 75.0 * (1 - 0.05 * np.sqrt(200 * 100.0 / 1e5))  # both accounts' 200 units sold in all
    assert outcome.price[0, 0] == pytest.approx(final, rel=1e-12)
    seized = 100 * final  # each sells everything: 1.05 x requirement > its value
    assert outcome.settlement.seized[0].tolist() == pytest.approx([seized, seized])
    assert outcome.settlement.loss[0].tolist() == pytest.approx([seized * 0.05 / 1.05] * 2)
    before, after = 200 * 100.0, 2 * seized / 1.05  # all units gone; the debts repaid count
    assert outcome.before == before and outcome.after[0] == pytest.approx(after)
    assert outcome.after_round_one[0] == pytest.approx(100 * 75.0 / 1.05 + 100 * 75.0)  # a sold, b standing
