"""The bad-input catalogue: every malformed problem is rejected, located and coded, before any solver call.

Each case starts from ``fixtures/problems/desk.toml`` (8 assets, 23 holdings, 4 accounts, 16 routes), changes one
thing, and checks that building the :class:`allocator.Problem` raises :class:`allocator.InputError` with an issue at
the exact location (``accounts[0].haircuts.SOL``) and with a stable code.

desk.toml, for reading the locations below:
    assets    0 BTC, 1 ETH, 2 stETH, 3 SOL, 4 USDC, 5 USDT, 6 BNB, 7 USTB (every one of them is held somewhere)
    holdings  0 BTC@custody-a ... 22 USTB@prime-broker
    accounts  0 cex-perps (haircuts BTC ETH SOL USDC USDT; concentration BTC SOL; yields USDC)
              1 deribit-options, 2 aave-loan, 3 prime-broker (accepts all eight assets)
    routes    0 custody-a -> cex-perps ... 12 custody-b -> aave-loan (assets ETH stETH USDC USDT) ... 15
"""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cvxpy as cp
import pandas as pd
import pytest
from helpers import usdc_in_vault

import allocator
import allocator.solve._engine

PROBLEMS = Path(__file__).resolve().parents[1] / "fixtures" / "problems"
DESK_TOML = (PROBLEMS / "desk.toml").read_text(encoding="utf-8")
BASE: dict[str, Any] = tomllib.loads(DESK_TOML)


# ---------------------------------------------------------------------------------------------------------------
# helpers: edit a copy of the base problem at a location written the way the issues write it
# ---------------------------------------------------------------------------------------------------------------

def _path(location: str) -> list[str | int]:
    """``accounts[0].haircuts.SOL`` -> ``["accounts", 0, "haircuts", "SOL"]`` (independent of the package)."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", location):
        parts.append(int(index) if index else name)
    return parts


def _at(data: Any, parts: list[str | int]) -> Any:
    """What ``parts`` (``_path``) lead to in ``data``."""
    for part in parts:
        data = data[part]
    return data


def put(location: str, value: Any) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        *head, last = _path(location)
        _at(data, head)[last] = value
    return edit


def drop(location: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        *head, last = _path(location)
        del _at(data, head)[last]
    return edit


def append(location: str, item: Any) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        _at(data, _path(location)).append(copy.deepcopy(item))
    return edit


def append_copy(location: str, index: int) -> Callable[[dict], None]:
    """Append a copy of ``location[index]`` to the same list (a duplicate)."""
    def edit(data: dict) -> None:
        target = _at(data, _path(location))
        target.append(copy.deepcopy(target[index]))
    return edit


def both(*edits: Callable[[dict], None]) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        for one in edits:
            one(data)
    return edit


def edited(*edits: Callable[[dict], None]) -> dict:
    data = copy.deepcopy(BASE)
    for one in edits:
        one(data)
    return data


def rejected(data: dict) -> allocator.InputError:
    with pytest.raises(allocator.InputError) as caught:
        allocator.Problem.model_validate(data)
    return caught.value


def found(error: allocator.InputError) -> list[tuple[str, str]]:
    return [(issue.location, issue.code) for issue in error.issues]


def issue_at(error: allocator.InputError, location: str, code: str) -> allocator.InputIssue:
    matches = [issue for issue in error.issues if issue.location == location and issue.code == code]
    assert matches, f"no issue ({location!r}, {code!r}); got {found(error)}"
    return matches[0]


# ---------------------------------------------------------------------------------------------------------------
# the valid base really is valid (otherwise every case below would prove nothing)
# ---------------------------------------------------------------------------------------------------------------

def test_base_problem_is_valid():
    problem = allocator.Problem.model_validate(copy.deepcopy(BASE))
    assert problem.asset_ids == ["BTC", "ETH", "stETH", "SOL", "USDC", "USDT", "BNB", "USTB"]
    assert problem.account_ids == ["cex-perps", "deribit-options", "aave-loan", "prime-broker"]
    assert len(problem.holdings) == 23 and len(problem.routes) == 16


def test_boundary_values_are_accepted():
    """The closed ends of every interval are allowed: the checks below reject, they do not over-reject."""
    data = edited(put("accounts[0].haircuts.USDC", 0.0), put("accounts[0].concentration.SOL", 1.0),
                  put("holdings[0].quantity", 0.0), put("accounts[2].requirement", 0.0),
                  put("accounts[2].buffer", 0.0), put("assets[0].carry", -1.0), put("assets[1].carry", 1.0),
                  put("accounts[3].yields.USTB", 1.0), put("routes[0].cost_bps", 0.0),
                  put("horizon_days", 36_500.0), put("holdings[1].quantity", 800))  # an integer is a number
    problem = allocator.Problem.model_validate(data)
    assert problem.holdings[1].quantity == 800.0


# ---------------------------------------------------------------------------------------------------------------
# NaN, +inf and -inf in every numeric field
# ---------------------------------------------------------------------------------------------------------------

NUMERIC_FIELDS = [
    "assets[0].price",
    "assets[3].carry",
    "holdings[7].quantity",
    "accounts[1].requirement",
    "accounts[1].buffer",
    "accounts[0].haircuts.SOL",
    "accounts[3].concentration.BNB",
    "accounts[2].yields.stETH",
    "routes[5].cost_bps",
    "horizon_days",
]
NON_FINITE = {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf}


@pytest.mark.parametrize("location", NUMERIC_FIELDS)
@pytest.mark.parametrize("value", list(NON_FINITE.values()), ids=list(NON_FINITE))
def test_non_finite_number_is_rejected(location, value):
    error = rejected(edited(put(location, value)))
    issue = issue_at(error, location, "not_finite")
    assert "not a finite number" in issue.message
    assert len(error.issues) == 1, found(error)


# ---------------------------------------------------------------------------------------------------------------
# one bad thing per case: location, code and (where it is part of the contract) the message
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    edit: Callable[[dict], None]
    location: str
    code: str
    message: str | None = None  # exact message, when given
    count: int | None = 1  # how many issues in all (None: not checked)
    extra: tuple[tuple[str, str], ...] = field(default=())  # further (location, code) pairs expected


def case(name: str, *args: Any, marks: Any = (), **kwargs: Any) -> Any:
    return pytest.param(Case(*args, **kwargs), id=name, marks=marks)


GOLD = {"id": "XAU", "price": 2_900.0}  # an asset nobody holds
ACCOUNT_ONLY_GOLD = {"id": "bullion-desk", "requirement": 1_000_000.0, "haircuts": {"XAU": 0.1}}

CASES = [
    # ranges
    case("price-zero", put("assets[0].price", 0.0), "assets[0].price", "out_of_range", "0 is not in (0, 1e+13]"),
    case("price-negative", put("assets[4].price", -1.0), "assets[4].price", "out_of_range",
         "-1 is not in (0, 1e+13]"),
    case("quantity-negative", put("holdings[2].quantity", -300.0), "holdings[2].quantity", "out_of_range",
         "-300 is not in [0, 1e+13]"),
    case("requirement-negative", put("accounts[2].requirement", -2e6), "accounts[2].requirement", "out_of_range",
         "-2e+06 is not in [0, 1e+13]"),
    case("buffer-negative", put("accounts[1].buffer", -0.2), "accounts[1].buffer", "out_of_range",
         "-0.2 is not in [0, 10]"),
    case("haircut-1.0", put("accounts[0].haircuts.SOL", 1.0), "accounts[0].haircuts.SOL", "out_of_range",
         "1 is not in [0, 1)"),
    case("haircut-1.2", put("accounts[0].haircuts.SOL", 1.2), "accounts[0].haircuts.SOL", "out_of_range",
         "1.2 is not in [0, 1)"),
    case("haircut-negative", put("accounts[0].haircuts.SOL", -0.1), "accounts[0].haircuts.SOL", "out_of_range",
         "-0.1 is not in [0, 1)"),
    case("concentration-zero", put("accounts[0].concentration.SOL", 0.0), "accounts[0].concentration.SOL",
         "out_of_range", "0 is not in (0, 1]"),
    case("concentration-1.5", put("accounts[0].concentration.SOL", 1.5), "accounts[0].concentration.SOL",
         "out_of_range", "1.5 is not in (0, 1]"),
    case("carry-above-100pc", put("assets[3].carry", 1.5), "assets[3].carry", "out_of_range",
         "1.5 is not in [-1, 1]"),
    case("yield-below-minus-100pc", put("accounts[2].yields.stETH", -2.0), "accounts[2].yields.stETH",
         "out_of_range", "-2 is not in [-1, 1]"),
    case("cost-bps-negative", put("routes[5].cost_bps", -1.0), "routes[5].cost_bps", "out_of_range",
         "-1 is not in [0, 10000]"),
    case("horizon-zero", put("horizon_days", 0), "horizon_days", "out_of_range", "0 is not in (0, 36500]"),
    # duplicate ids and references to unknown assets
    case("duplicate-asset-id", append("assets", {"id": "BTC", "price": 1.0}), "assets[8].id", "duplicate_id",
         "duplicate asset id 'BTC' (first at assets[0])"),
    case("duplicate-account-id", append_copy("accounts", 0), "accounts[4].id", "duplicate_id",
         "duplicate account id 'cex-perps' (first at accounts[0])"),
    case("duplicate-holding", append_copy("holdings", 0), "holdings[23]", "duplicate_holding"),
    case("holding-unknown-asset", put("holdings[5].asset", "DOGE"), "holdings[5].asset", "unknown_asset"),
    case("haircut-unknown-asset", put("accounts[2].haircuts.DOGE", 0.1), "accounts[2].haircuts.DOGE",
         "unknown_asset"),
    case("concentration-unknown-asset", put("accounts[3].concentration.DOGE", 0.5),
         "accounts[3].concentration.DOGE", "unknown_asset"),
    case("yield-unknown-asset", put("accounts[1].yields.DOGE", 0.02), "accounts[1].yields.DOGE", "unknown_asset"),
    case("route-assets-unknown-asset", put("routes[12].assets", ["ETH", "DOGE"]), "routes[12].assets[1]",
         "unknown_asset"),
    case("route-assets-listed-twice", put("routes[12].assets", ["ETH", "ETH"]), "routes[12].assets",
         "duplicate_asset"),
    case("concentration-on-ineligible-asset", put("accounts[0].concentration.USTB", 0.5),
         "accounts[0].concentration.USTB", "ineligible_limit"),
    case("self-route", put("routes[0].to", "custody-a"), "routes[0].to", "self_route"),
    case("route-with-empty-asset-list", put("routes[0].assets", []), "routes[0].assets", "empty"),
    case("huge-integer", put("accounts[0].requirement", 10**400), "accounts[0].requirement", "not_a_number",
         count=None),
    case("bad-currency", put("currency", "US$"), "currency", "bad_currency"),
    case("bad-haircut-key", put("accounts[0].haircuts", {" BTC": 0.1}), "accounts[0].haircuts. BTC", "bad_key",
         count=None),
    case("duplicate-route", append_copy("routes", 0), "routes[16]", "duplicate_route"),
    # unknown fields and typos, at every level
    case("typo-top-level", put("horizon", 30), "horizon", "unknown_field", "unknown field 'horizon' (misspelt?)"),
    case("typo-asset", put("assets[0].prcie", 95_000.0), "assets[0].prcie", "unknown_field"),
    case("typo-holding", put("holdings[0].quantiy", 50.0), "holdings[0].quantiy", "unknown_field"),
    case("typo-account", put("accounts[2].requirment", 2e6), "accounts[2].requirment", "unknown_field",
         "unknown field 'requirment' (misspelt?)"),
    case("typo-route", put("routes[3].cost_bp", 1.5), "routes[3].cost_bp", "unknown_field"),
    case("missing-field", drop("assets[0].price"), "assets[0].price", "missing_field", "is required"),
    # numbers given as strings (or as booleans) are not numbers
    case("string-with-comma", put("holdings[0].quantity", "1,000"), "holdings[0].quantity", "not_a_number"),
    case("string-with-underscore", put("holdings[0].quantity", "1_000"), "holdings[0].quantity", "not_a_number"),
    case("string-plain-digits", put("holdings[0].quantity", "1000"), "holdings[0].quantity", "not_a_number",
         "'1000' is a string; give the number without quotes or separators"),
    case("string-price", put("assets[0].price", "95057.5"), "assets[0].price", "not_a_number"),
    case("boolean-quantity", put("holdings[0].quantity", True), "holdings[0].quantity", "not_a_number"),
    # empty lists and nothing to cover with
    case("no-accounts", put("accounts", []), "accounts", "empty"),
    case("no-assets", put("assets", []), "assets", "empty"),
    # (without routes: with nothing held, the custody wallets the routes name would be undeclared locations)
    case("empty-inventory", both(put("holdings", []), drop("routes")), "accounts[0].requirement",
         "no_eligible_asset", count=4,
         extra=(("accounts[1].requirement", "no_eligible_asset"), ("accounts[2].requirement", "no_eligible_asset"),
                ("accounts[3].requirement", "no_eligible_asset"))),
    case("no-eligible-asset-held", both(append("assets", GOLD), append("accounts", ACCOUNT_ONLY_GOLD)),
         "accounts[4].requirement", "no_eligible_asset"),
    # money the solver path cannot resolve
    case("requirement-1e14", put("accounts[0].requirement", 1e14), "accounts[0].requirement", "out_of_range",
         "1e+14 is not in [0, 1e+13]"),
    case("total-money-beyond-range", both(*(put(f"accounts[{i}].requirement", 3e12) for i in range(4))),
         "", "scale_range"),
    case("holding-below-1e-12-of-total", put("holdings[0].quantity", 1e-15), "holdings[0]", "scale_range"),
    case("requirement-below-1e-12-of-total", put("accounts[0].requirement", 1e-9), "accounts[0].requirement",
         "scale_range"),
    # one amount beyond the range is located where it is (checks._money_range has a branch for exactly this,
    # but the "total" check above it returns first, so the branch never runs and the issue has no location)
    case("one-holding-worth-beyond-range", put("holdings[0].quantity", 1e9), "holdings[0]", "scale_range",
         count=None),
    case("one-requirement-times-buffer-beyond-range", put("accounts[0].requirement", 9e12),
         "accounts[0].requirement", "scale_range", count=None),
    # rulebooks, haircut models, the portfolio limit
    case("unknown-rulebook", put("accounts[0].rulebook", "nowhere-v9"), "accounts[0].rulebook", "unknown_rulebook"),
    case("no-requirement-no-rulebook", drop("accounts[1].requirement"), "accounts[1].requirement", "missing_field"),
    case("rulebook-rejects-position-kind", both(put("accounts[2].rulebook", "aave-v3-ethereum"),
                                                drop("accounts[2].requirement"),
                                                put("positions", [{"account": "aave-loan", "instrument": "X",
                                                                   "underlying": "BTC", "kind": "perp",
                                                                   "quantity": 1.0}])),
         "accounts[2].rulebook", "positions_not_supported", count=None),
    case("tiered-model-not-concave", put("accounts[0].haircut_models", {"BTC": {"model": "tiered", "tiers": [
        {"upto": 1e6, "weight": 0.5}, {"weight": 0.9}]}}), "accounts[0].haircut_models.BTC.tiered.tiers",
         "not_concave", count=None),
    case("model-and-haircut",
         put("accounts[0].haircut_models", {"BTC": {"model": "size", "weight": 0.9, "imf": 0.001}}),
         "accounts[0].haircut_models.BTC", "conflicting_fields"),
    case("model-unknown-asset", put("accounts[0].haircut_models", {"DOGE": {"model": "size", "weight": 0.9,
                                                                         "imf": 0.001}}),
         "accounts[0].haircut_models.DOGE", "unknown_asset"),
    case("volatility-model-without-market", put("accounts[1].haircut_models", {"SOL": {"model": "volatility"}}),
         "accounts[1].haircut_models.SOL", "missing_volatility"),
    case("liquidity-model-negative-adv", put("accounts[3].haircut_models", {"SOL": {"model": "liquidity",
                                                                                "haircut": 0.1, "eta": 0.1,
                                                                                "adv": -1.0}}),
         "accounts[3].haircut_models.SOL.liquidity.adv", "out_of_range"),
    case("portfolio-without-market", put("portfolio", {"horizon_days": 1.0}), "portfolio", "missing_market"),
    # liquidity and the transition schedule (allocator/inputs/liquidity.py, allocator/inputs/liquidity_checks.py)
    case("venue-unknown-location", both(put("venues", [{"location": "nowhere", "assets": ["USDC", "USDT"]}]),
                                        put("assets[4].adv", 1e10), put("assets[5].adv", 1e11)),
         "venues[0].location", "unknown_venue_location"),
    case("venue-unknown-asset", both(put("venues", [{"location": "custody-b", "assets": ["USDC", "DOGE"]}]),
                                     put("assets[4].adv", 1e10)), "venues[0].assets[1]", "unknown_asset"),
    case("venue-asset-twice", both(put("venues", [{"location": "custody-b", "assets": ["USDC", "USDC"]}]),
                                   put("assets[4].adv", 1e10)), "venues[0].assets", "duplicate_asset"),
    case("venue-duplicate-location", both(put("venues", [{"location": "custody-b", "assets": ["USDC", "USDT"]},
                                                         {"location": "custody-b", "assets": ["USDC", "USDT"]}]),
                                          put("assets[4].adv", 1e10), put("assets[5].adv", 1e11)),
         "venues[1].location", "duplicate_venue"),
    case("venue-one-asset", put("venues", [{"location": "custody-b", "assets": ["USDC"]}]), "venues[0].assets",
         "empty", count=None),
    case("traded-asset-without-adv", both(put("venues", [{"location": "custody-b", "assets": ["USDC", "USDT"]}]),
                                          put("assets[4].adv", 1e10)), "assets[5].adv", "missing_adv"),
    case("impact-without-volatility", both(put("venues", [{"location": "custody-b", "assets": ["USDC", "USDT"]}]),
                                           put("assets[4].adv", 1e10), put("assets[5].adv", 1e11),
                                           put("assets[5].impact", 0.5)), "assets[5].volatility",
         "missing_volatility"),
    case("adv-negative", put("assets[0].adv", -5.0), "assets[0].adv", "out_of_range", "-5 is not in (0, 1e+13]"),
    case("adv-zero", put("assets[0].adv", 0.0), "assets[0].adv", "out_of_range", "0 is not in (0, 1e+13]"),
    case("spread-negative", put("assets[0].spread_bps", -1.0), "assets[0].spread_bps", "out_of_range"),
    case("impact-negative", put("assets[0].impact", -0.1), "assets[0].impact", "out_of_range",
         "-0.1 is not in [0, 100]"),
    case("capacity-negative", put("routes[0].capacity", -1.0), "routes[0].capacity", "out_of_range",
         "-1 is not in [0, 1e+13]"),
    case("delay-negative", put("routes[0].delay_hours", -2.0), "routes[0].delay_hours", "out_of_range",
         "-2 is not in [0, 8760]"),
    case("venue-fee-negative", both(put("venues", [{"location": "custody-b", "assets": ["USDC", "USDT"],
                                                    "fee_bps": -1.0}]),
                                    put("assets[4].adv", 1e10), put("assets[5].adv", 1e11)),
         "venues[0].fee_bps", "out_of_range"),
    case("schedule-zero-periods", put("schedule", {"periods": 0}), "schedule.periods", "greater_than_equal"),
    case("schedule-participation-above-one", put("schedule", {"periods": 4, "participation": 1.5}),
         "schedule.participation", "out_of_range", "1.5 is not in (0, 1]"),
    case("schedule-period-hours-zero", put("schedule", {"periods": 4, "period_hours": 0.0}),
         "schedule.period_hours", "out_of_range"),
    case("schedule-min-move-negative", put("schedule", {"periods": 4, "min_move_value": -1.0}),
         "schedule.min_move_value", "out_of_range"),
    case("withdrawal-limit-unknown-location", put("schedule", {"periods": 4, "withdrawal_limits": {"moon": 1e6}}),
         "schedule.withdrawal_limits.moon", "unknown_location"),
    case("withdrawal-limit-negative", put("schedule", {"periods": 4, "withdrawal_limits": {"custody-b": -1.0}}),
         "schedule.withdrawal_limits.custody-b", "out_of_range"),
    case("typo-schedule", put("schedule", {"periods": 4, "period_hour": 1.0}), "schedule.period_hour",
         "unknown_field"),
    case("schedule-liquidation-days-zero", put("schedule", {"periods": 4, "liquidation_days": 0.0}),
         "schedule.liquidation_days", "out_of_range", "0 is not in (0, 36500]"),
    # route endpoints: a typo is not a new location (issue 11); transit places are declared in [[locations]]
    case("route-to-a-typo", put("routes[0].to", "cex-perp"), "routes[0].to", "unknown_location",
         "unknown location 'cex-perp' (did you mean 'cex-perps'?); a route joins accounts, holding locations and "
         "places declared in [[locations]]"),
    case("route-from-nowhere-near", put("routes[1].from", "zzz"), "routes[1].from", "unknown_location"),
    case("declared-location-twice", put("locations", [{"id": "bridge"}, {"id": "bridge"}]), "locations[1].id",
         "duplicate_id"),
    case("declared-location-is-an-account", put("locations", [{"id": "cex-perps"}]), "locations[0].id",
         "duplicate_location"),
    case("declared-location-typo-field", put("locations", [{"id": "bridge", "kind": "hub"}]),
         "locations[0].kind", "unknown_field"),
    # dates (a TOML date or datetime, or a YYYY-MM-DD string)
    case("as-of-not-a-calendar-date", put("as_of", "2025-02-30"), "as_of", "bad_date"),
    case("as-of-not-iso", put("as_of", "11/02/2025"), "as_of", "bad_date"),
    case("as-of-a-number", put("as_of", 20250211), "as_of", "bad_date",
         "20250211 is not a calendar date; write YYYY-MM-DD (a TOML date or a string)"),
    # the deprecated name of stress_scenarios given beside the new one
    case("scenarios-and-stress-scenarios", both(put("scenarios", []), put("stress_scenarios", [])), "scenarios",
         "conflicting_fields"),
]


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_located_and_coded(bad: Case):
    error = rejected(edited(bad.edit))
    issue = issue_at(error, bad.location, bad.code)
    if bad.message is not None:
        assert issue.message == bad.message
    for location, code in bad.extra:
        issue_at(error, location, code)
    if bad.count is not None:
        assert len(error.issues) == bad.count, found(error)
    # the error's text names the location, one issue per line
    assert str(error).splitlines() == [str(one) for one in error.issues]


def test_the_unlocated_total_names_the_range():
    error = rejected(edited(*(put(f"accounts[{i}].requirement", 3e12) for i in range(4))))
    assert "exceeds the supported 1e+13" in issue_at(error, "", "scale_range").message


# ---------------------------------------------------------------------------------------------------------------
# several errors at once are all reported together
# ---------------------------------------------------------------------------------------------------------------

def test_three_bad_fields_give_three_issues():
    error = rejected(edited(put("accounts[0].haircuts.SOL", 1.2), put("assets[1].price", math.nan),
                            put("routes[0].cots_bps", 1.0)))
    assert sorted(found(error)) == sorted([("accounts[0].haircuts.SOL", "out_of_range"),
                                           ("assets[1].price", "not_finite"),
                                           ("routes[0].cots_bps", "unknown_field")])


def test_three_cross_field_errors_give_three_issues():
    error = rejected(edited(append("assets", {"id": "ETH", "price": 1.0}), put("holdings[3].asset", "DOGE"),
                            put("routes[2].to", "custody-a")))
    assert sorted(found(error)) == sorted([("assets[8].id", "duplicate_id"), ("holdings[3].asset", "unknown_asset"),
                                           ("routes[2].to", "self_route")])


def test_field_errors_and_reference_errors_are_reported_together():
    error = rejected(edited(put("accounts[0].haircuts.SOL", 1.2), put("holdings[3].asset", "DOGE")))
    issue_at(error, "accounts[0].haircuts.SOL", "out_of_range")
    issue_at(error, "holdings[3].asset", "unknown_asset")


# ---------------------------------------------------------------------------------------------------------------
# files: JSON and TOML alike; syntax errors and missing files are InputErrors too
# ---------------------------------------------------------------------------------------------------------------

def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _bad_toml_text() -> str:
    """desk.toml edited as text: haircut 1.2, a negative quantity, a typo field and an unknown holding asset."""
    text = _replace_once(DESK_TOML, "haircuts = { BTC = 0.03, ETH = 0.03, SOL = 0.075,",
                         "haircuts = { BTC = 0.03, ETH = 0.03, SOL = 1.2,")
    text = _replace_once(text, 'location = "custody-b"\nquantity = 12_000.0',
                         'location = "custody-b"\nquantity = -12_000.0')
    text = _replace_once(text, 'id = "aave-loan"\n', 'id = "aave-loan"\nrequirment = 2_000_000.0\n')
    return text


def _bad_data() -> dict:
    """The same bad content built from the parsed base, independently of the text edits."""
    return edited(put("accounts[0].haircuts.SOL", 1.2), put("holdings[7].quantity", -12_000.0),
                  put("accounts[2].requirment", 2_000_000.0))


BAD_FILE_ISSUES = [("holdings[7].quantity", "out_of_range"), ("accounts[0].haircuts.SOL", "out_of_range"),
                   ("accounts[2].requirment", "unknown_field")]


def test_json_and_toml_files_with_the_same_bad_content_give_the_same_issues(tmp_path):
    toml_file = tmp_path / "bad.toml"
    toml_file.write_text(_bad_toml_text(), encoding="utf-8")
    json_file = tmp_path / "bad.json"
    json_file.write_text(json.dumps(_bad_data(), indent=2), encoding="utf-8")
    errors = {}
    for path in (toml_file, json_file):
        with pytest.raises(allocator.InputError) as caught:
            allocator.load_problem(path)
        errors[path.suffix] = caught.value.issues
    assert errors[".toml"] == errors[".json"]
    assert sorted(found(allocator.InputError(errors[".toml"]))) == sorted(BAD_FILE_ISSUES)


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf", "+inf"])
def test_toml_non_finite_literals_are_rejected(tmp_path, literal):
    path = tmp_path / "bad.toml"
    path.write_text(_replace_once(DESK_TOML, "price = 95057.5390625", f"price = {literal}"), encoding="utf-8")
    with pytest.raises(allocator.InputError) as caught:
        allocator.load_problem(path)
    assert found(caught.value) == [("assets[0].price", "not_finite")]


@pytest.mark.parametrize("name, text", [
    pytest.param("bad.toml", "[[assets]]\nid = \"BTC\"\nprice = \n", id="toml-missing-value"),
    pytest.param("bad.toml", "currency = \"USD\ncurrency = \"EUR\"\n", id="toml-unterminated-string"),
    pytest.param("bad.toml", DESK_TOML.replace("horizon_days = 30", "horizon_days = 30\nhorizon_days = 31"),
                 id="toml-key-twice"),
    pytest.param("bad.json", '{"assets": [', id="json-truncated"),
])
def test_malformed_file_is_a_syntax_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(allocator.InputError) as caught:
        allocator.load_problem(path)
    assert found(caught.value) == [(str(path), "syntax")]


def test_missing_file_is_an_input_error(tmp_path):
    path = tmp_path / "no-such-problem.toml"
    with pytest.raises(allocator.InputError) as caught:
        allocator.load_problem(path)
    assert found(caught.value) == [(str(path), "unreadable")]


def test_unknown_file_type_and_non_table_top_level(tmp_path):
    yaml = tmp_path / "desk.yaml"
    yaml.write_text(DESK_TOML, encoding="utf-8")
    with pytest.raises(allocator.InputError) as caught:
        allocator.load_problem(yaml)
    assert found(caught.value) == [(str(yaml), "unknown_format")]
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(allocator.InputError) as caught:
        allocator.load_problem(listed)
    assert found(caught.value) == [(str(listed), "not_a_table")]


# ---------------------------------------------------------------------------------------------------------------
# inputs that users actually write (issue 11): TOML dates, declared transit places, the old name of stress scenarios
# ---------------------------------------------------------------------------------------------------------------

OPTIONS_TOML = """\
as_of = {as_of}

[[assets]]
id = "BTC"
price = 100_000.0

""" + usdc_in_vault(5e6) + """
[[accounts]]
id = "deribit"
requirement = 500_000.0
haircuts = {{ USDC = 0.0 }}
risk = {{ horizon_days = 1.0 }}

[market]
assets = ["BTC", "USDC"]
volatility = {{ BTC = 0.6, USDC = 0.005 }}
correlation = [[1.0, 0.0], [0.0, 1.0]]

[[positions]]
account = "deribit"
instrument = "BTC-28MAR25-90000-P"
underlying = "BTC"
kind = "option"
quantity = -20.0
strike = 90_000.0
expiry = {expiry}
type = "put"
implied_volatility = 0.55
"""


@pytest.mark.parametrize("as_of, expiry", [
    ("2025-02-11", "2025-03-28"),
    ("2025-02-11T16:00:00Z", "2025-03-28T08:00:00"),
    ("2025-02-11T23:30:00-05:00", "2025-03-28"),
], ids=["toml-dates", "toml-datetimes", "datetime-with-offset"])
def test_toml_dates_and_datetimes_are_accepted_as_dates(tmp_path, as_of, expiry):
    """Was: ``datetime.date(2025, 2, 11): input should be a valid string``. The date as written is used."""
    native = tmp_path / "native.toml"
    native.write_text(OPTIONS_TOML.format(as_of=as_of, expiry=expiry), encoding="utf-8")
    quoted = tmp_path / "quoted.toml"
    quoted.write_text(OPTIONS_TOML.format(as_of='"2025-02-11"', expiry='"2025-03-28"'), encoding="utf-8")
    problem = allocator.load_problem(native)
    assert problem.as_of == "2025-02-11" and problem.positions[0].expiry == "2025-03-28"
    assert problem.model_dump() == allocator.load_problem(quoted).model_dump()
    assert allocator.optimize(problem).objective.total == pytest.approx(
        allocator.optimize(allocator.load_problem(quoted)).objective.total, rel=1e-12)


def test_python_dates_are_dates_everywhere_a_date_is_meant():
    from datetime import date, datetime

    from allocator.venues.haircut_models import VolatilityHaircut

    model = VolatilityHaircut.model_validate({"model": "volatility",
                                              "stressed_period": [date(2022, 5, 1), datetime(2022, 7, 31, 12)]})
    assert model.stressed_period == ["2022-05-01", "2022-07-31"]
    data = tomllib.loads(OPTIONS_TOML.format(as_of="2025-02-11", expiry="2025-03-28"))
    data["as_of"] = datetime(2025, 2, 11, 9, 0)
    assert allocator.Problem.model_validate(data).as_of == "2025-02-11"


def test_fund_fixture_with_native_dates_loads():
    text = (PROBLEMS / "fund.toml").read_text(encoding="utf-8")
    assert "\nas_of = 2025-02-11" in text and "\nend = 2025-02-11" in text  # TOML dates, not strings
    problem = allocator.load_problem(PROBLEMS / "fund.toml")
    assert problem.as_of == "2025-02-11" and problem.market is not None and problem.market.end == "2025-02-11"


def test_rulebook_dates_may_be_toml_datetimes(tmp_path):
    from datetime import date

    from allocator.venues.rulebooks import load_rulebook

    text = (PROBLEMS.parent.parent / "models" / "hyperliquid.toml").read_text(encoding="utf-8")
    changed = re.sub(r"(?m)^reviewed = \S+", "reviewed = 2026-11-24T09:30:00Z", text)
    assert changed != text
    path = tmp_path / "hyperliquid.toml"
    path.write_text(changed, encoding="utf-8")
    assert load_rulebook(path).reviewed == date(2026, 11, 24)


def test_a_declared_transit_place_may_carry_routes():
    data = edited(put("locations", [{"id": "bridge"}]),
                  append("routes", {"from": "custody-a", "to": "bridge", "cost_bps": 0.5, "assets": ["BNB"]}),
                  append("routes", {"from": "bridge", "to": "prime-broker", "cost_bps": 0.5, "assets": ["BNB"]}))
    problem = allocator.Problem.model_validate(data)
    assert "bridge" in problem.locations and problem.declared_locations[0].id == "bridge"
    assert allocator.optimize(problem).status == "optimal"


def test_an_undeclared_transit_place_names_the_nearest_ids():
    data = edited(append("routes", {"from": "custody-a", "to": "custody-c", "cost_bps": 0.5}))
    issue = issue_at(rejected(data), "routes[16].to", "unknown_location")
    assert "did you mean" in issue.message and "'custody-a'" in issue.message and "'custody-b'" in issue.message


def test_stress_scenarios_keep_their_old_name_with_a_deprecation_warning(tmp_path):
    """``[[scenarios]]`` in a problem file still works (renamed ``[[stress_scenarios]]``) and says so."""
    path = tmp_path / "old.toml"
    text = (PROBLEMS / "perps-risk.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("[[stress_scenarios]]", "[[scenarios]]"), encoding="utf-8")
    with pytest.warns(DeprecationWarning, match=r"rename it \[\[stress_scenarios\]\]"):
        old = allocator.load_problem(path)
    new = allocator.load_problem(PROBLEMS / "perps-risk.toml")
    assert len(old.stress_scenarios) == 3 and old.model_dump() == new.model_dump()
    with pytest.warns(DeprecationWarning):
        allocator.Problem(**{("scenarios" if k == "stress_scenarios" else k): v
                             for k, v in new.model_dump(by_alias=True).items()})
    with pytest.warns(DeprecationWarning):
        assert new.with_changes(scenarios=[]).stress_scenarios == []


# ---------------------------------------------------------------------------------------------------------------
# bad input never reaches a solver
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def solver_calls(monkeypatch) -> list[str]:
    """Record every solver run (engine's ``run``), every cvxpy solve and every HiGHS run of the linear path,
    delegating to the real functions."""
    from allocator.solve._highs import HighsLP

    calls: list[str] = []
    real_run, real_solve, real_highs = allocator.solve._engine.run, cp.Problem.solve, HighsLP.solve

    def run_spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("run")
        return real_run(*args, **kwargs)

    def solve_spy(self: cp.Problem, *args: Any, **kwargs: Any) -> Any:
        calls.append("cvxpy.solve")
        return real_solve(self, *args, **kwargs)

    def highs_spy(self: HighsLP, *args: Any, **kwargs: Any) -> Any:
        calls.append("highs")
        return real_highs(self, *args, **kwargs)

    monkeypatch.setattr(allocator.solve._engine, "run", run_spy)
    monkeypatch.setattr(cp.Problem, "solve", solve_spy)
    monkeypatch.setattr(HighsLP, "solve", highs_spy)
    return calls


@pytest.mark.parametrize("backend", ["auto", "cvxpy"])
def test_spy_sees_the_solver_on_valid_input(solver_calls, backend):
    result = allocator.optimize(allocator.load_problem(PROBLEMS / "desk.toml"), backend=backend)
    assert result.status == "optimal"
    if backend == "cvxpy":
        assert solver_calls.count("run") >= 1 and solver_calls.count("cvxpy.solve") >= 1
    else:  # the default takes the compile-free linear path, and never cvxpy
        assert solver_calls.count("highs") >= 1 and solver_calls.count("cvxpy.solve") == 0


def _write_bad_toml(tmp_path: Path) -> allocator.Problem:
    path = tmp_path / "bad.toml"
    path.write_text(_bad_toml_text(), encoding="utf-8")
    return allocator.load_problem(path)


def _write_bad_json(tmp_path: Path) -> allocator.Problem:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(edited(put("holdings[3].asset", "DOGE"))), encoding="utf-8")
    return allocator.load_problem(path)


def _from_frames_with_nan(tmp_path: Path) -> allocator.Problem:
    assets = pd.DataFrame([{"id": "USDC", "price": float("nan")}])
    holdings = pd.DataFrame([{"asset": "USDC", "location": "vault", "quantity": 100.0}])
    return allocator.Problem.from_frames(assets=assets, holdings=holdings,
                                         accounts=[{"id": "acct", "requirement": 50.0, "haircuts": {"USDC": 0.0}}])


BAD_BUILDS = [
    pytest.param(_write_bad_toml, id="load-toml-bad-fields"),
    pytest.param(_write_bad_json, id="load-json-unknown-asset"),
    pytest.param(lambda _: allocator.Problem.model_validate(edited(put("routes[0].to", "custody-a"))),
                 id="model_validate-self-route"),
    pytest.param(lambda _: allocator.Problem(**edited(put("accounts[0].haircuts.SOL", 1.2))),
                 id="constructor-haircut"),
    pytest.param(lambda _: allocator.Problem.model_validate_json(json.dumps(edited(put("holdings", [])))),
                 id="model_validate_json-empty-inventory"),
    pytest.param(lambda _: allocator.load_problem(PROBLEMS / "desk.toml").with_changes(horizon_days=math.inf),
                 id="with_changes-inf-horizon"),
    pytest.param(_from_frames_with_nan, id="from_frames-nan-price"),
]


@pytest.mark.parametrize("build", BAD_BUILDS)
def test_bad_input_fails_before_any_solver_call(solver_calls, tmp_path, build):
    with pytest.raises(allocator.InputError):
        allocator.optimize(build(tmp_path))
    assert solver_calls == []
