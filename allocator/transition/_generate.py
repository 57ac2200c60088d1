"""Seeded random transition problems of any size (benchmarks): a feasible single-period problem from
:func:`allocator.io.generate.generate_problem` plus liquidity data, venues, route delays and capacities, a schedule.

Every asset gets an ADV of 5 to 50 times the desk's holding of it, an annual volatility (0.3 to 1.0; 0.01 for the
stablecoin-like assets priced at 1), an impact coefficient of 0.3 to 1 and a spread of 1 to 10 bps. Every wallet
is a venue for every asset. Route delays are 0, 0.5, 1, 2 or 3 hours; a third of the routes have a capacity of a
tenth of the book per period. With the default 48 hourly periods and 5% participation the generator's problems
are feasible (the tests check it for the sizes they use); a shorter schedule may not be.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.inputs.problem import Problem
from allocator.io.generate import generate_problem


def generate_transition(n_assets: int = 20, n_accounts: int = 4, n_periods: int = 24, *, n_wallets: int = 2,
                        seed: int = 0, tightness: float = 0.7, participation: float = 0.05,
                        eligible_share: float = 0.5, venue_assets: int | None = None,
                        restrict_routes: bool = False) -> Problem:
    """A random transition problem. ``restrict_routes``: a route into an account carries only the assets it
    accepts, a route out of one only those it accepts or holds (as operations would set them up; the program is
    then much smaller). ``venue_assets`` limits each venue to that many random assets (None: all)."""
    base = generate_problem(n_assets, n_wallets, n_accounts, seed=seed, topology="hub", tightness=tightness,
                            limits=False, eligible_share=eligible_share)
    rng = np.random.default_rng(seed + 1)
    data: dict[str, Any] = base.model_dump(by_alias=True)
    held: dict[str, float] = {}
    price = {a["id"]: a["price"] for a in data["assets"]}
    for holding in data["holdings"]:
        held[holding["asset"]] = held.get(holding["asset"], 0.0) + holding["quantity"] * price[holding["asset"]]
    for asset in data["assets"]:
        stable = asset["price"] == 1.0
        asset["adv"] = float(max(held.get(asset["id"], 0.0), 1e3) * rng.uniform(5, 50))
        asset["volatility"] = 0.01 if stable else float(round(rng.uniform(0.3, 1.0), 3))
        asset["impact"] = float(round(rng.uniform(0.3, 1.0), 3))
        asset["spread_bps"] = float(round(rng.uniform(1.0, 10.0), 2))
    book = sum(held.values())
    ids = [a["id"] for a in data["assets"]]
    accepts = {k["id"]: set(k["haircuts"]) for k in data["accounts"]}
    held_at: dict[str, set[str]] = {k: set() for k in accepts}
    for holding in data["holdings"]:
        held_at.get(holding["location"], set()).add(holding["asset"])
    for route in data["routes"]:
        route["delay_hours"] = float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0]))
        if rng.random() < 1 / 3:
            route["capacity"] = float(book / 10)
        if restrict_routes:
            account = route["to"] if route["to"] in accepts else route["from"]
            listed = accepts[account] | (held_at[account] if account == route["from"] else set())
            route["assets"] = [a for a in ids if a in listed]
    wallets = sorted({h["location"] for h in data["holdings"] if h["location"].startswith("wallet")}
                     | {r["from"] for r in data["routes"] if r["from"].startswith("wallet")})
    data["venues"] = [{"location": w, "fee_bps": float(round(rng.uniform(1.0, 10.0), 2)),
                       "assets": ids if venue_assets is None else
                       sorted(rng.choice(ids, size=min(max(venue_assets, 2), len(ids)), replace=False).tolist())}
                      for w in wallets]
    data["schedule"] = {"periods": n_periods, "period_hours": 1.0, "participation": participation}
    return Problem.model_validate(data)
