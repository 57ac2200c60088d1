"""Unit tests per constraint family: set variable values by hand and read each labelled constraint's violation."""

from __future__ import annotations

import numpy as np
import pytest

import allocator
from allocator.program._layout import Layout
from allocator.program._model import Program
from allocator.program._numbers import Numbers
from allocator.solve._solvers import profile


@pytest.fixture()
def small():
    problem = allocator.Problem.model_validate({
        "assets": [{"id": "BTC", "price": 100.0}, {"id": "USDC", "price": 1.0, "carry": 0.05}],
        "holdings": [{"asset": "BTC", "location": "vault", "quantity": 10.0},
                     {"asset": "USDC", "location": "vault", "quantity": 1000.0}],
        "accounts": [{"id": "acct", "requirement": 700.0, "buffer": 0.1, "haircuts": {"BTC": 0.5, "USDC": 0.0},
                      "concentration": {"BTC": 0.6}, "yields": {"USDC": 0.02}}],
        "routes": [{"from": "vault", "to": "acct", "cost_bps": 10.0}, {"from": "acct", "to": "vault"}],
        "horizon_days": 365,
    })
    layout = Layout.from_problem(problem)
    program = Program(layout)
    numbers = Numbers.from_problem(problem, layout)
    scale = program.assign(numbers, profile("HIGHS"))
    return problem, layout, program, numbers, scale


def set_state(program, layout, scale, values: dict[tuple[str, str], float], moved: dict[tuple[str, str, str], float],
              prices: dict[str, float]):
    """Holdings and moves in currency, written into the variables in scaled units."""
    holding = np.zeros(layout.n_cells)
    for (asset, location), value in values.items():
        holding[layout.cell(layout.assets.index(asset), layout.locations.index(location))] = value / scale.money
    move = np.zeros(layout.n_move_slots)
    for m in range(layout.n_moves):
        edge = layout.move_edge[m]
        key = (layout.assets[layout.move_asset[m]], layout.locations[layout.edge_from[edge]],
               layout.locations[layout.edge_to[edge]])
        move[m] = moved.get(key, 0.0) / scale.money
    program.variables.holding.value = holding
    program.variables.move.value = move
    weights = {"BTC": 0.5, "USDC": 1.0}
    program.variables.collateral.value = np.array([sum(weights[a] * v for (a, loc), v in values.items()
                                                       if loc == "acct") / scale.account_money()[0]])


def violation(program, family: str) -> np.ndarray:
    return np.atleast_1d(program.family(family).constraint.violation())


def test_program_is_dpp_and_labelled(small):
    _, layout, program, _, _ = small
    assert program.problem.is_dpp()
    assert program.moves.is_dpp() and program.elastic.problem.is_dpp()
    assert program.family("coverage").labels == ("coverage[acct]",)
    assert program.family("concentration").labels == ("concentration[acct,BTC]",)
    assert "balance[BTC@vault]" in program.family("balance").labels


def test_balance(small):
    _, layout, program, _, scale = small
    # move 4 BTC (400) to the account: consistent state
    set_state(program, layout, scale, {("BTC", "vault"): 600, ("BTC", "acct"): 400, ("USDC", "vault"): 1000},
              {("BTC", "vault", "acct"): 400}, {})
    assert violation(program, "balance").max() == pytest.approx(0, abs=1e-12)
    # value appears from nowhere at the account
    set_state(program, layout, scale, {("BTC", "vault"): 1000, ("BTC", "acct"): 400, ("USDC", "vault"): 1000},
              {}, {})
    assert violation(program, "balance").max() * scale.money == pytest.approx(400)


def test_non_negative(small):
    _, layout, program, _, scale = small
    set_state(program, layout, scale, {("BTC", "vault"): -5}, {}, {})
    assert violation(program, "nonneg_holding").max() * scale.money == pytest.approx(5)


def test_coverage(small):
    _, layout, program, numbers, scale = small
    required = 700 * 1.1
    set_state(program, layout, scale, {("USDC", "acct"): required - 10}, {}, {})
    short = violation(program, "coverage")[0] * scale.account_money()[0]
    assert short == pytest.approx(10, rel=1e-6)  # the margin of 1e-9 of the money scale adds a hair
    set_state(program, layout, scale, {("USDC", "acct"): required + 10}, {}, {})
    assert violation(program, "coverage")[0] == 0


def test_collateral_value_applies_haircuts(small):
    _, layout, program, _, scale = small
    set_state(program, layout, scale, {("BTC", "acct"): 400, ("USDC", "acct"): 100}, {}, {})
    assert violation(program, "collateral").max() == pytest.approx(0, abs=1e-12)  # 0.5 * 400 + 100
    program.variables.collateral.value = np.array([500 / scale.account_money()[0]])  # haircut ignored
    assert violation(program, "collateral")[0] * scale.account_money()[0] == pytest.approx(200)


def test_concentration(small):
    _, layout, program, _, scale = small
    # BTC adjusted 0.5*1000 = 500 of collateral 600: share 0.83 > 0.6; cap 0.6 * 600 = 360
    set_state(program, layout, scale, {("BTC", "acct"): 1000, ("USDC", "acct"): 100}, {}, {})
    assert violation(program, "concentration")[0] * scale.account_money()[0] == pytest.approx(140)
    set_state(program, layout, scale, {("BTC", "acct"): 400, ("USDC", "acct"): 300}, {}, {})
    assert violation(program, "concentration")[0] == 0


def test_capital_cost_expression(small):
    _, layout, program, _, scale = small
    # 500 USDC posted: (0.05 - 0.02) * 500 = 15 per year; moved 500 at 10 bps = 0.5
    set_state(program, layout, scale, {("USDC", "acct"): 500, ("USDC", "vault"): 500, ("BTC", "vault"): 1000},
              {("USDC", "vault", "acct"): 500}, {})
    assert program.cost.value * scale.cost == pytest.approx(15.5)


def test_parameters_are_scaled_to_order_one(small):
    _, _, program, _, scale = small
    p = program.parameters
    assert scale.money == pytest.approx(2000.0)
    assert 0 < p.holdings.value.max() <= 1
    assert 0 < p.required.value.max() <= 1.0 + 1e-6  # in the account's own scale: its requirement or collateral
    assert np.abs(p.carry.value).max() == pytest.approx(1.0)
