"""Seeded random problems of any size, feasible by construction (benchmarks and property tests).

The generator first builds an allocation that covers every account (each asset's inventory split evenly over
the accounts where it is eligible), then sets requirements at ``tightness`` of that allocation's collateral
and concentration limits above its shares, so the problem it returns always has a feasible point.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from allocator.inputs.market import Market, RiskSettings
from allocator.inputs.problem import Problem

Topology = Literal["hub", "none", "complete"]


def generate_problem(n_assets: int = 10, n_wallets: int = 2, n_accounts: int = 4, *, seed: int = 0,
                     topology: Topology = "hub", route_density: float = 1.0, tightness: float = 0.7,
                     eligible_share: float = 0.5, limits: bool = True, posted_share: float = 0.3,
                     money: float = 1.0, risk: bool = False, scenarios: int | None = None,
                     factor_model: bool = False) -> Problem:
    """A random feasible problem.

    ``topology``: "hub" routes every wallet to every account and back (``route_density`` keeps that share of
    the wallet-account pairs, always keeping the first wallet's and at least one per wallet, so that every
    location can reach every other); "none" has no routes table (free moves);
    "complete" routes every location to every other. ``money`` multiplies every price (scaling tests).
    ``risk`` adds a market model, linear positions, stress scenarios and risk settings on every account, with
    requirements that the feasibility allocation also meets under the parametric and stress limits (and places
    no holding at an account where it is ineligible: it would move the account's equity with nowhere to go);
    ``scenarios`` sets the number of stress scenarios (default: 0 to 2); ``factor_model`` gives the market as
    loadings on two factors plus specific volatilities instead of volatilities and a correlation matrix.
    """
    rng = np.random.default_rng(seed)
    assets = [f"A{i:03d}" for i in range(n_assets)]
    wallets = [f"wallet-{w}" for w in range(n_wallets)]
    accounts = [f"acct-{k:02d}" for k in range(n_accounts)]
    stable = rng.random(n_assets) < 0.2
    price = np.where(stable, 1.0, np.exp(rng.uniform(np.log(0.5), np.log(1e5), n_assets))) * money
    value = np.exp(rng.uniform(np.log(1e4), np.log(1e7), n_assets)) * money
    carry = np.round(rng.uniform(0.0, 0.08, n_assets) * (rng.random(n_assets) < 0.7), 4)

    eligible = rng.random((n_accounts, n_assets)) < eligible_share
    for k in range(n_accounts):  # at least three eligible assets each
        eligible[k, rng.choice(n_assets, size=min(3, n_assets), replace=False)] = True
    base = np.round(np.where(stable, rng.uniform(0.0, 0.05, n_assets), rng.uniform(0.02, 0.5, n_assets)), 4)
    haircut = np.clip(base[None, :] + rng.uniform(0, 0.05, (n_accounts, n_assets)), 0, 0.95).round(4)

    # the allocation that proves feasibility: each asset split evenly over the accounts where it is eligible
    holders = eligible.sum(axis=0)
    split = np.where(eligible, value / np.maximum(holders, 1), 0.0)
    posted = (1 - haircut) * split
    collateral = posted.sum(axis=1)
    buffer = np.round(rng.uniform(0.0, 0.25, n_accounts), 3)
    requirement = tightness * collateral / (1 + buffer)
    extra: dict[str, object] = {}
    if risk:
        extra, requirement = _risk(rng, assets, price, split, haircut, collateral, buffer, tightness, scenarios,
                                   factor_model)

    holdings = []
    for a, asset in enumerate(assets):
        at_account = rng.random() < posted_share
        place = int(rng.integers(n_accounts if at_account else n_wallets))
        location = accounts[place] if at_account else wallets[place]
        if at_account and risk and not eligible[place, a]:
            # an ineligible asset moves an account's equity without counting as collateral, and with every
            # holding posted and no routes there may be nowhere to send it: keep it in a wallet
            location = wallets[place % n_wallets]
        holdings.append({"asset": asset, "location": location, "quantity": float(value[a] / price[a])})

    account_rows = []
    for k, name in enumerate(accounts):
        elig = np.flatnonzero(eligible[k])
        row: dict[str, object] = {"id": name, "requirement": float(requirement[k]), "buffer": float(buffer[k]),
                                  "haircuts": {assets[a]: float(haircut[k, a]) for a in elig}}
        if limits:
            chosen = [a for a in elig if rng.random() < 0.3]
            share = posted[k] / max(collateral[k], 1e-300)
            row["concentration"] = {assets[a]: float(min(1.0, round(max(share[a] + 0.05, rng.uniform(0.3, 0.9)), 4)))
                                    for a in chosen}
        yields = [a for a in elig if rng.random() < 0.3]
        row["yields"] = {assets[a]: float(round(rng.uniform(0.0, 0.06), 4)) for a in yields}
        account_rows.append(row)

    data: dict[str, object] = {"assets": [{"id": a, "price": float(p), "carry": float(c)}
                                          for a, p, c in zip(assets, price, carry, strict=True)],
                               "holdings": holdings, "accounts": account_rows,
                               **{k: v for k, v in extra.items() if k != "settings"}}
    for row, settings in zip(account_rows, extra.get("settings", []), strict=False):  # type: ignore[call-overload]
        row["risk"] = settings
    if topology != "none":
        data["routes"] = _routes(rng, wallets, accounts, topology, route_density)
        held = {row["location"] for row in holdings}
        data["locations"] = [{"id": wallet} for wallet in wallets if wallet not in held]  # routes name them
    return Problem.model_validate(data)


def _routes(rng: np.random.Generator, wallets: list[str], accounts: list[str], topology: Topology,
            density: float) -> list[dict[str, object]]:
    if topology == "complete":
        places = wallets + accounts
        pairs = [(a, b) for a in places for b in places if a != b]
    else:
        pairs = []
        for w, wallet in enumerate(wallets):
            linked = [a for a in accounts if w == 0 or rng.random() < density]
            linked = linked or [accounts[rng.integers(len(accounts))]]
            for account in linked:  # every wallet reaches an account, every account reaches wallet-0
                pairs += [(wallet, account), (account, wallet)]
    return [{"from": a, "to": b, "cost_bps": float(round(rng.uniform(0.5, 5.0), 2))} for a, b in pairs]


def _risk(rng: np.random.Generator, assets: list[str], price: np.ndarray, split: np.ndarray, haircut: np.ndarray,
          collateral: np.ndarray, buffer: np.ndarray, tightness: float,
          n_scenarios: int | None, factor_model: bool) -> tuple[dict[str, object], np.ndarray]:
    """Market (a random factor model), positions, stress scenarios and risk settings; and requirements that the
    feasibility allocation ``split`` meets under coverage, the parametric limit and every stress scenario."""
    n_accounts, n_assets = split.shape
    vol = np.asarray(np.round(rng.uniform(0.01, 1.0, n_assets), 4))  # rounded before use: the problem has these
    loadings = rng.normal(size=(n_assets, 2))
    covariance = loadings @ loadings.T + np.diag(rng.uniform(0.2, 1.0, n_assets))
    scale = np.sqrt(np.diag(covariance))
    correlation = np.round(covariance / np.outer(scale, scale), 6)
    np.fill_diagonal(correlation, 1.0)
    settings = [RiskSettings(horizon_days=float(rng.integers(1, 6)), confidence=float(rng.uniform(0.95, 0.995)))
                for _ in range(n_accounts)]
    exposure = np.zeros((n_accounts, n_assets))
    positions = []
    for k in range(n_accounts):
        for a in rng.choice(n_assets, size=min(2, n_assets), replace=False):
            notional = rng.uniform(-0.3, 0.3) * collateral[k]
            exposure[k, a] += notional
            positions.append({"account": f"acct-{k:02d}", "instrument": f"{assets[a]}-PERP-{k}",
                              "underlying": assets[a], "kind": "perp", "quantity": float(notional / price[a])})
    count = int(rng.integers(0, 3)) if n_scenarios is None else n_scenarios
    returns = np.round(rng.uniform(-0.3, 0.2, (count, n_assets)), 4)
    if factor_model:  # the same covariance, as vol * (loadings, specific) / scale
        market: dict[str, object] = {
            "assets": assets,
            "loadings": {a: np.round(vol[i] * loadings[i] / scale[i], 6).tolist() for i, a in enumerate(assets)},
            "specific_volatility": {a: float(np.round(vol[i] * np.sqrt(covariance[i, i] - loadings[i] @ loadings[i])
                                                      / scale[i], 6)) for i, a in enumerate(assets)}}
    else:
        market = {"assets": assets, "volatility": dict(zip(assets, vol.tolist(), strict=True)),
                  "correlation": correlation.tolist()}
    factor = Market.model_validate(market).factor()
    limit = collateral / (1 + buffer)
    for k, setting in enumerate(settings):
        sigma = np.sqrt(setting.horizon_days / 365) * np.linalg.norm(factor.T @ (split[k] + exposure[k]))
        stressed = [((1 - haircut[k]) * split[k] * (1 + r)).sum() + exposure[k] @ r for r in returns]
        limit[k] = min(limit[k], collateral[k] - setting.z * sigma, *stressed)
    scenarios = [{"name": f"stress-{s}", "returns": dict(zip(assets, r.tolist(), strict=True))}
                 for s, r in enumerate(returns)]
    extra: dict[str, object] = {"market": market, "positions": positions, "stress_scenarios": scenarios,
                                "settings": [s.model_dump() for s in settings]}
    return extra, np.maximum(tightness * limit, 0.0)
