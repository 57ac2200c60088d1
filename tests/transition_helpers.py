"""Small transition problems for the tests, with numbers simple enough to check by hand."""

from __future__ import annotations

import copy
from typing import Any

import allocator

#: One wallet with 100 BTC (10M USD), one exchange account needing 5M USD of collateral, a venue at the wallet
#: that trades BTC for USDC and one route (2 hours, 2M USD per hour) from the wallet to the exchange.
TINY: dict[str, Any] = {
    "horizon_days": 30,
    "schedule": {"periods": 6, "period_hours": 1.0, "participation": 0.1},
    "assets": [
        {"id": "BTC", "price": 100_000.0, "adv": 1e9, "volatility": 0.5, "impact": 1.0, "spread_bps": 2.0},
        {"id": "USDC", "price": 1.0, "carry": 0.04, "adv": 1e10, "volatility": 0.01, "impact": 0.1,
         "spread_bps": 1.0},
    ],
    "holdings": [{"asset": "BTC", "location": "wallet", "quantity": 100.0}],
    "accounts": [{"id": "exchange", "requirement": 5_000_000.0, "haircuts": {"BTC": 0.6, "USDC": 0.0}}],
    "venues": [{"location": "wallet", "assets": ["BTC", "USDC"], "fee_bps": 10.0}],
    "routes": [{"from": "wallet", "to": "exchange", "cost_bps": 1.0, "delay_hours": 2.0, "capacity": 2_000_000.0}],
}


def tiny(**changes: Any) -> allocator.Problem:
    """TINY with top-level fields replaced and ``schedule``/``routes[0]`` fields updated (dicts merge)."""
    data = copy.deepcopy(TINY)
    for key, value in changes.items():
        if key in ("schedule",) and isinstance(value, dict):
            data[key].update(value)
        elif key == "route" and isinstance(value, dict):
            data["routes"][0].update(value)
        else:
            data[key] = value
    return allocator.Problem.model_validate(data)


MARKET = {"assets": ["BTC", "USDC"], "volatility": {"BTC": 0.5, "USDC": 0.01}, "correlation": [[1, 0], [0, 1]]}
CRASH = [{"name": "crash", "returns": {"BTC": -0.5}}]


def with_risk(risk: dict[str, Any] | None, scenarios: list[dict[str, Any]] | None = None, **changes: Any
              ) -> allocator.Problem:
    """TINY over 12 hours (100 BTC in a wallet; the exchange needs 5M, BTC at a 60% haircut), with a market."""
    data = copy.deepcopy(TINY)
    data["schedule"]["periods"] = 12
    data["market"] = MARKET
    if risk is not None:
        data["accounts"][0]["risk"] = risk
    data["stress_scenarios"] = scenarios or []
    data.update(changes)
    return allocator.Problem.model_validate(data)


def floors_of(problem: allocator.Problem) -> tuple[Any, Any, Any, tuple[Any, Any], Any]:
    """(periods, data, departures, (source, leaves), floors) of ``problem``'s transition: the exact-floor repair
    (transition/_floors.py) with every move that leaves a cell, for tests that call ``Floors.hold`` directly."""
    import numpy as np

    from allocator.transition._data import TransitionData
    from allocator.transition._floors import Floors
    from allocator.transition._periods import Periods

    periods = Periods.from_problem(problem)
    data = TransitionData.from_problem(problem, periods)
    departures = periods.departures()[:, :periods.n_moves].tocsc()
    source = np.asarray(departures.argmax(axis=0)).ravel()
    leaves = np.asarray(departures.sum(axis=0)).ravel() > 0
    return periods, data, departures, (source, leaves), Floors.of(periods, data, source, leaves)


def landing(**changes: Any) -> allocator.Problem:
    """Two 12-hour periods and a 1-day horizon (docs/transition.md, "Cost"): an account ``acct`` that pays 10% on
    USDC (USDT earns nothing, ineligible) holds 10M USDT and 0.5M USDC and needs 10M of USDC; its own venue trades
    USDT for USDC (bought value lands at the end of the period); a wallet holds 6M USDC at 4% carry, with an
    18-hour route to the account (departing in period 1, it lands at hour 18, half-way through period 2).
    ``changes`` replace top-level fields."""
    data: dict[str, Any] = {
        "horizon_days": 1.0,
        "schedule": {"periods": 2, "period_hours": 12.0, "participation": 0.5},
        "assets": [{"id": "USDT", "price": 1.0, "adv": 1e9, "volatility": 0.01, "impact": 0.1, "spread_bps": 0.0},
                   {"id": "USDC", "price": 1.0, "carry": 0.04, "adv": 1e9, "volatility": 0.01, "impact": 0.1,
                    "spread_bps": 0.0}],
        "holdings": [{"asset": "USDT", "location": "acct", "quantity": 10_000_000.0},
                     {"asset": "USDC", "location": "acct", "quantity": 500_000.0},
                     {"asset": "USDC", "location": "wallet", "quantity": 6_000_000.0}],
        "accounts": [{"id": "acct", "requirement": 10_000_000.0, "haircuts": {"USDC": 0.0},
                      "yields": {"USDC": 0.10}}],
        "venues": [{"location": "acct", "assets": ["USDT", "USDC"], "fee_bps": 1.0}],
        "routes": [{"from": "wallet", "to": "acct", "assets": ["USDC"], "cost_bps": 1.0, "delay_hours": 18.0}],
        **changes,
    }
    return allocator.Problem.model_validate(data)
