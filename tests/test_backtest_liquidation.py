"""A liquidation is recorded exactly when equity crosses the maintenance line at the day's low (or high), on
both sides of the line, and costs the penalty and the restore cost computed by hand; the books balance."""

from __future__ import annotations

import pytest
from backtest_cases import history, problem
from test_backtest_costs import Still

from allocator.analysis.backtest import backtest

LINE = 1_000_000.0 / 13  # the BTC price at which the venue's 13 BTC are worth its 1,000,000 requirement


def loan(low: float):  # type: ignore[no-untyped-def]
    """13 BTC against a 1,000,000 requirement (no positions: a loan), BTC at ``low`` intraday on day 1."""
    prices = history({"BTC": [100_000.0, 100_000.0], "USDC": [1.0, 1.0]}, lows={"BTC": [100_000.0, low]})
    return backtest(problem(), policies=[Still()], history=prices)


@pytest.mark.parametrize("side", [-1, 1])
def test_a_loan_is_liquidated_exactly_below_its_line(side: int) -> None:
    low = LINE * (1 + side * 1e-9)
    result = loan(low)
    liquidated = result.daily.set_index("date")["liquidated"]
    assert liquidated.tolist() == [False, side < 0]
    assert result.summary.loc[0, "liquidations"] == (1 if side < 0 else 0)
    assert result.daily["worst_coverage"].iloc[1] == pytest.approx(13 * low / 1_000_000.0, rel=1e-12)


def test_a_loan_liquidation_costs_its_penalty_and_the_restore() -> None:
    """At the low 13 BTC are worth V = 988,000 < 1.05 x 1,000,000: the venue takes all of it, 5/105 of it is the
    penalty (stress package default 5%), the rest repays debt that the treasury borrows again (10 bp restore)."""
    result = loan(76_000.0)
    value = 13 * 76_000.0
    penalty = value * 0.05 / 1.05
    restore = (value - penalty) * 1e-3
    row = result.daily.iloc[1]
    assert row["liquidated"] and row["liquidation_row"] == "low"
    assert row["seized"] == pytest.approx(value, rel=1e-12)
    assert row["liquidation_loss"] == pytest.approx(penalty + restore, rel=1e-12)
    books = result.treasury.iloc[1]
    # the seized BTC is gone, the debt repaid comes back as cash, less the restore cost
    before = result.treasury["value"].iloc[0]
    assert books["value"] - before == pytest.approx(books["market_pnl"] - penalty - restore, rel=1e-12)


def perp(low: float, high: float | None = None):  # type: ignore[no-untyped-def]
    """A long 10 BTC perp against 150,000 USDC and a given requirement of 100,000 (scaled with the notional)."""
    case = problem(holdings=[{"asset": "USDC", "location": "venue", "quantity": 150_000.0},
                             {"asset": "USDC", "location": "wallet", "quantity": 2_000_000.0}],
                   positions=[{"account": "venue", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                               "quantity": 10.0}],
                   accounts=[{"id": "venue", "requirement": 100_000.0, "haircuts": {"USDC": 0.0}}])
    prices = history({"BTC": [100_000.0, 100_000.0, 100_000.0], "USDC": [1.0, 1.0, 1.0]},
                     lows={"BTC": [100_000.0, low, 100_000.0]},
                     highs={"BTC": [100_000.0, high or 100_000.0, 100_000.0]})
    return backtest(case, policies=[Still()], history=prices)


# equity 150,000 + 10 (L - 100,000) against a requirement of 100,000 x 10 L / (10 x 100,000) = L
PERP_LINE = 850_000.0 / 9


@pytest.mark.parametrize("side", [-1, 1])
def test_a_perp_account_is_liquidated_exactly_when_equity_crosses_maintenance(side: int) -> None:
    low = PERP_LINE * (1 + side * 1e-9)
    result = perp(low)
    assert result.daily["liquidated"].tolist() == [False, side < 0, False]
    row = result.daily.iloc[1]
    equity = 150_000.0 + 10 * (low - 100_000.0)
    assert row["worst_coverage"] == pytest.approx(equity / low, rel=1e-9)
    if side < 0:  # the fee: 5% of the notional closed; the loss settled; 10 bp of the notional to re-open
        notional = 10 * low
        assert row["liquidation_loss"] == pytest.approx(0.05 * notional + 1e-3 * notional, rel=1e-9)
        assert row["pnl"] == pytest.approx(0.0, abs=1e-6)  # the loss to the low, then back at the close


def test_a_short_position_falls_at_the_high() -> None:
    """A short 10 BTC perp: the day's high is its worst price (the stress test's lows alone would miss it)."""
    case = problem(holdings=[{"asset": "USDC", "location": "venue", "quantity": 150_000.0},
                             {"asset": "USDC", "location": "wallet", "quantity": 2_000_000.0}],
                   positions=[{"account": "venue", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                               "quantity": -10.0}],
                   accounts=[{"id": "venue", "requirement": 100_000.0, "haircuts": {"USDC": 0.0}}])
    # equity 150,000 - 10 (H - 100,000) against H: the line is H = 1,150,000 / 11
    line = 1_150_000.0 / 11
    for side in (-1, 1):
        high = line * (1 - side * 1e-9)
        prices = history({"BTC": [100_000.0, 100_000.0], "USDC": [1.0, 1.0]}, highs={"BTC": [100_000.0, high]})
        result = backtest(case, policies=[Still()], history=prices)
        assert result.daily["liquidated"].tolist() == [False, side < 0]
        if side < 0:
            assert result.daily["liquidation_row"].iloc[1] == "high"


def test_a_loan_liquidation_exchanges_the_collateral_seized_for_the_cash_borrowed_again() -> None:
    """The liquidation of the test above sells the 13 BTC (carry 0) for the 940,952.38 of debt repaid, which the
    treasury borrows again in USDC (carry 5%), and pays 10 bp of it to restore the account (940.95 USDC given up):
    from then on the desk earns 5% on the cash less the restore cost, so each night after it forgoes
    ``(0 x 13 x 100,000 - 0.05 x (940,952.38 - 940.95)) / 365`` (a gain); the venue holds nothing, so nothing posted
    forgoes anything. Before it, 13 BTC posted at no yield forgo nothing either."""
    prices = history({"BTC": [100_000.0] * 3, "USDC": [1.0] * 3}, lows={"BTC": [100_000.0, 76_000.0, 100_000.0]})
    result = backtest(problem(), policies=[Still()], history=prices)
    value = 13 * 76_000.0
    repaid = value - value * 0.05 / 1.05
    night = (0.0 * 13 * 100_000.0 - 0.05 * (repaid - 1e-3 * repaid)) / 365
    books = result.treasury.set_index("date")
    assert books["carry_exchanged"].tolist() == pytest.approx([0.0, 0.0, night], rel=1e-12)
    assert books["carry_forgone"].tolist() == pytest.approx([0.0, 0.0, night], rel=1e-12)
    assert result.summary.loc[0, "carry_forgone"] == pytest.approx(night, rel=1e-12)
    # and its market effect, as a trade's (exchange_pnl): seized at the low, the 13 BTC are worth 100,000 again at
    # the high and the close of the same day, 13 x 24,000 the desk no longer has; USDC does not move
    assert books["exchange_pnl"].tolist() == pytest.approx([0.0, 13 * 24_000.0, 0.0], rel=1e-12)
    row = result.summary.iloc[0]
    assert row["total_cost"] == pytest.approx(night + row["liquidation_loss"] + 13 * 24_000.0, rel=1e-12)
