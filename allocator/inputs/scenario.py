"""What-if scenarios: changes to a problem's numbers that keep its structure (so no recompilation).

A scenario is a small, validated table of changes. Nested form (TOML/JSON/dict)::

    id = "btc-crash"
    shock = { BTC = -0.30, "*" = -0.10 }        # relative price moves; "*" = every other asset
    price = { USDC = 0.97 }                      # absolute prices (applied after shocks)
    haircut_shift = { "*" = 0.05 }               # points added to every haircut of an account ("*" = all)
    haircuts = { cex-perps = { BTC = 0.10 } }    # absolute haircuts of eligible pairs (after shifts)
    requirement_scale = { "*" = 1.2 }            # requirements multiplied
    requirement = { cex-perps = 5_000_000 }      # absolute requirements (after scaling)
    buffer = { aave-loan = 0.3 }
    holdings = { "BTC@custody-a" = 10.0 }        # absolute quantity of an asset at a location
    carry = { stETH = 0.02 }
    yields = { cex-perps = { USDC = 0.05 } }
    route_cost_bps = { "custody-a->cex-perps" = 3.0 }
    volatility_scale = { BTC = 1.5, "*" = 1.2 }  # market volatilities multiplied (correlations kept)

Flat form (a CSV/Parquet row or DataFrame row): dotted column names, ``shock.BTC``, ``haircut_shift.*``,
``haircuts.cex-perps.BTC``, ``holdings.BTC@custody-a``; an empty cell (NaN) means "no change" in that row.
A scenario may not change structure: new eligible pairs, new locations, new routes are errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Bps, Buffer, Haircut, Id, Money, Price, Quantity, Rate, empty_table, interval
from allocator.inputs.issues import issues_from_pydantic, short, without_refused
from allocator.inputs.problem import Problem

ALL = "*"
Shock = Annotated[float, AfterValidator(interval(-1.0, 100.0, low_open=True))]
Shift = Annotated[float, AfterValidator(interval(-1.0, 1.0))]
ScaleFactor = Annotated[float, AfterValidator(interval(0.0, 1e6))]


class Scenario(BaseModel):
    """Changes to a problem's numbers; see the module docstring for every field."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    id: Id | None = None
    shock: dict[str, Shock] = Field(default_factory=empty_table)
    price: dict[str, Price] = Field(default_factory=empty_table)
    haircut_shift: dict[str, Shift] = Field(default_factory=empty_table)
    haircuts: dict[str, dict[str, Haircut]] = Field(default_factory=empty_table)
    requirement_scale: dict[str, ScaleFactor] = Field(default_factory=empty_table)
    requirement: dict[str, Money] = Field(default_factory=empty_table)
    buffer: dict[str, Buffer] = Field(default_factory=empty_table)
    holdings: dict[str, Quantity] = Field(default_factory=empty_table)
    carry: dict[str, Rate] = Field(default_factory=empty_table)
    yields: dict[str, dict[str, Rate]] = Field(default_factory=empty_table)
    route_cost_bps: dict[str, Bps] = Field(default_factory=empty_table)
    volatility_scale: dict[str, ScaleFactor] = Field(default_factory=empty_table)

    @classmethod
    def parse(cls, data: Scenario | Mapping[str, Any], where: str = "scenario") -> Scenario:
        """A scenario from a nested or flat (dotted keys) mapping; InputError located under ``where``."""
        if isinstance(data, Scenario):
            return data
        if not isinstance(data, Mapping):
            raise InputError([InputIssue(where, f"{short(data)} is not a scenario: give a table of changes "
                                         "(shock = {...}, haircut_shift = {...}, ...)", "not_a_table")])
        nested = _nest(data, where) if any("." in str(key) for key in data) else dict(data)
        try:
            return cls.model_validate(nested)
        except ValidationError as error:
            raise InputError([InputIssue(f"{where}.{i.location}", i.message, i.code)
                              for i in issues_from_pydantic(error)]) from None

    def apply(self, problem: Problem, where: str = "scenario") -> Problem:
        """The problem with these changes, validated; same structure, or InputError located under ``where``."""
        data = problem.model_dump(by_alias=True)  # new containers throughout: the edits leave ``problem`` as it was
        issues: list[InputIssue] = []
        _Editor(data, issues, where, problem).apply(self)
        if issues:
            raise InputError(issues)
        try:
            return Problem.model_validate(data)
        except InputError as error:  # a change took a value out of its range
            raise InputError([InputIssue(f"{where}", f"gives {issue}", issue.code)
                              for issue in error.issues]) from None


#: The codes of issues about a scenario's keys (an id the problem does not have, a pair it cannot change): the
#: same whatever the values, so they are reported beside the values' own issues (``reference_issues``).
REFERENCE_CODES = frozenset({"unknown_asset", "unknown_account", "unknown_holding", "unknown_route",
                             "structure_change"})


def reference_issues(data: Scenario | Mapping[str, Any], problem: Problem, where: str = "scenario"
                     ) -> list[InputIssue]:
    """The issues of applying a scenario to ``problem`` (every one), or, when some of its values are invalid, of its
    keys (unknown ids, pairs it may not change): the entries validation refuses are left out and the rest is
    applied. So one error can list a bad value and a typo in an id together; the values' own issues are
    ``Scenario.parse``'s."""
    salvaged = False
    try:
        scenario = Scenario.parse(data, where)
    except InputError:
        salvaged = True
        if not isinstance(data, Mapping):
            return []
        try:
            nested = _nest(data, where) if any("." in str(key) for key in data) else dict(data)
        except InputError:  # a key both a value and a table: parse reports it
            return []
        try:
            Scenario.model_validate(nested)
        except ValidationError as error:
            nested = without_refused(nested, error)
        try:
            scenario = Scenario.model_validate(nested)
        except ValidationError:
            return []
    try:
        scenario.apply(problem, where)
    except InputError as error:
        return [issue for issue in error.issues if not salvaged or issue.code in REFERENCE_CODES]
    return []


class _Editor:
    def __init__(self, data: dict[str, Any], issues: list[InputIssue], where: str, problem: Problem) -> None:
        self.data, self.issues, self.where, self.problem = data, issues, where, problem
        self.assets = {row["id"]: row for row in data["assets"]}
        self.accounts = {row["id"]: row for row in data["accounts"]}

    def fail(self, location: str, message: str, code: str) -> None:
        self.issues.append(InputIssue(f"{self.where}.{location}", message, code))

    def targets(self, table: dict[str, Any], field: str, known: dict[str, Any], what: str) -> list[tuple[str, Any]]:
        """(id, value) for each key of a change table; "*" applies to every id not named explicitly."""
        out = []
        for key, value in table.items():
            if key == ALL:
                out += [(ident, value) for ident in known if ident not in table]
            elif key in known:
                out.append((key, value))
            else:
                self.fail(f"{field}.{key}", f"unknown {what} {key!r}", f"unknown_{what}")
        return out

    def apply(self, s: Scenario) -> None:
        for asset, move in self.targets(s.shock, "shock", self.assets, "asset"):
            self.assets[asset]["price"] *= 1.0 + move
        for asset, price in self.targets(s.price, "price", self.assets, "asset"):
            self.assets[asset]["price"] = price
        self.mark_positions()
        for asset, carry in self.targets(s.carry, "carry", self.assets, "asset"):
            self.assets[asset]["carry"] = carry
        for account, shift in self.targets(s.haircut_shift, "haircut_shift", self.accounts, "account"):
            self.materialise_haircuts(account)
            haircuts = self.accounts[account]["haircuts"]
            for asset in haircuts:
                haircuts[asset] += shift
        for account, table in self.targets(s.haircuts, "haircuts", self.accounts, "account"):
            self.materialise_haircuts(account)
            self.per_pair(account, table, "haircuts", eligible_only=True)
        for account, factor in self.targets(s.requirement_scale, "requirement_scale", self.accounts, "account"):
            self.materialise_requirement(account)
            self.accounts[account]["requirement"] *= factor
        for account, value in self.targets(s.requirement, "requirement", self.accounts, "account"):
            self.accounts[account]["requirement"] = value
        for account, value in self.targets(s.buffer, "buffer", self.accounts, "account"):
            self.accounts[account]["buffer"] = value
        for account, table in self.targets(s.yields, "yields", self.accounts, "account"):
            self.per_pair(account, table, "yields", eligible_only=False)
        self.holdings(s.holdings)
        self.route_costs(s.route_cost_bps)
        self.volatility(s.volatility_scale)

    def mark_positions(self) -> None:
        """Every position whose underlying's price the scenario moved keeps the price before the move as its
        ``reference_price`` (an earlier mark stays), so that its P&L since then counts in its account's equity
        (market.marked_pnl): a price move revalues the positions, not only the collateral and the rulebook's
        requirement. A position whose underlying did not move is left as it is (no P&L, exactly)."""
        before = {asset.id: asset.price for asset in self.problem.assets}
        for position in self.data["positions"]:
            underlying = position["underlying"]
            if self.assets[underlying]["price"] != before[underlying] and position.get("reference_price") is None:
                position["reference_price"] = before[underlying]

    def materialise_haircuts(self, account: str) -> None:
        """An account whose flat haircuts come from its rulebook or a volatility model gets them written out,
        so that a shift or an absolute haircut applies to them too (curves keep their own formula: a shift does
        not apply to a curve, and says so)."""
        current = self.problem.terms[account]
        row = self.accounts[account]
        for asset, haircut in current.eligible.items():
            if asset in current.curves:
                self.fail(f"haircut_shift.{account}", f"{asset} is credited on a collateral curve at {account}; "
                          "a haircut change applies to flat haircuts only", "not_applicable")
            elif asset not in row["haircuts"]:
                row["haircuts"][asset] = haircut
                row.get("haircut_models", {}).pop(asset, None)

    def materialise_requirement(self, account: str) -> None:
        """A requirement derived by the rulebook is written out (at the scenario's prices) before it is scaled."""
        row = self.accounts[account]
        if row.get("requirement") is None:
            try:
                priced = Problem.model_validate(self.data)
                row["requirement"] = priced.terms[account].requirement
            except InputError as error:
                for issue in error.issues:
                    self.fail(f"requirement_scale.{account}", f"gives {issue}", issue.code)
                row["requirement"] = 0.0

    def volatility(self, table: dict[str, float]) -> None:
        market = self.data.get("market")
        if not table:
            return
        if market is None:
            self.fail("volatility_scale", "the problem has no [market]", "missing_market")
            return
        known = {asset: None for asset in market["assets"]}
        changes = self.targets(table, "volatility_scale", known, "asset")
        if market.get("loadings") is not None:
            for asset, factor in changes:
                market["loadings"][asset] = [x * factor for x in market["loadings"][asset]]
                market["specific_volatility"][asset] *= factor
            return
        if market.get("history") is not None:  # estimated: scenarios change the estimate, given from now on
            assert self.problem.market is not None
            vol, correlation = self.problem.market.moments
            market.update(volatility=dict(zip(market["assets"], vol.tolist(), strict=True)),
                          correlation=correlation.tolist(), history=None)
        for asset, factor in changes:
            market["volatility"][asset] *= factor

    def per_pair(self, account: str, table: dict[str, float], field: str, eligible_only: bool) -> None:
        current = self.accounts[account][field]
        for asset, value in table.items():
            if asset not in self.assets:
                self.fail(f"{field}.{account}.{asset}", f"unknown asset {asset!r}", "unknown_asset")
            elif eligible_only and asset not in current:
                self.fail(f"{field}.{account}.{asset}", f"{asset} is not eligible at {account}; a scenario cannot "
                          "make a new pair eligible (that changes the program's structure)", "structure_change")
            else:
                current[asset] = value

    def holdings(self, table: dict[str, float]) -> None:
        locations = set(self.problem.locations)
        rows = {(h["asset"], h["location"]): h for h in self.data["holdings"]}
        for key, quantity in table.items():
            asset, _, location = key.partition("@")
            if asset not in self.assets or location not in locations:
                self.fail(f"holdings.{key}", f"{key!r} is not ASSET@LOCATION with a known asset and location",
                          "unknown_holding")
            elif (asset, location) in rows:
                rows[(asset, location)]["quantity"] = quantity
            else:
                self.data["holdings"].append({"asset": asset, "location": location, "quantity": quantity})

    def route_costs(self, table: dict[str, float]) -> None:
        routes = self.data.get("routes")
        for key, cost in table.items():
            source, _, destination = key.partition("->")
            matched = [r for r in routes or () if r["from"] == source and r["to"] == destination]
            if not matched:
                self.fail(f"route_cost_bps.{key}", f"no route {key!r} (write FROM->TO)", "unknown_route")
            for route in matched:
                route["cost_bps"] = cost


def _nest(flat: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Dotted keys to nested tables; NaN and None cells mean "no change" and are left out. A key that is both a
    value and a table (``shock`` and ``shock.BTC``) is an InputError."""
    out: dict[str, Any] = {}
    clashes: list[InputIssue] = []
    for key, value in flat.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # a numpy scalar
            value = value.item()
        field, _, rest = str(key).partition(".")
        if not rest:
            path, name = [], field
        elif field in ("haircuts", "yields"):
            account, _, name = rest.rpartition(".")  # asset ids rarely hold dots; account ids may
            path = [field, account]
        else:
            path, name = [field], rest
        table = out
        for part in path:
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                break
        if not isinstance(table, dict) or (name in table and isinstance(table[name], dict)):
            clashes.append(InputIssue(f"{where}.{key}", f"{key!r} is both a value and a table of values "
                                      "in this row; keep one", "conflicting_fields"))
        else:
            table[name] = value
    if clashes:
        raise InputError(clashes)
    return out
