"""What is stressed: an allocation of a problem's assets over its locations, compiled once into arrays.

``holdings`` is ``"current"`` (the problem's holdings today), a :class:`~allocator.results.result.Result` (its
targets: the allocation it recommends) or a mapping ``(asset, location) -> units``. Units at an account are its
collateral; units anywhere else (custody, hubs) are the treasury's too and are revalued with it.

An account's terms (eligible haircuts, curves, requirement: ``Problem.terms``, venues/terms.py) are re-derived at
every stressed price by the same code that resolved them (``venue_terms``) unless they cannot depend on prices: an
account without a rulebook whose haircut models are all volatility models keeps today's terms. The liquidation line
is the maintenance requirement: an account on ``margin_basis = "initial"`` with a rulebook is also re-derived on the
maintenance basis (its venue's maintenance haircuts and maintenance margin).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np

from allocator.errors import InputError, InputIssue
from allocator.inputs.hedges import without_hedges
from allocator.inputs.market import Position
from allocator.inputs.problem import Account, Problem
from allocator.results.result import Result
from allocator.venues.haircut_models import VolatilityHaircut
from allocator.venues.terms import AccountTerms, venue_terms

#: What ``allocator.stress`` revalues.
Holdings: TypeAlias = Literal["current"] | Result | Mapping[tuple[str, str], float]


def quantities(problem: Problem, holdings: Holdings | None, where: str = "holdings") -> dict[tuple[str, str], float]:
    """Units per (asset, location) of the allocation; InputError listing every unknown asset or location and every
    quantity that is not a finite number >= 0."""
    if holdings is None or (isinstance(holdings, str) and holdings == "current"):
        out: dict[tuple[str, str], float] = {}
        for holding in problem.holdings:
            key = (holding.asset, holding.location)
            out[key] = out.get(key, 0.0) + holding.quantity
        return out
    if isinstance(holdings, Result):
        if holdings.status != "optimal":
            raise InputError([InputIssue(where, f"the result is {holdings.status}: it has no targets to stress",
                                         "no_targets")])
        pairs: list[tuple[Any, Any]] = [((t.asset, t.location), t.quantity) for t in holdings.targets]
    elif isinstance(holdings, Mapping):
        pairs = list(holdings.items())
    else:
        raise InputError([InputIssue(where, f"{type(holdings).__name__} is not 'current', a Result or a mapping "
                                     "(asset, location) -> units", "bad_holdings")])
    assets, locations = set(problem.asset_ids), set(problem.locations)
    issues, out = [], {}
    for key, units in pairs:
        if not (isinstance(key, tuple) and len(key) == 2):
            issues.append(InputIssue(f"{where}[{key!r}]", "is not an (asset, location) pair", "bad_holdings"))
            continue
        asset, location = key
        label = f"{where}[{asset}@{location}]"
        if asset not in assets:
            issues.append(InputIssue(label, f"unknown asset {asset!r}", "unknown_asset"))
        if location not in locations:
            issues.append(InputIssue(label, f"unknown location {location!r}", "unknown_location"))
        if isinstance(units, bool) or not isinstance(units, int | float) or not math.isfinite(units) or units < 0:
            issues.append(InputIssue(label, f"{units!r} is not a number of units >= 0", "bad_quantity"))
        elif asset in assets and location in locations:
            out[(asset, location)] = out.get((asset, location), 0.0) + float(units)
    if issues:
        raise InputError(issues)
    return out


def with_hedges(problem: Problem, holdings: Holdings | None) -> Problem:
    """The problem whose book is stressed: with a Result's hedges (docs/hedging.md) as positions opened today at
    their accounts, and the problem's hedge instruments and delta bands left out (the result chose them). A hedge at
    an account whose rulebook derives the requirement is margined by the rulebook at every stressed price, as the
    venue would; elsewhere (a given requirement, no rulebook) it adds the margin the result reports, fixed."""
    if not isinstance(holdings, Result) or not holdings.hedges:
        return problem
    data = problem.model_dump(by_alias=True)
    kind = {(h.account, h.instrument): h.kind for h in problem.hedges}
    accounts = {row["id"]: row for row in data["accounts"]}
    for trade in holdings.hedges:
        row = accounts.get(trade.account)
        if row is None or (trade.account, trade.instrument) not in kind:  # a result of another problem
            raise InputError([InputIssue("holdings.hedges", f"{trade.instrument!r} at {trade.account!r} is not a "
                                         "hedge of this problem", "unknown_hedge")])
        data["positions"].append({"account": trade.account, "instrument": trade.instrument,
                                  "underlying": trade.underlying, "kind": kind[(trade.account, trade.instrument)],
                                  "quantity": trade.quantity})
        if row.get("rulebook") is None or row.get("requirement") is not None:
            row["requirement"] = (row.get("requirement") or 0.0) + trade.margin
    return Problem.model_validate(without_hedges(data))


@dataclass(frozen=True, eq=False)
class Book:
    """An allocation as arrays (assets in problem order, accounts in problem order) and the means to re-derive every
    account's terms at other prices."""

    problem: Problem
    quantity: dict[tuple[str, str], float]
    price: np.ndarray  # (n,) today's prices
    posted: np.ndarray  # (n, m) units at each account
    elsewhere: np.ndarray  # (n,) units at every other location
    positions: tuple[tuple[Position, ...], ...]  # per account, each marked: reference_price set (today's if unset)
    static: np.ndarray  # (m,) bool: terms that cannot depend on prices
    terms: tuple[AccountTerms, ...]  # today's, account basis
    maintenance: tuple[AccountTerms, ...]  # today's, maintenance basis (the liquidation line)

    @classmethod
    def of(cls, problem: Problem, holdings: Holdings | None = "current") -> Book:
        quantity = quantities(problem, holdings)
        assets, accounts = problem.asset_ids, problem.account_ids
        posted = np.zeros((len(assets), len(accounts)))
        elsewhere = np.zeros(len(assets))
        column = {account: j for j, account in enumerate(accounts)}
        for (asset, location), units in quantity.items():
            i = assets.index(asset)
            if location in column:
                posted[i, column[location]] += units
            else:
                elsewhere[i] += units
        price = {asset.id: asset.price for asset in problem.assets}
        marked = [p if p.reference_price is not None else p.model_copy(update={"reference_price": price[p.underlying]})
                  for p in problem.positions]
        positions = tuple(tuple(p for p in marked if p.account == account) for account in accounts)
        static = np.array([_static(account) for account in problem.accounts])
        book = cls(problem, quantity, np.array([price[a] for a in assets]), posted, elsewhere, positions, static,
                   tuple(problem.terms[a] for a in accounts), tuple(problem.terms[a] for a in accounts))
        maintenance = book.terms_at(book.price)[1]
        return cls(problem, quantity, book.price, posted, elsewhere, positions, static, book.terms, maintenance)

    @property
    def assets(self) -> list[str]:
        return self.problem.asset_ids

    @property
    def accounts(self) -> list[str]:
        return self.problem.account_ids

    @property
    def total(self) -> np.ndarray:
        """(n,) every unit of the allocation, wherever it sits."""
        return self.elsewhere + self.posted.sum(axis=1)

    def terms_at(self, price: np.ndarray) -> tuple[tuple[AccountTerms, ...], tuple[AccountTerms, ...]]:
        """Every account's terms at ``price`` (n,): on its own basis and on the maintenance basis."""
        problem = self.problem
        redo = [k for k, account in enumerate(problem.accounts) if not self.static[k]]
        initial = [k for k in redo if problem.accounts[k].margin_basis == "initial"]
        own, maintenance = list(self.terms), list(self.maintenance)
        if not redo:
            return tuple(own), tuple(maintenance)
        accounts: list[Account] = [problem.accounts[k] for k in redo]
        accounts += [problem.accounts[k].model_copy(update={"margin_basis": "maintenance"}) for k in initial]
        assets = [asset.model_copy(update={"price": float(p)}) for asset, p in zip(problem.assets, price, strict=True)]
        derived = venue_terms(problem.model_copy(update={"assets": assets, "accounts": accounts}))
        for k, terms in zip(redo, derived, strict=False):
            own[k] = maintenance[k] = terms
        for k, terms in zip(initial, derived[len(redo):], strict=True):
            maintenance[k] = terms
        return tuple(own), tuple(maintenance)


def _static(account: Account) -> bool:
    """Whether the account's terms are the same at every price (no rulebook, only volatility haircut models)."""
    return account.rulebook is None and all(isinstance(model, VolatilityHaircut)
                                            for model in account.haircut_models.values())
