"""What every rulebook file holds and what every rulebook object offers.

A rulebook file (``models/<name>.toml``) starts with a header: ``name``, ``venue``, ``kind`` (which formula family
reads the rest: ``aave-v3``, ``binance-portfolio-margin``, ``drift-v2``, ``deribit-portfolio-margin``,
``hyperliquid``, ``dydx-v4``, ``bcbs-iosco``), ``parameters_as_of`` (the date the file's parameters were in force,
or of its newest dated parameter where sections differ: each section then says its own date), ``reviewed`` (the
date we checked them against the sources), ``sources`` and ``notes``.

Assets are named by common tickers (BTC, ETH, USDC, stETH, wstETH, SOL, ...). Where the venue lists a wrapped or
bridged token, the entry is keyed by the venue's symbol and its ``asset`` field gives the common ticker
(``[reserves.WBTC] asset = "BTC"``): a lookup accepts either name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Id, StrictModel
from allocator.inputs.market import Position
from allocator.venues.collateral.curve import Curve

#: Which requirement a collateral value is for: ``maintenance`` (liquidation) or ``initial`` (opening, borrowing).
Basis = Literal["maintenance", "initial"]
#: How an account's positions are margined (docs/margin-modes.md): each instrument in its own sub-account
#: (``isolated``), one pool with each instrument's requirement summed (``cross``), or one scenario-based margin of
#: the whole book that nets offsetting risk (``portfolio``).
MarginMode = Literal["isolated", "cross", "portfolio"]
Text = str
Day = date | str | None


def _iso(value: object) -> object:
    if isinstance(value, datetime):  # a TOML datetime where a date is meant: its calendar date
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None
    return value


#: A date field: a TOML date or datetime, or an ISO string (JSON and Python callers).
IsoDate = Annotated[date, BeforeValidator(_iso)]


class Header(StrictModel):
    """The fields every rulebook file starts with."""

    name: Id
    venue: Text = Field(min_length=1)
    kind: str
    parameters_as_of: IsoDate
    reviewed: IsoDate
    sources: list[Text] = Field(min_length=1)
    notes: Text = ""


class Rulebook(ABC):
    """A venue's margin rules: the credit it gives for collateral and what it requires for positions."""

    #: The ``kind`` this class reads, and the file model it validates with.
    kind: ClassVar[str]
    spec_model: ClassVar[type[Header]]
    #: The margin mode the venue's own formula (``maintenance_margin``, ``initial_margin``) computes, and the modes
    #: an account at the venue may choose (docs/margin-modes.md).
    native_mode: ClassVar[MarginMode] = "cross"
    modes: ClassVar[frozenset[str]] = frozenset({"isolated", "cross"})

    def __init__(self, spec: Header, path: str = "") -> None:
        self.spec = spec
        self.path = path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} (parameters as of {self.parameters_as_of})>"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def venue(self) -> str:
        return self.spec.venue

    @property
    def parameters_as_of(self) -> date:
        return self.spec.parameters_as_of

    @property
    def reviewed(self) -> date:
        return self.spec.reviewed

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self.spec.sources)

    @classmethod
    def cross_issues(cls, spec: Any) -> list[InputIssue]:
        """Checks across fields of a validated file, located like pydantic's (``markets.BTC``)."""
        return []

    # -- collateral ---------------------------------------------------------------------------------------------

    @property
    @abstractmethod
    def collateral_assets(self) -> tuple[str, ...]:
        """Accepted collateral, by common ticker."""

    @abstractmethod
    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None) -> Curve:
        """Credit (currency) as a function of the posted market value of ``asset`` at ``price``."""

    def collateral_value(self, asset: str, quantity: float, price: float, basis: Basis = "maintenance",
                         as_of: Day = None) -> float:
        """Credit the venue gives for ``quantity`` units of ``asset`` at ``price`` (its own formula)."""
        check_amount(self.name, asset, quantity, price)
        return float(self.collateral_curve(asset, price, basis, as_of).value(quantity * price))

    # -- positions ----------------------------------------------------------------------------------------------

    @abstractmethod
    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        """Maintenance requirement (currency) of one account's positions at ``prices`` (by underlying)."""

    @abstractmethod
    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        """Initial requirement (currency) of one account's positions."""

    def mode_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None,
                    basis: Basis = "maintenance", mode: MarginMode | None = None) -> float:
        """Requirement (currency) of one account's positions in a margin mode (None: the venue's ``native_mode``).

        ``portfolio`` is the venue's own formula over the whole book (offered by portfolio-margin venues only);
        ``isolated`` and ``cross`` are the formula applied to each instrument's positions alone and summed (for a
        venue that margins instrument by instrument, ``cross`` is its own formula; ``isolated`` is the total of the
        sub-accounts). A mode the venue does not offer is an InputError."""
        mode = mode or self.native_mode
        if mode not in self.modes:
            offered = ", ".join(sorted(self.modes))
            raise InputError([InputIssue(f"rulebook {self.name}", f"{self.venue} offers no {mode} margin in this "
                                         f"rulebook (offered: {offered})", "mode_not_offered")])
        margin = self.initial_margin if basis == "initial" else self.maintenance_margin
        if mode == self.native_mode and mode != "isolated":
            return float(margin(positions, prices, as_of))
        groups: dict[str, list[Position]] = {}
        for position in positions:
            groups.setdefault(position.instrument, []).append(position)
        return float(sum(margin(group, prices, as_of) for group in groups.values()))

    # -- helpers ------------------------------------------------------------------------------------------------

    def unknown(self, what: str, name: str, known: Sequence[str], code: str = "unknown_asset") -> InputError:
        listed = ", ".join(sorted(known)) or "none"
        return InputError([InputIssue(f"rulebook {self.name}", f"{name!r} is not a known {what} of {self.venue} in "
                                      f"this rulebook (known: {listed})", code)])


class TableRulebook(Rulebook):
    """A rulebook whose file has a ``collateral`` table keyed by asset ticker."""

    @property
    def collateral_assets(self) -> tuple[str, ...]:
        return tuple(self.spec.collateral)  # type: ignore[attr-defined]

    def collateral_entry(self, asset: str) -> Any:
        """The file's collateral entry of ``asset``, or the located "unknown collateral asset" error."""
        entry = self.spec.collateral.get(asset)  # type: ignore[attr-defined]
        if entry is None:
            raise self.unknown("collateral asset", asset, self.collateral_assets)
        return entry


def resolve(entries: Mapping[str, Any], name: str) -> str | None:
    """The key of the entry for ``name``: the venue's symbol itself, or the entry whose ``asset`` is ``name``."""
    if name in entries:
        return name
    for key, entry in entries.items():
        if getattr(entry, "asset", None) == name:
            return key
    return None


def common(entries: Mapping[str, Any]) -> tuple[str, ...]:
    """Common tickers of entries (their ``asset`` field, else their key), in file order."""
    return tuple(getattr(entry, "asset", None) or key for key, entry in entries.items())


def check_amount(rulebook: str, asset: str, quantity: float, price: float, allow_negative: bool = False) -> None:
    ok = (quantity == quantity and abs(quantity) < float("inf") and (allow_negative or quantity >= 0)
          and 0 < price < float("inf"))
    if not ok:
        raise InputError([InputIssue(f"rulebook {rulebook}", f"{asset}: need a finite quantity"
                                     f"{'' if allow_negative else ' >= 0'} and a positive price, got quantity "
                                     f"{quantity!r} at price {price!r}", "bad_amount")])


def price_of(rulebook: str, prices: Mapping[str, float], underlying: str) -> float:
    price = prices.get(underlying)
    if price is None or not 0 < price < float("inf"):
        raise InputError([InputIssue(f"rulebook {rulebook}", f"no positive price for {underlying!r} in prices",
                                     "missing_price")])
    return float(price)


def day(value: Day) -> date | None:
    """``as_of`` as a date; a string must be ISO (``2026-11-24``); a datetime gives its calendar date."""
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError([InputIssue("as_of", f"{value!r} is not an ISO date (YYYY-MM-DD)", "bad_date")]) from None


def no_positions(rulebook: Rulebook, positions: Sequence[Position], why: str) -> float:
    """For venues without derivatives: an empty account needs nothing; positions are a caller's mistake."""
    if positions:
        raise InputError([InputIssue(f"rulebook {rulebook.name}", f"{rulebook.venue} has no derivatives positions "
                                     f"({why}); got {len(positions)}", "positions_not_supported")])
    return 0.0


def net_linear(rulebook: Rulebook, positions: Sequence[Position]) -> dict[str, tuple[str, float]]:
    """Linear positions netted per instrument: ``{instrument: (underlying, signed quantity)}``. Options are
    rejected (the venue's linear model has no rule for them)."""
    options = [p.instrument for p in positions if p.kind == "option"]
    if options:
        raise InputError([InputIssue(f"rulebook {rulebook.name}", f"options {options} have no margin rule in this "
                                     "rulebook (linear positions only)", "options_not_supported")])
    netted: dict[str, tuple[str, float]] = {}
    for position in positions:
        underlying, quantity = netted.get(position.instrument, (position.underlying, 0.0))
        if underlying != position.underlying:
            raise InputError([InputIssue(f"rulebook {rulebook.name}", f"instrument {position.instrument!r} is given "
                                         f"with underlyings {underlying!r} and {position.underlying!r}",
                                         "inconsistent_instrument")])
        netted[position.instrument] = (underlying, quantity + position.quantity)
    return netted


def check_options(rulebook: Rulebook, positions: Sequence[Position], as_of: Day) -> date | None:
    """Options need strike, expiry, type and implied volatility, and a valuation date: all issues at once."""
    options = [p for p in positions if p.kind == "option"]
    issues = [InputIssue(f"rulebook {rulebook.name}", f"option {p.instrument!r} needs strike, expiry, type and "
                         "implied_volatility", "incomplete_option") for p in options
              if None in (p.strike, p.expiry, p.option_type, p.implied_volatility)]
    when = day(as_of)
    if options and when is None:
        issues.append(InputIssue(f"rulebook {rulebook.name}", "options need as_of (the valuation date)",
                                 "missing_as_of"))
    if issues:
        raise InputError(issues)
    return when
