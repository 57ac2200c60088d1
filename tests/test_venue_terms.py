"""Accounts that take their haircuts and requirement from a venue rulebook (venue_terms.py)."""

from __future__ import annotations

import pytest
from helpers import assert_verified

import allocator
from allocator.inputs.market import Position
from allocator.venues.rulebooks import load_rulebook


def problem(accounts: list[dict], positions: list[dict] | None = None, btc: float = 30.0) -> allocator.Problem:
    return allocator.Problem.model_validate({
        "as_of": "2025-02-11",
        "assets": [{"id": "BTC", "price": 95_000.0}, {"id": "USDC", "price": 1.0, "carry": 0.045},
                   {"id": "ETH", "price": 2_600.0, "carry": 0.02}],
        "holdings": [{"asset": "BTC", "location": "custody", "quantity": btc},
                     {"asset": "USDC", "location": "custody", "quantity": 5e6},
                     {"asset": "ETH", "location": "custody", "quantity": 500.0}],
        "accounts": accounts,
        "positions": positions or []})


PERP = {"account": "hl", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp", "quantity": 10.0}


def test_haircuts_come_from_the_rulebook_and_own_haircuts_override():
    p = problem([{"id": "aave", "rulebook": "aave-v3-ethereum", "requirement": 1e6, "haircuts": {"USDC": 0.5}}])
    book = load_rulebook("aave-v3-ethereum")
    eligible = p.terms[p.accounts[0].id].eligible
    assert eligible["USDC"] == 0.5  # the account's own number wins
    for asset in ("BTC", "ETH"):
        assert eligible[asset] == pytest.approx(1 - book.collateral_value(asset, 1.0, 100.0) / 100.0, abs=1e-12)
    assert p.terms[p.accounts[0].id].requirement == 1e6
    assert_verified(p, allocator.optimize(p))


@pytest.mark.parametrize("basis", ["maintenance", "initial"])
def test_requirement_is_the_venues_margin_of_the_positions(basis):
    p = problem([{"id": "hl", "rulebook": "hyperliquid", "margin_basis": basis}], [PERP])
    book = load_rulebook("hyperliquid")
    positions = [Position.model_validate(PERP)]
    margin = book.initial_margin if basis == "initial" else book.maintenance_margin
    expected = margin(positions, {"BTC": 95_000.0, "USDC": 1.0, "ETH": 2_600.0}, "2025-02-11")
    assert p.terms[p.accounts[0].id].requirement == pytest.approx(expected) and expected > 0
    result = allocator.optimize(p)
    assert result.accounts[0].requirement == pytest.approx(expected)
    assert_verified(p, result)


def test_a_price_what_if_moves_the_derived_requirement():
    p = problem([{"id": "hl", "rulebook": "hyperliquid"}], [PERP])
    engine = allocator.Allocator(p)
    base = engine.solve().accounts[0].requirement
    shocked = engine.solve({"shock": {"BTC": -0.5}}).accounts[0].requirement
    assert shocked == pytest.approx(base * 0.5, rel=1e-9)  # one linear tier: the margin scales with notional


def test_a_tiered_venue_is_never_credited_above_its_own_formula():
    """Binance's BTC collateral ratio falls by value tier: the account's single haircut is the secant at the
    whole inventory, so the credited collateral is at most the venue's own value of what is posted."""
    p = problem([{"id": "pm", "rulebook": "binance-portfolio-margin", "requirement": 2e6}], btc=3_000.0)
    result = allocator.optimize(p)
    assert_verified(p, result)
    posted = sum(t.quantity for t in result.targets if t.asset == "BTC" and t.location == "pm")
    exact = load_rulebook("binance-portfolio-margin").collateral_value("BTC", posted, 95_000.0)
    assert result.accounts[0].collateral <= exact * (1 + 1e-12)


def test_rulebook_input_errors_are_located():
    with pytest.raises(allocator.InputError) as caught:
        problem([{"id": "x", "rulebook": "no-such-venue"}, {"id": "y"}])
    found = {(i.location, i.code) for i in caught.value.issues}
    assert ("accounts[0].rulebook", "unknown_rulebook") in found
    assert ("accounts[1].requirement", "missing_field") in found
    with pytest.raises(allocator.InputError) as caught:  # Aave takes no positions: its requirement is the debt
        problem([{"id": "hl", "rulebook": "aave-v3-ethereum"}], [PERP])
    assert [i.location for i in caught.value.issues] == ["accounts[0].rulebook"], caught.value.issues


def test_round_trip_keeps_the_derivation():
    p = problem([{"id": "hl", "rulebook": "hyperliquid"}], [PERP])
    again = allocator.Problem.model_validate(p.model_dump(by_alias=True))
    assert "requirement" not in {k for k, v in p.model_dump()["accounts"][0].items() if v is not None}
    assert again.terms[again.accounts[0].id].requirement == p.terms[p.accounts[0].id].requirement


def test_fund_fixture_is_covered_under_every_limit():
    """fixtures/problems/fund.toml: two derivatives venues with derived requirements, Aave, a prime broker,
    a history-estimated market, 500 CVaR draws, stress scenarios."""
    from helpers import PROBLEMS

    fund = allocator.load_problem(PROBLEMS / "fund.toml")
    result = allocator.optimize(fund)
    assert_verified(fund, result)
    by_id = {row.id: row for row in result.accounts}
    assert by_id["hyperliquid"].requirement > 0 and by_id["deribit"].requirement > 0
    assert by_id["hyperliquid"].cvar is not None and by_id["deribit"].worst_scenario is not None
