"""Margin modes (docs/margin-modes.md): today's figures by default, cross and portfolio requirements from the venue
rulebooks computed by hand, isolated accounts expanded into sub-accounts that every layer sees, isolated never
cheaper than cross, located input errors, and compare_modes / ``allocator modes``."""

from __future__ import annotations

import copy

import pytest
from helpers import PROBLEMS

import allocator
from allocator.analysis.modes import compare_modes, in_mode
from allocator.inputs.isolated import collapse, expand
from allocator.venues.rulebooks import load_rulebook

DERIBIT_OPTIONS = ("BTC-28MAR25-110000-C", "BTC-28MAR25-80000-P")


@pytest.fixture(scope="module")
def fund() -> allocator.Problem:
    return allocator.load_problem(PROBLEMS / "fund.toml")


def with_modes(problem: allocator.Problem, **modes: str) -> allocator.Problem:
    data = problem.model_dump(by_alias=True)
    for account in data["accounts"]:
        if account["id"] in modes:
            account["margin_mode"] = modes[account["id"]]
    return allocator.Problem.model_validate(data)


def positions(problem: allocator.Problem, account: str, instrument: str | None = None) -> list[allocator.Position]:
    return [p for p in problem.positions if p.account == account and instrument in (None, p.instrument)]


def test_the_default_keeps_todays_requirements(fund):
    """Left out, each account is in its venue's own mode and its requirement is today's figure."""
    prices = {a.id: a.price for a in fund.assets}
    hyperliquid, deribit = load_rulebook("hyperliquid"), load_rulebook("deribit-portfolio-margin")
    assert fund.terms["hyperliquid"].requirement == hyperliquid.maintenance_margin(
        positions(fund, "hyperliquid"), prices, fund.as_of)
    assert fund.terms["deribit"].requirement == deribit.initial_margin(positions(fund, "deribit"), prices, fund.as_of)
    assert [fund.terms[k].mode for k in fund.account_ids] == ["cross", "portfolio", "cross", "cross"]


def test_cross_sums_each_instrument_and_portfolio_nets_them(fund):
    """Deribit: cross is the grid margin of each option alone, summed; portfolio the grid over both (the long put
    offsets the short call's down-move scenarios), at most the cross figure."""
    prices = {a.id: a.price for a in fund.assets}
    deribit = load_rulebook("deribit-portfolio-margin")
    alone = [deribit.initial_margin(positions(fund, "deribit", name), prices, fund.as_of) for name in DERIBIT_OPTIONS]
    cross = with_modes(fund, deribit="cross").terms["deribit"]
    portfolio = with_modes(fund, deribit="portfolio").terms["deribit"]
    assert cross.requirement == pytest.approx(sum(alone), rel=1e-12)
    assert portfolio.requirement == fund.terms["deribit"].requirement < cross.requirement
    assert (cross.mode, portfolio.mode) == ("cross", "portfolio")


def test_isolated_accounts_become_sub_accounts(fund):
    problem = with_modes(fund, hyperliquid="isolated", deribit="isolated")
    assert [(a.id, a.parent) for a in problem.accounts] == [
        ("hyperliquid", None), ("hyperliquid/BTC-PERP", "hyperliquid"), ("hyperliquid/ETH-PERP", "hyperliquid"),
        ("deribit", None), (f"deribit/{DERIBIT_OPTIONS[0]}", "deribit"), (f"deribit/{DERIBIT_OPTIONS[1]}", "deribit"),
        ("aave", None), ("prime-broker", None)]
    prices = {a.id: a.price for a in fund.assets}
    deribit = load_rulebook("deribit-portfolio-margin")
    for name in DERIBIT_OPTIONS:  # each sub-account: its own instrument's margin, alone
        sub = f"deribit/{name}"
        assert [p.instrument for p in positions(problem, sub)] == [name]
        assert problem.terms[sub].requirement == pytest.approx(
            deribit.initial_margin(positions(fund, "deribit", name), prices, fund.as_of), rel=1e-12)
        assert problem.terms[sub].eligible == fund.terms["deribit"].eligible
    assert problem.terms["deribit"].requirement == 0 and positions(problem, "deribit") == []  # the wallet
    again = allocator.Problem.model_validate(problem.model_dump(by_alias=True))  # expanding is idempotent
    assert again.account_ids == problem.account_ids and again.positions == problem.positions


def test_isolated_sub_accounts_get_free_routes_to_the_wallet():
    data = allocator.load_problem(PROBLEMS / "fund.toml").model_dump(by_alias=True)
    data["routes"] = [{"from": "custody", "to": "hyperliquid", "cost_bps": 1.0},
                      {"from": "hyperliquid", "to": "custody", "cost_bps": 1.0}]
    data["accounts"] = [a for a in data["accounts"] if a["id"] == "hyperliquid"]
    data["positions"] = [p for p in data["positions"] if p["account"] == "hyperliquid"]
    data["holdings"] = [h for h in data["holdings"] if h["location"] == "custody"]
    data["accounts"][0]["margin_mode"] = "isolated"
    problem = allocator.Problem.model_validate(data)
    assert [(r.from_, r.to, r.cost_bps) for r in problem.routes][2:] == [
        ("hyperliquid", "hyperliquid/BTC-PERP", 0.0), ("hyperliquid/BTC-PERP", "hyperliquid", 0.0),
        ("hyperliquid", "hyperliquid/ETH-PERP", 0.0), ("hyperliquid/ETH-PERP", "hyperliquid", 0.0)]
    result = allocator.optimize(problem)
    assert allocator.validate_plan(problem, result) == []
    assert [(r["from"], r["to"], r["cost_bps"]) for r in collapse(problem.model_dump(by_alias=True))["routes"]] \
        == [(r["from"], r["to"], r["cost_bps"]) for r in data["routes"]]


def test_every_layer_sees_the_sub_accounts(fund):
    """The program, its verification, the plan and the result: the plan replays from today's holdings onto the
    sub-accounts and every sub-account is covered, with its mode and parent in the result."""
    problem = with_modes(fund, hyperliquid="isolated", deribit="isolated")
    result = allocator.optimize(problem)
    assert allocator.validate_plan(problem, result) == []
    rows = {a.id: a for a in result.accounts}
    assert set(rows) == set(problem.account_ids)
    for ident in problem.account_ids:
        row, terms = rows[ident], problem.terms[ident]
        assert row.margin_mode == terms.mode and row.parent == next(a.parent for a in problem.accounts
                                                                    if a.id == ident)
        assert row.requirement == pytest.approx(terms.requirement, rel=1e-12)
        assert row.collateral >= row.required - 1e-6
    assert {t.location for t in result.targets} >= {"hyperliquid/ETH-PERP", f"deribit/{DERIBIT_OPTIONS[0]}"}


def test_isolated_never_needs_less_capital_than_cross(book):
    """The same positions, flat haircuts: any isolated allocation merged into one pool is a cross allocation of the
    same cost, so the isolated optimum costs at least as much (docs/margin-modes.md); here strictly more, as the
    short ETH perp no longer offsets the long BTC perp in the crash."""
    table = compare_modes(book, modes=("isolated", "cross"))
    assert (table["status"] == "optimal").all()
    assert table.loc["isolated", "cost"] > table.loc["cross", "cost"]
    assert table.loc["isolated", "requirement"] >= table.loc["cross", "requirement"] - 1e-6
    for account in ("hl", "deribit"):  # each account alone, too
        costs = {mode: allocator.optimize(with_modes(book, **{account: mode})).objective.total
                 for mode in ("isolated", "cross")}
        assert costs["isolated"] >= costs["cross"] - 1e-6


@pytest.fixture(scope="module")
def book() -> allocator.Problem:
    """A Hyperliquid account with a long BTC and a short ETH perp, a Deribit account with the fund's two options,
    USDC to post, and a crash scenario in which the perps offset (linear: HiGHS, fast)."""
    options = [p.model_dump(by_alias=True) for p in allocator.load_problem(PROBLEMS / "fund.toml").positions
               if p.account == "deribit"]
    return allocator.Problem.model_validate({
        "as_of": "2025-02-11", "horizon_days": 30,
        "assets": [{"id": "BTC", "price": 95057.54}, {"id": "ETH", "price": 2589.82},
                   {"id": "USDC", "price": 1.0, "carry": 0.045}],
        "holdings": [{"asset": "USDC", "location": "wallet", "quantity": 5e6}],
        "accounts": [{"id": "hl", "rulebook": "hyperliquid", "buffer": 0.2,
                      "risk": {"horizon_days": 1, "parametric": False}},
                     {"id": "deribit", "rulebook": "deribit-portfolio-margin", "margin_basis": "initial"}],
        "positions": [{"account": "hl", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                       "quantity": 10.0},
                      {"account": "hl", "instrument": "ETH-PERP", "underlying": "ETH", "kind": "perp",
                       "quantity": -300.0}, *options],
        "market": {"assets": ["BTC", "ETH", "USDC"], "volatility": {"BTC": 0.5, "ETH": 0.65, "USDC": 0.0},
                   "correlation": [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 1]]},
        "stress_scenarios": [{"name": "crash", "returns": {"BTC": -0.372, "ETH": -0.43}}]})


def test_compare_modes_reports_each_mode_and_calls_the_stress_hook(book):
    seen = []

    def hook(problem: allocator.Problem, result: allocator.Result) -> dict[str, float]:
        seen.append((len(problem.accounts), result.objective.total))
        return {"liquidated": 0.0, "sub_accounts": sum(a.parent is not None for a in problem.accounts)}

    table = compare_modes(book, stress=hook)
    assert list(table.index) == ["isolated", "cross", "portfolio"] and len(seen) == 3
    assert list(table["sub_accounts"]) == [4, 0, 0]
    assert list(table["accounts"]) == [6, 2, 2]
    assert table.loc["portfolio", "in_mode"] == "deribit"
    assert table.loc["portfolio", "kept"] == "hl: hyperliquid offers no portfolio margin"
    assert table.loc["cross", "cost"] > table.loc["portfolio", "cost"]  # portfolio nets the two options
    default = allocator.optimize(book)
    assert table.loc["portfolio", "cost"] == pytest.approx(default.objective.total, rel=1e-12)  # today's = portfolio
    assert table.loc["cross", "requirement"] == pytest.approx(sum(
        with_modes(book, deribit="cross").terms[k].requirement for k in book.account_ids), rel=1e-12)
    by_account = compare_modes(book, modes=("cross",), by_account=True)
    assert by_account.loc[("cross", "deribit"), "requirement"] == pytest.approx(
        with_modes(book, deribit="cross").terms["deribit"].requirement, rel=1e-12)


def test_in_mode_collapses_an_isolated_problem_first(fund):
    isolated = with_modes(fund, hyperliquid="isolated")
    problem, moved, kept = in_mode(isolated, "cross")
    assert problem.account_ids == fund.account_ids and moved == ["hyperliquid", "deribit"]
    assert kept == {"aave": "requirement given", "prime-broker": "no rulebook"}
    data = fund.model_dump(by_alias=True)
    assert collapse(expand(collapse(isolated.model_dump(by_alias=True))))["positions"] == data["positions"]


@pytest.mark.parametrize(("account", "changes", "location", "code"), [
    (0, {"margin_mode": "portfolio"}, "accounts[0].margin_mode", "mode_not_offered"),
    (2, {"margin_mode": "isolated"}, "accounts[2].margin_mode", "mode_not_offered"),  # Aave: no positions
    (3, {"margin_mode": "isolated"}, "accounts[3].margin_mode", "mode_needs_rulebook"),
    (1, {"margin_mode": "isolated", "requirement": 1e5}, "accounts[1].margin_mode", "conflicting_fields"),
    (1, {"parent": "hyperliquid"}, "accounts[1].parent", "bad_parent"),
])
def test_bad_modes_are_located(fund, account, changes, location, code):
    data = copy.deepcopy(fund.model_dump(by_alias=True))
    data["accounts"][account].update(changes)
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert (location, code) in {(issue.location, issue.code) for issue in caught.value.issues}


def test_a_sub_account_id_may_not_clash(fund):
    data = copy.deepcopy(fund.model_dump(by_alias=True))
    data["accounts"][0]["margin_mode"] = "isolated"
    data["holdings"].append({"asset": "USDC", "location": "hyperliquid/BTC-PERP", "quantity": 1.0})
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    assert ("accounts[0].margin_mode", "duplicate_id") in {(i.location, i.code) for i in caught.value.issues}


def test_cli_modes_prints_the_modes_side_by_side(tmp_path, book):
    import json

    from click.testing import CliRunner

    from allocator.cli import main

    problem, out = tmp_path / "book.json", tmp_path / "modes.csv"
    problem.write_text(json.dumps(book.model_dump(mode="json", by_alias=True)))
    run = CliRunner().invoke(main, ["modes", str(problem), "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "isolated" in run.output and "portfolio: deribit" in run.output
    assert out.read_text().splitlines()[0].startswith("mode,")
    bad = CliRunner().invoke(main, ["modes", str(problem), "-o", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2


def test_hedges_of_an_isolated_account_join_their_instruments_sub_account(book):
    """A hedge in a position's instrument joins that sub-account (one position at the venue); another instrument
    gets a sub-account of its own, where it offsets nothing. The plan replays with them open."""
    data = book.model_dump(by_alias=True)
    data["hedges"] = [{"account": "hl", "instrument": "ETH-PERP", "underlying": "ETH", "fee_bps": 4.5,
                       "max_notional": 1e6},
                      {"account": "hl", "instrument": "ETH-HEDGE", "underlying": "ETH", "fee_bps": 4.5,
                       "max_notional": 1e6, "margin_rate": 0.05}]
    data["accounts"][0]["margin_mode"] = "isolated"
    problem = allocator.Problem.model_validate(data)
    assert [h.account for h in problem.hedges] == ["hl/ETH-PERP", "hl/ETH-HEDGE"]
    assert problem.terms["hl/ETH-HEDGE"].requirement == 0
    result = allocator.optimize(problem)
    assert allocator.validate_plan(problem, result) == []
    table = compare_modes(problem, modes=("isolated", "cross"))
    assert list(table["accounts"]) == [7, 2]  # hl's wallet and three sub-accounts, deribit's wallet and two


def test_compare_modes_reports_each_mode_s_outcome_in_the_historical_episodes():
    """The issue's "stress outcome of each" mode: by default every row carries allocator.stress's episodes with
    cascades on that mode's optimal allocation, the same figures as a direct call."""
    problem = allocator.load_problem(PROBLEMS / "stress-desk.toml")
    table = allocator.compare_modes(problem, modes=("cross",))
    direct = allocator.stress(problem, allocator.optimize(problem)).summary
    row = table.loc["cross"]
    assert row["liquidations"] == int(direct["liquidated"].sum()) > 0
    assert row["episodes_liquidated"] == int((direct["liquidated"] > 0).sum())
    assert row["worst_loss"] == pytest.approx(float(direct["total_loss"].max()), rel=1e-12)
    assert "liquidations" not in allocator.compare_modes(problem, modes=("cross",), stress=None).columns
