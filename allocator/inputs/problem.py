"""The problem a user hands to allocator: assets, holdings, margin accounts and routes.

The field names are the public contract of the problem file (TOML or JSON; see docs/problem-format.md).
Models are frozen, reject unknown fields, NaN and infinities, and numbers given as strings.
Building a :class:`Problem` with bad content raises :class:`~allocator.errors.InputError` listing every
located issue at once; nothing is dropped, clipped or coerced.
"""

from __future__ import annotations

import warnings
from contextvars import ContextVar
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from allocator.errors import InputError, InputIssue
from allocator.inputs.checks import cross_field_issues
from allocator.inputs.fields import (
    Bps,
    Buffer,
    Currency,
    Day,
    Days,
    Haircut,
    Id,
    Money,
    Price,
    Quantity,
    Rate,
    Share,
    empty_list,
    empty_table,
)
from allocator.inputs.fields import StrictModel as _Model
from allocator.inputs.hedges import Hedge
from allocator.inputs.isolated import expand, needs_expansion
from allocator.inputs.issues import issues_from_pydantic
from allocator.inputs.liquidity import Adv, AnnualVolatility, Hours, Impact, Schedule, Venue
from allocator.inputs.market import Market, PortfolioLimit, Position, RiskSettings, StressScenario
from allocator.inputs.routes import RouteRates
from allocator.inputs.stress import StressSettings
from allocator.io.documents import parse
from allocator.venues.haircut_models import HaircutModel
from allocator.venues.terms import AccountTerms, venue_terms

if TYPE_CHECKING:  # annotations only: pandas is loaded when a frame is asked for (docs/cli.md, start-up)
    import pandas as pd


class Asset(_Model):
    """An asset with its price (currency per unit) and the annual return it earns while free."""

    id: Id
    price: Price
    carry: Rate = 0.0
    adv: Adv | None = None  # average daily traded value (transition; allocator/inputs/liquidity.py)
    spread_bps: Bps = 0.0
    impact: Impact = 0.0
    volatility: AnnualVolatility | None = None  # annual; the market's volatility takes precedence


class Holding(_Model):
    """``quantity`` units of ``asset`` sitting at ``location`` today (a custody location or an account id)."""

    asset: Id
    location: Id
    quantity: Quantity


class Account(_Model):
    """A margin account that must hold ``requirement * (1 + buffer)`` of haircut-adjusted collateral.

    With ``rulebook`` (a venue's rules in models/), haircuts and, when ``requirement`` is left out, the
    requirement come from the venue (venue_terms.py); the account's own ``haircuts`` override the venue's."""

    id: Id
    requirement: Money | None = None
    buffer: Buffer = 0.0
    haircuts: dict[Id, Haircut] = Field(default_factory=empty_table)
    concentration: dict[Id, Share] = Field(default_factory=empty_table)
    yields: dict[Id, Rate] = Field(default_factory=empty_table)
    risk: RiskSettings | None = None
    haircut_models: dict[Id, HaircutModel] = Field(default_factory=empty_table)
    rulebook: Id | None = None
    margin_basis: Literal["maintenance", "initial"] = "maintenance"
    # margin modes and hedging (docs/margin-modes.md, docs/hedging.md)
    margin_mode: Literal["isolated", "cross", "portfolio"] | None = None  # None: the rulebook's own (today's)
    parent: Id | None = None  # set on the sub-accounts of an isolated account when it is expanded (isolated.py)
    max_net_delta: dict[Id, Money] = Field(default_factory=empty_table)  # |delta| per underlying, currency (hedging.md)


class Route(_Model):
    """A directed move that is allowed, with its proportional cost; ``assets`` restricts it."""

    from_: Id = Field(alias="from")
    to: Id
    cost_bps: Bps = 0.0
    assets: list[Id] | None = Field(default=None, min_length=1)
    delay_hours: Hours = 0.0  # transition only: settlement latency
    capacity: Money | None = None  # transition only: value per period

    def carries(self, asset: str) -> bool:
        return self.assets is None or asset in self.assets


class Location(_Model):
    """A location that is neither an account nor holds anything today: an empty wallet, a bridge or a hub that
    routes pass through. Declaring it is what lets a route name it (a typo in a route is an error)."""

    id: Id


class Problem(_Model):
    """A whole collateral allocation problem. Construction validates everything (see module docstring); an account
    with ``margin_mode = "isolated"`` is then expanded into its wallet and one sub-account per instrument
    (isolated.py), so every consumer of a validated problem sees the sub-accounts."""

    currency: Currency = "USD"
    as_of: Day | None = None  # valuation date (options): a TOML date or "YYYY-MM-DD"
    horizon_days: Days = 30.0
    assets: list[Asset] = Field(min_length=1)
    holdings: list[Holding] = Field(default_factory=empty_list)
    accounts: list[Account] = Field(min_length=1)
    declared_locations: list[Location] = Field(default_factory=empty_list, alias="locations")  # [[locations]]
    routes: list[Route] | None = None
    market: Market | None = None
    positions: list[Position] = Field(default_factory=empty_list)
    stress_scenarios: list[StressScenario] = Field(default_factory=empty_list)  # [[stress_scenarios]]
    portfolio: PortfolioLimit | None = None
    venues: list[Venue] = Field(default_factory=empty_list)  # transition only (allocator/inputs/liquidity.py)
    schedule: Schedule | None = None
    stress: StressSettings | None = None  # [stress]: proxies and penalties of allocator.stress (docs/stress.md)
    hedges: list[Hedge] = Field(default_factory=empty_list)  # [[hedges]]: what the program may trade (hedging.md)
    max_net_delta: dict[Id, Money] = Field(default_factory=empty_table)  # treasury |delta| per underlying (hedging.md)
    _terms: dict[str, AccountTerms] = PrivateAttr(default_factory=dict)

    @property
    def terms(self) -> dict[str, AccountTerms]:
        """Per account id, what its collateral must cover and how each asset is credited there (eligible haircuts,
        collateral curves, the requirement given or derived by its rulebook: allocator/venues/terms.py). Resolved
        once, when the problem is validated; the accounts themselves are left as written."""
        return self._terms

    def __init__(self, /, **data: Any) -> None:
        data = _upgrade(data)
        if not _AS_WRITTEN.get() and needs_expansion(data):
            data = _expanded(data)
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _input_error(error, data) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Problem:  # type: ignore[override]
        obj = _upgrade(obj)
        if isinstance(obj, dict) and not kwargs and all(isinstance(key, str) for key in obj):
            # through __init__: pydantic's model_validate of a model with its own __init__ runs the model's
            # after-validators twice (pydantic 2.14), and _cross_checks is half of a large book's validation
            return cls(**obj)
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as error:
            raise _input_error(error, obj) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes, **kwargs: Any) -> Problem:  # type: ignore[override]
        try:
            text = json_data.decode("utf-8-sig") if isinstance(json_data, bytes) else json_data
        except UnicodeDecodeError as error:
            raise InputError([InputIssue("", f"not UTF-8 text: {error.reason} at offset {error.start}",
                                         "encoding")]) from None
        return cls.model_validate(parse(text, "json"), **kwargs)

    @model_validator(mode="after")
    def _cross_checks(self) -> Problem:
        issues = cross_field_issues(self.model_dump(by_alias=True))
        if issues:
            raise InputError(issues)
        self._terms = {account.id: terms for account, terms in zip(self.accounts, venue_terms(self), strict=True)}
        if self.portfolio is not None and self.market is not None:
            needed = {a for terms in self._terms.values() for a in terms.eligible}
            needed |= {p.underlying for p in self.positions} | {h.underlying for h in self.hedges}
            missing = sorted(needed - set(self.market.assets))
            if missing:
                raise InputError([InputIssue("portfolio", f"{', '.join(missing)} (eligible somewhere or a position's "
                                             "underlying) has no volatility in market.assets", "missing_volatility")])
        return self

    @classmethod
    def from_frames(cls, *, assets: pd.DataFrame, holdings: pd.DataFrame, accounts: list[dict[str, Any]],
                    routes: pd.DataFrame | None = None, **settings: Any) -> Problem:
        """Build a problem from DataFrames of assets, holdings and routes (one row each) and account dicts."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{key: _plain(value) for key, value in row.items()} for row in frame.to_dict(orient="records")]

        data: dict[str, Any] = {"assets": rows(assets), "holdings": rows(holdings), "accounts": accounts, **settings}
        if routes is not None:
            data["routes"] = rows(routes)
        return cls.model_validate(data)

    # ---- derived views (structure only; no numbers are changed) ----
    @cached_property
    def asset_ids(self) -> list[str]:
        return [asset.id for asset in self.assets]

    @cached_property
    def account_ids(self) -> list[str]:
        return [account.id for account in self.accounts]

    @cached_property
    def locations(self) -> list[str]:
        """Holding locations, account ids, declared ``[[locations]]`` and route endpoints (every endpoint is
        one of the others: checks.py), in order of first appearance."""
        return list(dict.fromkeys(chain((holding.location for holding in self.holdings),
                                        (account.id for account in self.accounts),
                                        (location.id for location in self.declared_locations),
                                        chain.from_iterable((route.from_, route.to) for route in self.routes or ()))))

    @cached_property
    def route_rates(self) -> RouteRates | None:
        """Cost rate of each allowed (from, to, asset) move (a mapping looked up per route, routes.py); None when
        every move is allowed at zero cost."""
        if self.routes is None:
            return None
        return RouteRates(self.routes, self.asset_ids)

    def with_changes(self, **changes: Any) -> Problem:
        """A validated copy with top-level fields replaced (what-if helpers build on this)."""
        data = self.model_dump(by_alias=True)
        data.update(_upgrade(changes))
        return Problem.model_validate(data)


#: Set while a problem with isolated accounts is validated as written, before it is expanded (isolated.py).
_AS_WRITTEN: ContextVar[bool] = ContextVar("allocator_problem_as_written", default=False)


def _expanded(data: dict[str, Any]) -> dict[str, Any]:
    """The data with its isolated accounts expanded into sub-accounts (isolated.py), after validating it as
    written, so that every issue is located as the user wrote it."""
    token = _AS_WRITTEN.set(True)
    try:
        written = Problem(**data)
    finally:
        _AS_WRITTEN.reset(token)
    return expand(written.model_dump(by_alias=True))


#: The problem file's old name for ``stress_scenarios`` (a what-if file's ``[[scenarios]]`` are something else).
DEPRECATED_SCENARIOS = "scenarios"


def _upgrade(data: Any) -> Any:
    """The input with the deprecated ``scenarios`` key renamed ``stress_scenarios`` (and a DeprecationWarning);
    given both, an InputError."""
    if not isinstance(data, dict) or DEPRECATED_SCENARIOS not in data:
        return data
    if "stress_scenarios" in data:
        raise InputError([InputIssue(DEPRECATED_SCENARIOS, "both scenarios and stress_scenarios are given; "
                                     "keep stress_scenarios (scenarios is its deprecated name)", "conflicting_fields")])
    warnings.warn("[[scenarios]] in a problem file is deprecated: rename it [[stress_scenarios]] (the key "
                  "'stress_scenarios'); what-if scenario files keep [[scenarios]]", DeprecationWarning, stacklevel=3)
    return {("stress_scenarios" if key == DEPRECATED_SCENARIOS else key): value for key, value in data.items()}


def _input_error(error: ValidationError, data: Any) -> InputError:
    """Pydantic's field errors and the cross-field issues of the raw data, together and without repeats."""
    issues = issues_from_pydantic(error)
    seen = {issue.location for issue in issues}
    issues += [issue for issue in cross_field_issues(data) if issue.location not in seen]
    return InputError(issues)


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars, so strict validation sees ordinary numbers."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (list, dict, str)) else value
