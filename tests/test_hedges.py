"""Hedges as decisions (docs/hedging.md): the money they cost computed by hand, a hedge of zero reproducing the
unhedged optimum, the worked example of fixtures/problems/hedge.toml, delta bands, and the hedged optimum checked
against hand figures row by row."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import PROBLEMS
from kkt import kkt

import allocator
from allocator.analysis.hedging import hedge_savings, unhedged
from allocator.plan.ledger import Ledger
from allocator.plan.validate import hedged_arrays

T = 30 / 365  # the fixture's horizon in years
P_BTC, P_USDC = 95057.5390625, 0.9999855756759644
CRASH, RALLY = -0.372, 0.187
#: The coverage margin the solver profile adds (1e-9 of the account's scale, docs/formulation.md): under a cent here.
CENT = 0.01


@pytest.fixture(scope="module")
def data() -> dict:
    return allocator.load_problem(PROBLEMS / "hedge.toml").model_dump(by_alias=True)


def solve(data: dict, **changes) -> tuple[allocator.Problem, allocator.Result]:
    data = copy.deepcopy(data)
    data.update(changes)
    problem = allocator.Problem.model_validate(data)
    return problem, allocator.optimize(problem)


def hedge(data: dict, **fields) -> list[dict]:
    return [{**data["hedges"][0], **fields}]


def posted(result: allocator.Result, asset: str, location: str = "cex") -> float:
    return sum(t.quantity for t in result.targets if t.asset == asset and t.location == location)


def test_unhedged_optimum_by_hand(data):
    """Without the hedge the crash binds: every BTC is posted (cheaper per crash-proof dollar: 2% carry for
    0.97 x 0.628 of credit against 4.5% for 0.99), and USDC makes up the rest."""
    _, result = solve(data, hedges=[])
    btc = 30 * P_BTC
    usdc = (2_000_000 + 0.372 * 20 * P_BTC - 0.97 * (1 + CRASH) * btc) / 0.99  # value of USDC posted
    assert posted(result, "BTC") == pytest.approx(30, rel=1e-12)
    assert posted(result, "USDC") * P_USDC == pytest.approx(usdc, abs=CENT)  # the solver's margin: under a cent
    assert result.objective.total == pytest.approx((0.02 * btc + 0.045 * usdc) * T, rel=1e-9)
    assert result.objective.hedging == 0 and result.hedges == []


def test_hedge_money_by_hand(data):
    """The short hedge at its limit: funding received 0.1095 x 30/365 x 2M = 18,000, fee 4.5 bps x 2M = 900, both
    in the objective; its margin (2.5% of 2M) in the requirement; the crash row binds with its P&L counted."""
    problem, result = solve(data)
    (trade,) = result.hedges
    assert trade.notional == pytest.approx(-2_000_000, rel=1e-12)
    assert trade.quantity == pytest.approx(-2_000_000 / P_BTC, rel=1e-12)
    assert trade.funding == pytest.approx(-0.1095 * T * 2_000_000, rel=1e-12)  # -18,000: received
    assert trade.fee == pytest.approx(4.5e-4 * 2_000_000, rel=1e-12)  # 900: paid
    assert trade.margin == pytest.approx(0.025 * 2_000_000, rel=1e-12)
    objective = result.objective
    assert objective.hedging == pytest.approx(-18_000 + 900, rel=1e-12)
    assert objective.total == pytest.approx(objective.carry + objective.transfer + objective.hedging, rel=1e-12)
    btc = 30 * P_BTC
    usdc = (2_050_000 + 0.372 * 20 * P_BTC - 0.372 * 2_000_000 - 0.97 * (1 + CRASH) * btc) / 0.99
    assert posted(result, "USDC") * P_USDC == pytest.approx(usdc, abs=CENT)
    assert objective.carry == pytest.approx((0.02 * btc + 0.045 * usdc) * T, abs=0.045 * CENT)
    (cex,) = result.accounts
    assert cex.requirement == pytest.approx(2_050_000) and cex.hedge_margin == pytest.approx(50_000)
    assert cex.required == pytest.approx(2_050_000 * 1.1)
    assert cex.worst_scenario == "black-thursday-2020-03-12" and cex.worst_scenario_excess == pytest.approx(0, abs=1)
    assert allocator.validate_plan(problem, result) == []


def test_short_hedge_lets_the_account_post_less(data):
    """The worked example (docs/hedging.md): the hedged account posts 700k less USDC, and the saving is the carry
    on it plus the funding, less the fee."""
    savings = hedge_savings(allocator.Problem.model_validate(data))
    hedged, plain = savings.hedged, savings.unhedged
    assert plain is not None
    # the crash row: the hedge's P&L 0.372 x 2M less its margin 50k is credit the USDC no longer has to give
    less = (posted(plain, "USDC") - posted(hedged, "USDC")) * P_USDC * 0.99
    assert less == pytest.approx(0.372 * 2e6 - 50_000, abs=CENT)
    assert hedged.accounts[0].collateral < plain.accounts[0].collateral
    saving = (0.045 * (0.372 * 2e6 - 50_000) / 0.99) * T + 18_000 - 900
    assert savings.saving == pytest.approx(saving, rel=1e-9)
    assert hedged.hedge_saving == savings.saving
    frame = savings.frame
    assert frame.loc["saving", "cost"] == pytest.approx(saving, rel=1e-9)
    assert frame.loc["hedged", "hedging"] == pytest.approx(-17_100, rel=1e-12)


def test_a_hedge_of_zero_reproduces_the_unhedged_optimum(data):
    _, none = solve(data, hedges=[])
    _, zero = solve(data, hedges=hedge(data, max_notional=0.0))
    assert zero.objective.total == pytest.approx(none.objective.total, rel=1e-12, abs=1e-9)
    assert zero.objective.hedging == 0 and zero.hedges == []
    assert {(t.asset, t.location): t.quantity for t in zero.targets} == pytest.approx(
        {(t.asset, t.location): t.quantity for t in none.targets}, rel=1e-12, abs=1e-9)


def test_a_treasury_band_forces_a_costly_hedge_to_its_edge(data):
    """Shorts pay funding (-5% a year): hedging only costs, so the hedge stops exactly where the treasury's BTC
    delta (30 BTC held, 20 BTC perp) reaches the band of 1M. The desk pays that funding: money by hand."""
    problem, result = solve(data, hedges=hedge(data, funding_rate=-0.05, max_notional=5e6),
                            max_net_delta={"BTC": 1_000_000.0})
    delta = 50 * P_BTC + result.hedges[0].notional
    assert delta == pytest.approx(1_000_000, rel=1e-9)
    treasury = next(row for row in result.deltas if row.owner == "treasury")
    assert (treasury.before, treasury.after, treasury.limit) == pytest.approx((50 * P_BTC, 1e6, 1e6), rel=1e-9)
    notional = 1_000_000 - 50 * P_BTC
    assert result.hedges[0].funding == pytest.approx(-0.05 * T * notional, rel=1e-9)  # > 0: the desk pays
    assert result.hedges[0].funding > 0
    assert result.objective.hedging == pytest.approx(-0.05 * T * notional + 4.5e-4 * -notional, rel=1e-9)
    assert "delta[BTC]:long" in {b.label for b in result.binding}
    assert allocator.validate_plan(problem, result) == []


def test_an_account_band_counts_collateral_posted_there(data):
    """The account's delta is its posted BTC plus its perp plus its hedges: a band of 500k holds after."""
    _, result = solve(data, hedges=hedge(data, funding_rate=-0.05, max_notional=5e6),
                      accounts=[{**data["accounts"][0], "max_net_delta": {"BTC": 500_000.0}}])
    delta = posted(result, "BTC") * P_BTC + 20 * P_BTC + result.hedges[0].notional
    assert abs(delta) <= 500_000 * (1 + 1e-9)
    row = next(r for r in result.deltas if r.owner == "cex")
    assert row.after == pytest.approx(delta, rel=1e-9) and row.before == pytest.approx(20 * P_BTC, rel=1e-12)


def test_an_unreachable_band_is_diagnosed(data):
    with pytest.raises(allocator.InfeasibleError) as caught:
        solve(data, max_net_delta={"BTC": 1_000_000.0})  # the hedge may short 2M, not 3.75M
    (row,) = [r for r in caught.value.result.shortfalls if r.constraint == "delta[BTC]"]
    assert row.account == "treasury"
    assert row.amount == pytest.approx(50 * P_BTC - 2e6 - 1e6, rel=1e-6)


def test_margin_rates_from_the_rulebook_are_chords_by_hand():
    """Hyperliquid BTC below 150M notional: maintenance 1/80 of notional. Long 25 BTC-PERP, hedging in the same
    instrument up to 2M: a long adds 1.25% (chord from 25 BTC up), a short takes 1.25% off (chord down)."""
    base = {"as_of": "2025-02-11", "assets": [{"id": "BTC", "price": P_BTC}, {"id": "USDC", "price": 1.0}],
            "holdings": [{"asset": "USDC", "location": "wallet", "quantity": 5e6}],
            "accounts": [{"id": "hl", "rulebook": "hyperliquid"}],
            "positions": [{"account": "hl", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                           "quantity": 25.0}],
            "hedges": [{"account": "hl", "instrument": "BTC-PERP", "underlying": "BTC", "max_notional": 2e6},
                       {"account": "hl", "instrument": "BTC-ALONE", "underlying": "BTC", "max_notional": 2e6}]}
    problem = allocator.Problem.model_validate(base)
    rates = problem.terms["hl"].hedge_rates
    assert rates["BTC-PERP"] == pytest.approx((1 / 80, -1 / 80), rel=1e-12)
    assert rates["BTC-ALONE"] == pytest.approx((1 / 80, 1 / 80), rel=1e-12)
    given = allocator.Problem.model_validate({**base, "accounts": [{"id": "hl", "rulebook": "hyperliquid",
                                                                    "requirement": 100_000.0}]})
    assert given.terms["hl"].hedge_rates["BTC-PERP"] == pytest.approx((1 / 80, 0.0))  # never lowered
    result = allocator.optimize(problem)
    assert allocator.validate_plan(problem, result) == []


def test_cones_and_cvar_see_the_hedged_exposure():
    """A parametric and a CVaR limit (Clarabel): the reported sigma and CVaR are recomputed here by hand with the
    hedge's notional in the exposure and its P&L in every draw."""
    data = {"horizon_days": 30,
            "assets": [{"id": "BTC", "price": 100_000.0}, {"id": "USDC", "price": 1.0, "carry": 0.05}],
            "holdings": [{"asset": "USDC", "location": "wallet", "quantity": 3e6}],
            "accounts": [{"id": "acct", "requirement": 1e6, "haircuts": {"USDC": 0.0},
                          "risk": {"horizon_days": 2, "confidence": 0.99, "cvar_confidence": 0.95,
                                   "cvar_scenarios": 200, "seed": 3}}],
            "positions": [{"account": "acct", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                           "quantity": 50.0}],
            "market": {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.6, "USDC": 0.0},
                       "correlation": [[1.0, 0.0], [0.0, 1.0]]},
            "hedges": [{"account": "acct", "instrument": "BTC-HEDGE", "underlying": "BTC", "fee_bps": 2.0,
                        "max_notional": 3e6, "margin_rate": 0.05}]}
    problem = allocator.Problem.model_validate(data)
    result = allocator.optimize(problem)
    (row,), (trade,) = result.accounts, result.hedges
    assert trade.notional == pytest.approx(-3e6, rel=1e-6)  # a short hedge is worth its fee and margin here
    exposure = 50 * 100_000 + trade.notional
    assert row.sigma == pytest.approx(0.6 * abs(exposure) * np.sqrt(2 / 365), rel=1e-9)
    draws = problem.accounts[0].risk.draws(problem.market.factor())[:, 0]
    assert row.cvar == pytest.approx(_tail(-exposure * draws, 0.95), rel=1e-9)
    requirement = 1e6 + 0.05 * abs(trade.notional)
    assert row.requirement == pytest.approx(requirement, rel=1e-12)
    assert row.collateral - 2.326347874 * row.sigma >= requirement - 1e-3
    assert row.collateral - row.cvar >= requirement - 1e-3
    _, plain = solve(data, hedges=[])
    assert row.collateral < plain.accounts[0].collateral


@pytest.mark.parametrize("limit", ["account", "portfolio"])
def test_a_hedge_sized_where_coverage_and_the_cone_both_bind(limit):
    """Long 50 BTC perp, USDC collateral, buffer 20%, a cost-free short hedge with 5% margin: the cheapest
    collateral meets coverage ``C = 1.2 (R + 0.05 m)`` and the cone ``C - z sigma = R + 0.05 m`` at once, with
    ``sigma = 0.6 sqrt(2/365) (5M - m)``: ``0.2 (R + 0.05 m) = k (5M - m)``, so ``m = (5M k - 0.2 R) / (k + 0.01)``
    by hand. Checks the margin in coverage and the buffer the cone (or the portfolio's cone) gives back."""
    data = {"horizon_days": 30,
            "assets": [{"id": "BTC", "price": 100_000.0}, {"id": "USDC", "price": 1.0, "carry": 0.05}],
            "holdings": [{"asset": "USDC", "location": "wallet", "quantity": 3e6}],
            "accounts": [{"id": "acct", "requirement": 1e6, "buffer": 0.2, "haircuts": {"USDC": 0.0}}],
            "positions": [{"account": "acct", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                           "quantity": 50.0}],
            "market": {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.6, "USDC": 0.0},
                       "correlation": [[1.0, 0.0], [0.0, 1.0]]},
            "hedges": [{"account": "acct", "instrument": "BTC-HEDGE", "underlying": "BTC", "max_notional": 5e6,
                        "margin_rate": 0.05}]}
    settings = {"horizon_days": 2, "confidence": 0.99}
    if limit == "account":
        data["accounts"][0]["risk"] = settings
    else:
        data["portfolio"] = {**settings, "stress": False}
    result = allocator.optimize(allocator.Problem.model_validate(data))
    k = 2.3263478740408408 * 0.6 * np.sqrt(2 / 365)
    m = (5e6 * k - 0.2 * 1e6) / (k + 0.01)
    assert result.hedges[0].notional == pytest.approx(-m, rel=1e-5)
    assert result.accounts[0].collateral == pytest.approx(1.2 * (1e6 + 0.05 * m), rel=1e-5)


def test_concentration_caps_count_the_gross_collateral(data):
    """The program's collateral is net of the hedges' buffered margin (program/_hedges.py); a concentration cap is
    a share of the gross collateral, so with BTC (the cheaper collateral) capped at 60% it binds exactly there."""
    data = copy.deepcopy(data)
    data["accounts"][0]["concentration"] = {"BTC": 0.6}
    problem, result = solve(data)
    btc = posted(result, "BTC") * P_BTC * 0.97
    assert btc == pytest.approx(0.6 * result.accounts[0].collateral, rel=1e-9)
    assert allocator.validate_plan(problem, result) == []


def _tail(loss: np.ndarray, level: float) -> float:
    worst = np.sort(loss)[::-1]
    tail = (1 - level) * len(loss)
    whole = int(np.floor(tail))
    return float((worst[:whole].sum() + (tail - whole) * (worst[whole] if whole < len(worst) else 0)) / tail)


def test_portfolio_limit_sees_every_hedge(data):
    problem, result = solve(data, portfolio={"horizon_days": 1, "confidence": 0.99, "stress": True})
    sigma = np.sqrt(1 / 365) * np.linalg.norm(problem.market.factor().T @ np.array(
        [posted(result, "BTC") * P_BTC + 20 * P_BTC + result.hedges[0].notional, posted(result, "USDC") * P_USDC]))
    assert result.portfolio.sigma == pytest.approx(sigma, rel=1e-9)
    assert result.portfolio.requirement == pytest.approx(2_050_000)


def test_a_resolve_changes_the_hedge_without_recompiling(data):
    problem = allocator.Problem.model_validate(data)
    engine = allocator.Allocator(problem)
    first = engine.solve()
    compiled = engine.compilations
    assert engine.program.problem.is_dpp()
    changed = allocator.Problem.model_validate({**data, "hedges": hedge(data, max_notional=1e6)})
    second = engine.solve(changed)
    assert engine.compilations == compiled
    assert second.hedges[0].notional == pytest.approx(-1e6, rel=1e-12)
    assert first.objective.total < second.objective.total


def test_the_hedged_program_satisfies_kkt(data):
    engine = allocator.Allocator(allocator.Problem.model_validate(data), minimise_moves=False)
    engine.solve(plan=False)
    assert kkt(engine.program.problem).worst() <= 1e-9


def test_plan_floors_count_the_hedges_margin(data):
    """Hedges open before any transfer: the coverage floor of an account is min(collateral today, requirement
    plus the hedges' margin)."""
    data = copy.deepcopy(data)
    data["holdings"].append({"asset": "USDC", "location": "cex", "quantity": 2_500_000.0})
    problem, result = solve(data)
    arrays = hedged_arrays(problem, result)
    assert arrays is not None
    collateral = 2_500_000 * P_USDC * 0.99
    assert Ledger(problem).floor["cex"] == pytest.approx(min(collateral, 2_000_000))
    assert Ledger(problem, arrays).floor["cex"] == pytest.approx(min(collateral, 2_050_000))
    assert allocator.validate_plan(problem, result) == []


def test_results_with_hedges_round_trip_through_json(data):
    _, result = solve(data)
    assert allocator.Result.from_json(result.to_json()) == result
    assert list(result.hedges_frame.columns)[:3] == ["account", "instrument", "underlying"]


def test_the_transition_refuses_hedges(data):
    problem = allocator.Problem.model_validate({**data, "schedule": {"periods": 4}})
    with pytest.raises(allocator.InputError) as caught:
        allocator.plan_transition(problem)
    assert [issue.location for issue in caught.value.issues] == ["hedges"]


def test_unhedged_drops_hedges_and_bands(data):
    problem = allocator.Problem.model_validate({**data, "max_net_delta": {"BTC": 1e7}})
    plain = unhedged(problem)
    assert plain.hedges == [] and plain.max_net_delta == {}


@pytest.mark.parametrize(("change", "location", "code"), [
    ({"hedges": [{"account": "nope", "instrument": "X", "underlying": "BTC", "max_notional": 1.0}]},
     "hedges[0].account", "unknown_account"),
    ({"hedges": [{"account": "cex", "instrument": "X", "underlying": "DOGE", "max_notional": 1.0}]},
     "hedges[0].underlying", "unknown_asset"),
    ({"hedges": [{"account": "cex", "instrument": "X", "underlying": "BTC", "max_notional": 1.0, "margin_rate": 0.1},
                 {"account": "cex", "instrument": "X", "underlying": "BTC", "max_notional": 1.0, "margin_rate": 0.1}]},
     "hedges[1].instrument", "duplicate_hedge"),
    ({"hedges": [{"account": "cex", "instrument": "X", "underlying": "BTC", "max_notional": 1.0}]},
     "hedges[0].margin_rate", "missing_field"),
    ({"max_net_delta": {"USDC": 1.0}}, "max_net_delta.USDC", "no_hedge"),
    ({"hedges": [{"account": "cex", "instrument": "X", "underlying": "BTC", "max_notional": -1.0}]},
     "hedges[0].max_notional", "out_of_range"),
])
def test_bad_hedges_are_located(data, change, location, code):
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate({**data, **change})
    assert (location, code) in {(issue.location, issue.code) for issue in caught.value.issues}


def test_a_hedge_with_an_unknown_account_and_underlying_reports_both(data):
    """Both typos of one hedge in one error, as a position's are."""
    bad = {**data, "hedges": [{"account": "exx", "instrument": "X", "underlying": "BTCX", "max_notional": 1.0,
                               "margin_rate": 0.1}]}
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(bad)
    found = {(issue.location, issue.code) for issue in caught.value.issues}
    assert {("hedges[0].account", "unknown_account"), ("hedges[0].underlying", "unknown_asset")} <= found


def test_a_hedge_at_a_risk_account_needs_a_volatility(data):
    bad = copy.deepcopy(data)
    bad["assets"].append({"id": "SOL", "price": 195.77})
    bad["hedges"].append({"account": "cex", "instrument": "SOL-PERP", "underlying": "SOL", "max_notional": 1.0,
                          "margin_rate": 0.1})
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(bad)
    assert ("hedges[1].underlying", "missing_volatility") in {(i.location, i.code) for i in caught.value.issues}


def test_cli_hedges_prints_trades_deltas_and_saving(tmp_path):
    from click.testing import CliRunner

    from allocator.cli import main

    output = tmp_path / "hedged.json"
    run = CliRunner().invoke(main, ["hedges", str(PROBLEMS / "hedge.toml"), "-o", str(output)])
    assert run.exit_code == 0, run.output
    assert "BTC-PERP-HEDGE" in run.output and "saving" in run.output and "treasury" in run.output
    assert allocator.Result.from_json(output.read_text()).hedge_saving == pytest.approx(19_692.78, abs=0.01)
