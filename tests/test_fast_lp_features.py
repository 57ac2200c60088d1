"""The compile-free linear path and the features added beside it (issue 16 after margin modes and hedges): hedges
are solved on the linear path with the cvxpy program's optimum (issue 13; more in tests/test_fast_lp_hedges.py);
net-delta limits send a problem to the cvxpy program (program/_lp/support.py), so ``backend="auto"`` gives the
cvxpy program's answer and ``backend="highs"`` is refused; isolated margin accounts, expanded into ordinary
accounts, are solved on the linear path with the cvxpy program's optimum.

The size threshold of ``backend="auto"`` is set to 0 here, so that these small books would take the linear path if
their features allowed it (the choice is then made by the features alone)."""

from __future__ import annotations

import pytest
from helpers import PROBLEMS, assert_verified, relative_gap

import allocator
from allocator.io.generate import generate_problem
from allocator.program._layout import Layout
from allocator.program._lp.support import unsupported


@pytest.fixture(scope="module")
def book() -> dict:
    """A generated hub-and-spoke book (40 assets, 2 wallets, 6 accounts; linear) as data."""
    return generate_problem(40, 2, 6, seed=3, topology="hub").model_dump(by_alias=True)


def _with_hedges(data: dict) -> allocator.Problem:
    """One short-paying perp per account on the account's own asset ``A00k`` (funding pays shorts: every hedge is
    traded, so the hedges change the optimum)."""
    hedges = [{"account": account["id"], "instrument": f"A{k:03d}-PERP", "underlying": f"A{k:03d}",
               "funding_rate": 0.05, "fee_bps": 3.0, "max_notional": 1e6, "margin_rate": 0.05}
              for k, account in enumerate(data["accounts"])]
    return allocator.Problem.model_validate({**data, "hedges": hedges})


def _same(reference: allocator.Result, other: allocator.Result) -> None:
    gross = abs(reference.objective.carry) + abs(reference.objective.transfer) + abs(reference.objective.hedging)
    assert relative_gap(reference.objective.total, other.objective.total, gross) <= 1e-9
    assert other.objective.hedging == pytest.approx(reference.objective.hedging, rel=1e-9, abs=1e-9)
    assert {h.instrument: h.notional for h in other.hedges} == pytest.approx(
        {h.instrument: h.notional for h in reference.hedges}, rel=1e-9, abs=1e-6)
    assert {(t.asset, t.location): t.quantity for t in other.targets} == pytest.approx(
        {(t.asset, t.location): t.quantity for t in reference.targets}, rel=1e-9, abs=1e-9)


def test_a_hedged_book_takes_the_linear_path_and_gets_the_cvxpy_answer(book):
    problem = _with_hedges(book)
    assert unsupported(Layout.from_problem(problem)) == []
    assert allocator.Allocator(allocator.Problem.model_validate(book)).backend == "highs"  # the same book, unhedged
    auto = allocator.Allocator(problem, backend="auto")
    assert auto.backend == "highs"
    result = auto.solve()
    assert len(result.hedges) == len(problem.hedges)  # all traded: the hedges are part of the optimum
    _same(allocator.Allocator(problem, backend="cvxpy").solve(), result)
    assert_verified(problem, result)


def test_a_net_delta_limit_takes_the_cvxpy_program_and_holds(book):
    """A band on the asset acct-04 hedges and is posted 4.1M of at the unhedged optimum: more than its hedge can
    offset, so the band binds, and it is never dropped."""
    accounts = [dict(a, max_net_delta={"A004": 1.5e6}) if a["id"] == "acct-04" else a for a in book["accounts"]]
    problem = _with_hedges({**book, "accounts": accounts})
    assert unsupported(Layout.from_problem(problem)) == ["net-delta limits (max_net_delta)"]
    with pytest.raises(allocator.SolverError, match="net-delta"):
        allocator.Allocator(problem, backend="highs")
    result = allocator.Allocator(problem, backend="auto").solve()
    _same(allocator.Allocator(problem, backend="cvxpy").solve(), result)
    (row,) = [r for r in result.deltas if r.owner == "acct-04" and r.underlying == "A004"]
    assert row.limit == 1.5e6 and row.after == pytest.approx(1.5e6, rel=1e-9)
    assert "delta[acct-04,A004]:long" in {b.label for b in result.binding}
    assert_verified(problem, result)


def test_isolated_accounts_are_solved_on_the_linear_path_with_the_cvxpy_optimum():
    """A Hyperliquid account in isolated mode (one sub-account per perp, free routes to its wallet) beside a
    Deribit account: ordinary accounts to the LP, the same optimum as the cvxpy program's."""
    options = [p.model_dump(by_alias=True) for p in allocator.load_problem(PROBLEMS / "fund.toml").positions
               if p.account == "deribit"]
    problem = allocator.Problem.model_validate({
        "as_of": "2025-02-11", "horizon_days": 30,
        "assets": [{"id": "BTC", "price": 95057.54}, {"id": "ETH", "price": 2589.82},
                   {"id": "USDC", "price": 1.0, "carry": 0.045}],
        "holdings": [{"asset": "USDC", "location": "wallet", "quantity": 5e6},
                     {"asset": "BTC", "location": "wallet", "quantity": 10.0}],
        "accounts": [{"id": "hl", "rulebook": "hyperliquid", "buffer": 0.2, "margin_mode": "isolated"},
                     {"id": "deribit", "rulebook": "deribit-portfolio-margin", "margin_basis": "initial"}],
        "positions": [{"account": "hl", "instrument": "BTC-PERP", "underlying": "BTC", "kind": "perp",
                       "quantity": 10.0},
                      {"account": "hl", "instrument": "ETH-PERP", "underlying": "ETH", "kind": "perp",
                       "quantity": -300.0}, *options]})
    assert {"hl/BTC-PERP", "hl/ETH-PERP"} <= {a.id for a in problem.accounts}
    assert unsupported(Layout.from_problem(problem)) == []
    fast = allocator.Allocator(problem, backend="auto")
    assert fast.backend == "highs"
    result = fast.solve()
    reference = allocator.Allocator(problem, backend="cvxpy").solve()
    _same(reference, result)
    assert [a.shadow_price for a in result.accounts] == pytest.approx(
        [a.shadow_price for a in reference.accounts], rel=1e-7, abs=1e-12)
    assert {a.id: a.parent for a in result.accounts} == {a.id: a.parent for a in reference.accounts}
    assert sorted(b.label for b in result.binding) == sorted(b.label for b in reference.binding)
    assert {b.label: b.shadow_price for b in result.binding} == pytest.approx(
        {b.label: b.shadow_price for b in reference.binding}, rel=1e-7, abs=1e-12)
    assert_verified(problem, result)
