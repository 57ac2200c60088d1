"""A fuzzer over mutated problem files: every input is either accepted and verified, or rejected with located
issues; no other exception escapes. A few hundred cases in CI (derandomized), thousands in the slow run."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import random
import tomllib
from typing import Any

import pytest
from helpers import PROBLEMS, assert_verified
from hypothesis import given, settings
from hypothesis import strategies as st

import allocator
from allocator.io.generate import generate_problem
from allocator.transition import TransitionInfeasibleError, plan_transition, validate_transition

#: Cases per run: a few hundred in CI, set FUZZ_EXAMPLES=10000 for the slow run.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 200))

def _with_features() -> dict:
    """perps-risk.toml plus a rulebook account, haircut models (tiered, volatility) and a portfolio limit."""
    data = tomllib.loads((PROBLEMS / "perps-risk.toml").read_text())
    data["accounts"].append({"id": "hl", "rulebook": "hyperliquid", "buffer": 0.2})
    data["positions"].append({"account": "hl", "instrument": "BTC-PERP-HL", "underlying": "BTC", "kind": "perp",
                              "quantity": 5.0})
    data["accounts"][1]["haircut_models"] = {
        "SOL": {"model": "volatility", "confidence": 0.99, "horizon_days": 2.0, "floor": 0.05},
        "BTC": {"model": "tiered", "tiers": [{"upto": 2e6, "weight": 0.9}, {"weight": 0.6}]}}
    data["accounts"][1]["haircuts"].pop("BTC")
    data["portfolio"] = {"horizon_days": 1.0, "confidence": 0.95}
    return data


BASES = [tomllib.loads((PROBLEMS / "desk.toml").read_text()),
         generate_problem(6, 2, 3, seed=1).model_dump(by_alias=True),
         generate_problem(5, 1, 2, seed=2, topology="none").model_dump(by_alias=True),
         _with_features(),
         tomllib.loads((PROBLEMS / "derisk.toml").read_text())]  # liquidity: schedule, venues, ADV, delays

ODD_VALUES: list[Any] = [math.nan, math.inf, -math.inf, -1.0, 0.0, 1.0, 0.999999, 1e20, 1e-300, -0.0, 10**30,
                         "1,000", "1_000", "100", "", " BTC", True, None, [], {}, {"x": 1}, [1, 2], "custody-a",
                         "BTC", "USDC"]


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += paths(value, (*prefix, index))
    return out


def parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def mutate(data: dict, rng: random.Random) -> None:
    path = rng.choice(paths(data)[1:])
    holder, last = parent(data, path), path[-1]
    kind = rng.randrange(6)
    if kind <= 2:  # a strange value
        holder[last] = copy.deepcopy(rng.choice(ODD_VALUES))  # never share a list or dict
    elif kind == 3:  # a missing field or element
        del holder[last]
    elif kind == 4 and isinstance(holder, dict):  # a misspelt extra field
        holder[f"{last}x"] = holder[last]
    elif kind == 4:  # a duplicated element
        holder.append(json.loads(json.dumps(holder[last])))
    elif isinstance(holder[last], (int, float)) and not isinstance(holder[last], bool):  # a nearby number
        holder[last] = holder[last] * rng.choice([-1.0, 0.0, 0.5, 2.0, 1e6, 1e-6]) + rng.choice([0.0, 1.0, -1.0])
    else:
        holder[last] = copy.deepcopy(rng.choice(ODD_VALUES))  # never share a list or dict


def check(data: dict) -> str:
    try:
        problem = allocator.Problem.model_validate(data)
    except allocator.InputError as error:
        assert error.issues
        for issue in error.issues:
            assert issue.code and issue.message
            assert issue.location or issue.code in ("scale_range", "not_a_table"), issue
        return "rejected"
    try:
        result = allocator.optimize(problem)
    except allocator.InfeasibleError as error:
        assert error.diagnosis.shortfalls
        outcome = "infeasible"
    except allocator.SolverError:
        outcome = "solver"
    else:
        assert_verified(problem, result)
        outcome = "verified"
    if problem.schedule is not None:  # trades at venues may cover what moves alone cannot (derisk.toml)
        return check_transition(problem)
    return outcome


def check_transition(problem: allocator.Problem) -> str:
    """A problem with a schedule is also planned over time: a schedule that replays within every limit, a
    diagnosed infeasibility, a located input error (a collateral curve, which the transition does not take) or a
    typed solver error."""
    try:
        result = plan_transition(problem)
    except TransitionInfeasibleError as error:
        assert error.diagnosis.shortfalls
        return "transition infeasible"
    except allocator.InputError as error:
        assert all(issue.location and issue.code for issue in error.issues)
        return "transition rejected"
    except allocator.SolverError:
        return "solver"
    assert validate_transition(problem, result) == []
    return "transition verified"


@settings(max_examples=FUZZ_EXAMPLES)
@given(st.integers(0, len(BASES) - 1), st.integers(1, 3), st.randoms(use_true_random=False))
def test_mutated_problem_is_verified_or_rejected_with_located_issues(base, count, rng):
    data = json.loads(json.dumps(BASES[base]))
    for _ in range(count):
        mutate(data, rng)
    check(data)


@settings(max_examples=FUZZ_EXAMPLES // 3)
@given(st.integers(0, len(BASES) - 1), st.randoms(use_true_random=False))
def test_mutated_json_text_is_verified_or_rejected(base, rng):
    data = json.loads(json.dumps(BASES[base]))
    mutate(data, rng)
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return
    try:
        problem = allocator.Problem.model_validate_json(text)
    except allocator.InputError as error:
        assert error.issues
        return
    with contextlib.suppress(allocator.InfeasibleError, allocator.SolverError):
        assert_verified(problem, allocator.optimize(problem))


def test_regression_extreme_spread_is_exact_or_a_typed_error():
    """Found by the fuzzer: one 50-million-BTC holding makes the book $4.75T; the other assets are a millionth of
    it. The answer must be exact for every asset and account, or a typed error; never off by a few units."""
    data = json.loads(json.dumps(BASES[0]))
    next(h for h in data["holdings"] if h["asset"] == "BTC")["quantity"] = 5e7
    assert check(data) in ("verified", "solver", "infeasible")


@pytest.mark.parametrize("field, value", [
    ("positions", 1.0), ("stress_scenarios", [[1, 2]]),
    ("market", {"assets": 1.0, "volatility": [], "correlation": 2}),
    ("stress_scenarios", [{"name": "x", "returns": 3.0}]),
    ("market", {"assets": [[1]], "volatility": {}, "correlation": []}),
], ids=["positions-float", "scenario-list", "market-scalars", "returns-float", "market-nested"])
def test_regression_malformed_risk_tables_are_input_errors(field, value):
    """Found by the slow fuzz run: malformed risk tables made the cross-field checks raise TypeError."""
    data = json.loads(json.dumps(BASES[1]))
    data[field] = value
    assert check(data) == "rejected"


def test_regression_free_loops_through_the_hub_create_nothing():
    """Found by the slow fuzz run (2026-11-24): with BTC repriced to 0.999999, Clarabel's answer carried large
    free BTC loops through the virtual hub; cancelling them left float residue that created 1.5e-7 BTC. The hub
    is now balanced again after the cycles are cancelled."""
    data = _with_features()
    data["assets"][0]["price"] = 0.999999
    problem = allocator.Problem.model_validate(data)
    assert_verified(problem, allocator.optimize(problem))


def test_regression_venue_assets_without_an_asset_list_are_input_errors():
    """Found by the fuzzer once it mutated transition problems (2026-11-24, third session): with `assets = []`
    the venues' traded assets made the liquidity checks raise StopIteration instead of an InputError."""
    data = json.loads(json.dumps(BASES[4]))
    data["assets"] = []
    assert check(data) == "rejected"


def test_regression_a_delay_beyond_any_schedule_never_arrives():
    """Found by the same run: periods of 1e-300 hours made every delay a lag of 1e300 periods and overflowed the
    lag computation (OverflowError); such a move now simply cannot arrive within the schedule."""
    data = json.loads(json.dumps(BASES[4]))
    data["schedule"]["period_hours"] = 1e-300
    assert check(data) in ("transition verified", "transition infeasible")
