"""Checks shared by the tests: paths, independent re-verification of a result, objective gaps."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

import allocator
from allocator.io.generate import generate_problem
from allocator.plan.validate import FUNDABLE
from allocator.venues.terms import AccountTerms

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "fixtures" / "problems"
#: The shipped problem files: every .toml and single-suffix .json (desk.json) in fixtures/problems. What the CLI
#: writes beside a problem (README's first command leaves desk.result.json there) is not one.
PROBLEM_FILES = sorted(path.name for path in PROBLEMS.iterdir()
                       if path.suffix in (".toml", ".json") and len(path.suffixes) == 1)


def assert_verified(problem: allocator.Problem, result: allocator.Result) -> None:
    """Everything a caller relies on, re-checked from the result alone (independently of the engine's own check)."""
    assert result.status == "optimal"
    rounding = 1e-12 * result.diagnostics.money_scale  # verify.ROUNDING: the only slack coverage has
    for row in result.accounts:
        assert row.collateral >= row.required - rounding, row
    # collateral recomputed from the targets, not taken from the result
    price = {a.id: a.price for a in problem.assets}
    held = defaultdict(float)
    for target in result.targets:
        assert target.quantity >= 0, target
        held[(target.asset, target.location)] += target.quantity
    for account in problem.accounts:
        terms = problem.terms[account.id]
        value = sum(_credit(terms, a, price[a] * held[(a, account.id)]) for a in terms.eligible)
        assert value >= terms.required - 2 * rounding, (account.id, value, terms.required)
        posted = {a: _credit(terms, a, price[a] * held[(a, account.id)]) for a in terms.eligible}
        for asset, limit in account.concentration.items():
            assert posted[asset] <= limit * value + 1e-9 * max(value, 1.0), (account.id, asset)
    # conservation of every asset
    total_before, total_after = defaultdict(float), defaultdict(float)
    for holding in problem.holdings:
        total_before[holding.asset] += holding.quantity
    for (asset, _), quantity in held.items():
        total_after[asset] += quantity
    for asset in set(total_before) | set(total_after):
        assert np.isclose(total_before[asset], total_after[asset], rtol=1e-9, atol=1e-12), asset
    _assert_risk_limits(problem, held, price, rounding)
    if not result.planned:  # solved with plan=False: targets only, no steps to replay
        assert result.plan == []
        return
    violations = allocator.validate_plan(problem, result)
    if result.plan_safe:
        assert violations == [], violations
    else:
        flagged = {step.step for step in result.plan if step.needs_funding}
        assert flagged and all(v.kind in FUNDABLE and v.step in flagged for v in violations), violations


def _credit(terms: AccountTerms, asset: str, value: float) -> float:
    """An account's credit for a posted value: its curve's exact formula, or (1 - haircut) * value."""
    if asset in terms.curves:
        return float(terms.curves[asset].value(max(value, 0.0)))
    return (1 - terms.eligible[asset]) * value


def _assert_risk_limits(problem: allocator.Problem, held: dict, price: dict, rounding: float) -> None:
    """The parametric and stress limits, recomputed from the targets with the problem's own numbers."""
    market = problem.market
    for account in problem.accounts:
        if account.risk is None:
            continue
        terms = problem.terms[account.id]
        collateral = sum(_credit(terms, a, price[a] * held[(a, account.id)]) for a in terms.eligible)
        exposure = {a: 0.0 for a in price}
        for position in problem.positions:
            if position.account == account.id:
                exposure[position.underlying] += position.quantity * price[position.underlying]
        options = any(p.kind == "option" and p.account == account.id for p in problem.positions)
        if market is not None and not options:  # options: delta exposure, checked by hand in test_options.py
            covariance = _annual_covariance(market) * account.risk.horizon_days / 365
            total = np.array([price[a] * held[(a, account.id)] + exposure[a] for a in market.assets])
            sigma = float(np.sqrt(max(total @ covariance @ total, 0.0)))
            assert collateral - account.risk.z * sigma >= terms.requirement - 1e-7 * max(collateral, 1.0) - rounding
        if options:
            continue  # option P&L needs repricing: test_options.py checks it against Black-76 by hand
        for scenario in problem.stress_scenarios:
            moved = sum(_credit(terms, a, price[a] * held[(a, account.id)] * (1 + scenario.returns.get(a, 0.0)))
                        for a in terms.eligible)
            pnl = sum(e * scenario.returns.get(a, 0.0) for a, e in exposure.items())
            assert moved + pnl >= terms.requirement - 1e-9 * max(collateral, 1.0) - rounding, scenario.name


def _annual_covariance(market: allocator.Market) -> np.ndarray:
    """From the problem's own fields: D C D, or B B' + diag(s^2) for a factor model (not market.covariance())."""
    if market.loadings is not None and market.specific_volatility is not None:
        loadings = np.array([market.loadings[a] for a in market.assets])
        specific = np.array([market.specific_volatility[a] for a in market.assets])
        return loadings @ loadings.T + np.diag(specific**2)
    if market.history is not None:  # estimated: the estimators are checked against pandas in test_estimate.py
        vol, correlation = market.moments
        return np.outer(vol, vol) * correlation
    assert market.volatility is not None and market.correlation is not None
    vol = np.array([market.volatility[a] for a in market.assets])
    return np.outer(vol, vol) * np.array(market.correlation)


def relative_gap(a: float, b: float, gross: float = 0.0) -> float:
    """|a - b| relative to the larger of them, or to ``gross`` (carry and transfer costs added without sign,
    for objectives near zero where gains and costs cancel)."""
    return abs(a - b) / max(abs(a), abs(b), gross, 1.0)


def objective_gap(result: allocator.Result, reference_objective: float) -> float:
    """The library's objective against an independent one, relative to the gross cost (see relative_gap); a
    difference within 1e-9 of the money scale (the verification's absolute tolerance, reliability.md) is no gap:
    on a near-zero objective the coverage margins alone differ by that much."""
    if abs(result.objective.total - reference_objective) <= 1e-9 * result.diagnostics.money_scale:
        return 0.0
    gross = abs(result.objective.carry) + abs(result.objective.transfer)
    return relative_gap(result.objective.total, reference_objective, gross)


def random_problems(max_assets: int = 12, max_wallets: int = 3, max_accounts: int = 5,
                    max_tightness: float = 0.99, risk: bool = False,
                    scale_features: bool = False) -> st.SearchStrategy[allocator.Problem]:
    """Random feasible problems of every topology, for the property tests (``risk``: with risk limits;
    ``scale_features``: also factor-model markets and enough stress scenarios for the working set)."""
    extra = {"factor_model": st.booleans(), "scenarios": st.sampled_from([None, 5, 30])} if scale_features else {}
    return st.builds(
        generate_problem,
        n_assets=st.integers(2, max_assets), n_wallets=st.integers(1, max_wallets),
        n_accounts=st.integers(1, max_accounts), seed=st.integers(0, 2**32 - 1),
        topology=st.sampled_from(["hub", "none", "complete"]), route_density=st.floats(0.3, 1.0),
        tightness=st.floats(0.1, max_tightness), eligible_share=st.floats(0.2, 0.9), limits=st.booleans(),
        posted_share=st.floats(0.0, 1.0), risk=st.just(risk), **extra,
    )


def usdc_in_vault(quantity: float) -> str:
    """TOML: the asset USDC at 1.0 and ``quantity`` of it held in the vault (written like ``1_000_000.0``)."""
    return f"""\
[[assets]]
id = "USDC"
price = 1.0

[[holdings]]
asset = "USDC"
location = "vault"
quantity = {quantity:_}
"""


#: A problem with two located errors (a typo'd field and a haircut outside [0, 1)), for the CLI's exit 2.
BAD_PROBLEM = 'currency = "USD"\n\n' + usdc_in_vault(1e6) + """
[[accounts]]
id = "acct"
requirement = 500_000.0
bufer = 0.1                     # typo for buffer
haircuts = { USDC = 1.2 }       # not in [0, 1)
"""


class HighsRuns:
    """Every HiGHS run's column count and dual edge weights, as the run starts (a spy on ``HighsLP._run``: the
    real runs, nothing replaced)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from allocator.solve._highs import EDGE_WEIGHTS, HighsLP, _value

        self.seen: list[tuple[int, int]] = []
        run = HighsLP._run

        def spy(lp: HighsLP, *args: Any) -> Any:
            self.seen.append((lp.highs.getNumCol(), _value(lp.highs.getOptionValue(EDGE_WEIGHTS))))
            return run(lp, *args)

        monkeypatch.setattr(HighsLP, "_run", spy)

    @property
    def weights(self) -> list[int]:
        return [weights for _, weights in self.seen]
