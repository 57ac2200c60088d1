"""Problem.route_rates looked up per route (inputs/routes.py) equals the table written out per asset."""

from __future__ import annotations

import pytest
from helpers import PROBLEMS

import allocator
from allocator.io.generate import generate_problem


def _written_out(problem: allocator.Problem) -> dict[tuple[str, str, str], float]:
    """The table as it was built before: every (route, asset), the last route listing an asset winning."""
    return {(route.from_, route.to, asset): route.cost_bps / 1e4
            for route in problem.routes or () for asset in (route.assets or problem.asset_ids)}


@pytest.mark.parametrize("problem", [*(allocator.load_problem(p) for p in sorted(PROBLEMS.glob("*.toml"))
                                       if allocator.load_problem(p).routes is not None),
                                     generate_problem(30, 2, 6, seed=4, route_density=0.6),
                                     generate_problem(20, 3, 4, seed=9, topology="hub")],
                         ids=lambda p: f"{len(p.asset_ids)}x{len(p.accounts)}")
def test_route_rates_equal_the_written_out_table(problem: allocator.Problem) -> None:
    rates, table = problem.route_rates, _written_out(problem)
    assert rates is not None
    assert dict(rates) == table and len(rates) == len(table)
    for source in problem.locations:
        for destination in problem.locations:
            for asset in problem.asset_ids:
                key = (source, destination, asset)
                assert (key in rates) == (key in table)
                if key in table:
                    assert rates[key] == table[key]


def test_a_route_with_an_asset_list_allows_those_assets_only() -> None:
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 1.0}, {"id": "USDC", "price": 1.0}],
        "holdings": [{"asset": "USDC", "location": "w", "quantity": 1.0}],
        "accounts": [{"id": "a", "requirement": 0.5, "haircuts": {"USDC": 0.0}}],
        "routes": [{"from": "w", "to": "a", "cost_bps": 1.0, "assets": ["USDC"]},
                   {"from": "a", "to": "w", "cost_bps": 5.0}],
    })
    rates = problem.route_rates
    assert rates is not None
    assert rates[("w", "a", "USDC")] == pytest.approx(1e-4) and rates[("a", "w", "BTC")] == pytest.approx(5e-4)
    assert ("w", "a", "BTC") not in rates and ("w", "w", "USDC") not in rates
    with pytest.raises(KeyError):
        rates[("w", "a", "BTC")]
