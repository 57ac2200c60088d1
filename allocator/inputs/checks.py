"""Located input issues: pydantic's field errors in our words, and the cross-field checks.

A location reads like the problem file: ``accounts[2].haircuts.SOL``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from allocator.errors import InputIssue
from allocator.inputs.fields import MAX_MONEY
from allocator.inputs.hedge_checks import hedge_issues
from allocator.inputs.liquidity_checks import liquidity_issues
from allocator.inputs.raw import number as _number
from allocator.inputs.raw import rows as _rows
from allocator.inputs.raw import table as _table
from allocator.inputs.raw import text as _text
from allocator.inputs.risk_checks import risk_issues
from allocator.venues.terms import rulebook_issues

#: Smallest non-zero money amount accepted, as a share of the problem's money scale (see docs/reliability.md).
MIN_RELATIVE_MONEY = 1e-12

def cross_field_issues(data: Any) -> list[InputIssue]:
    """Every issue that needs more than one field to see: ids, references, money range.

    Works on the raw input (a dict as read from the file) and skips whatever is malformed, so that it can run
    beside pydantic's field errors and the user sees every issue at once.
    """
    if not isinstance(data, dict):
        return []
    issues: list[InputIssue] = []

    def add(location: str, message: str, code: str) -> None:
        issues.append(InputIssue(location, message, code))

    assets, accounts = _rows(data, "assets"), _rows(data, "accounts")
    for rows, where, what in ((assets, "assets", "asset"), (accounts, "accounts", "account")):
        first: dict[str, int] = {}
        for index, row in rows:
            ident = _text(row.get("id"))
            if ident is not None and first.setdefault(ident, index) != index:
                add(f"{where}[{index}].id", f"duplicate {what} id {ident!r} (first at {where}[{first[ident]}])",
                    "duplicate_id")
    prices = {_text(row.get("id")): _number(row.get("price")) for _, row in assets}
    known = {ident for ident in prices if ident is not None}

    def unknown_asset(location: str, asset: str) -> None:
        if known:  # with no usable asset list, every reference would be "unknown": say it once, not everywhere
            add(location, f"unknown asset {asset!r}; known assets: {', '.join(sorted(known))}", "unknown_asset")

    seen_holdings: dict[tuple[str, str], int] = {}
    inventory: dict[str, float] = defaultdict(float)
    for index, row in _rows(data, "holdings"):
        asset, location = _text(row.get("asset")), _text(row.get("location"))
        if asset is not None and asset not in known:
            unknown_asset(f"holdings[{index}].asset", asset)
        elif asset is not None and location is not None:
            key = (asset, location)
            if seen_holdings.setdefault(key, index) != index:
                add(f"holdings[{index}]", f"duplicate holding of {asset} at {location!r} "
                    f"(first at holdings[{seen_holdings[key]}]); merge them", "duplicate_holding")
            inventory[asset] += (_number(row.get("quantity")) or 0.0) * (prices.get(asset) or 0.0)

    for index, row in accounts:
        where = f"accounts[{index}]"
        haircuts = {**_table(row.get("haircuts")), **_table(row.get("haircut_models"))}
        for table in ("haircuts", "haircut_models", "concentration", "yields"):
            for asset in _table(row.get(table)):
                if asset not in known:
                    unknown_asset(f"{where}.{table}.{asset}", asset)
        for asset in _table(row.get("concentration")):
            if asset in known and asset not in haircuts and row.get("rulebook") is None:  # else venue_terms.py
                add(f"{where}.concentration.{asset}", f"{asset} has a concentration limit but no haircut, "
                    "so it is not eligible at this account; add a haircut or remove the limit", "ineligible_limit")
        requirement = _number(row.get("requirement"))
        if known and requirement and requirement > 0 and row.get("rulebook") is None \
                and not any(inventory[asset] > 0 for asset in haircuts):
            add(f"{where}.requirement", f"requirement {requirement:g} > 0 but no eligible asset "
                f"(haircuts: {', '.join(map(str, haircuts)) or 'none'}) is held anywhere", "no_eligible_asset")

    routes = _rows(data, "routes")
    for index, row in routes:
        where = f"routes[{index}]"
        source, destination = _text(row.get("from")), _text(row.get("to"))
        if source is not None and source == destination:
            add(f"{where}.to", f"route from {source!r} to itself", "self_route")
        listed = row.get("assets")
        if isinstance(listed, list):
            for position, asset in enumerate(listed):
                if isinstance(asset, str) and asset not in known:
                    unknown_asset(f"{where}.assets[{position}]", asset)
            if len(set(map(str, listed))) != len(listed):
                add(f"{where}.assets", "an asset is listed twice", "duplicate_asset")
    issues.extend(_route_endpoints(data, routes, {_text(row.get("id")) for _, row in accounts}))
    issues.extend(_overlapping_routes(routes, sorted(known)))
    issues.extend(risk_issues(data, known))
    issues.extend(hedge_issues(data, known))
    issues.extend(rulebook_issues(data))
    issues.extend(liquidity_issues(data, known))
    issues.extend(_money_range(data, accounts, prices, sum(inventory.values())))
    return issues


def _route_endpoints(data: dict[str, Any], routes: list[tuple[int, dict[str, Any]]],
                     accounts: set[str | None]) -> list[InputIssue]:
    """Every route endpoint is an account, a holding location or a declared ``[[locations]]`` entry: a typo
    (``cex-perp`` for ``cex-perps``) must not become a new location. Declared ids are unique and no account's."""
    issues = []
    holding_places = {_text(row.get("location")) for _, row in _rows(data, "holdings")}
    declared: dict[str, int] = {}
    for index, row in _rows(data, "locations"):
        ident = _text(row.get("id"))
        if ident is None:
            continue
        if declared.setdefault(ident, index) != index:
            issues.append(InputIssue(f"locations[{index}].id", f"duplicate location {ident!r} (first at "
                                     f"locations[{declared[ident]}])", "duplicate_id"))
        elif ident in accounts:
            issues.append(InputIssue(f"locations[{index}].id", f"{ident!r} is an account, and so a location "
                                     "already; declare only places that are not accounts", "duplicate_location"))
    known = sorted(ident for ident in (holding_places | accounts | set(declared)) if ident is not None)
    if not known:
        return issues
    for index, row in routes:
        for end in ("from", "to"):
            place = _text(row.get(end))
            if place is not None and place not in known:
                issues.append(InputIssue(f"routes[{index}].{end}", f"unknown location {place!r}{_nearest(place, known)}"
                                         "; a route joins accounts, holding locations and places declared in "
                                         "[[locations]]", "unknown_location"))
    return issues


def _nearest(name: str, known: list[str]) -> str:
    import difflib  # deferred: only a misspelt name needs it, and a valid problem is checked without it

    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return f" (did you mean {' or '.join(map(repr, close))}?)"
    shown = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    return f" (known: {shown})"


def _overlapping_routes(routes: list[tuple[int, dict[str, Any]]], every_asset: list[str]) -> list[InputIssue]:
    """Each route, in order, claims its assets (every asset when it lists none) for its direction; the first
    asset another route already claimed is reported and the route claims no further asset.

    Without looking at every asset of every route (2,000 assets x 400 routes took 0.4 s at 2000 x 100): a route
    that lists none claims what comes before the first asset of ``every_asset`` already claimed (all of it when none
    is), so its claim is a prefix of ``every_asset``, and no asset is claimed twice."""
    issues = []
    position = {asset: k for k, asset in enumerate(every_asset)}
    claims: dict[tuple[str, str], _Claims] = {}
    for index, row in routes:
        source, destination, listed = _text(row.get("from")), _text(row.get("to")), row.get("assets")
        if source is None or destination is None:
            continue
        mine = claims.setdefault((source, destination), _Claims())
        if isinstance(listed, list):
            for asset in map(str, listed):
                other = mine.claim(asset, position.get(asset), index)
                if other != index:
                    issues.append(_overlap(index, other, asset, source, destination))
                    break
        elif every_asset:
            first = mine.first_claimed()
            mine.claim_prefix(len(every_asset) if first is None else first, index)
            if first is not None:
                owner = mine.owner(every_asset[first], first)
                assert owner is not None  # the first asset claimed has an owner
                issues.append(_overlap(index, owner, every_asset[first], source, destination))
    return issues


def _overlap(index: int, other: int, asset: str, source: str, destination: str) -> InputIssue:
    return InputIssue(f"routes[{index}]", f"overlaps routes[{other}] for {asset} ({source} -> {destination}); give "
                      "each asset one route per direction", "duplicate_route")


class _Claims:
    """The assets the routes of one direction have claimed: listed ones one by one, and the prefix of every asset
    that the first route listing none claimed (any later one claims nothing: the first asset is taken by then)."""

    def __init__(self) -> None:
        self.listed: dict[str, int] = {}  # asset: route
        self.first_listed: int | None = None  # the first position of every asset among the listed claims
        self.prefix: tuple[int, int] | None = None  # (route, length)

    def owner(self, asset: str, at: int | None) -> int | None:
        """The route that claimed ``asset`` (at position ``at`` of every asset, None if unknown), if any."""
        if asset in self.listed:
            return self.listed[asset]
        if self.prefix is not None and at is not None and at < self.prefix[1]:
            return self.prefix[0]
        return None

    def claim(self, asset: str, at: int | None, route: int) -> int:
        """``asset``'s owner, which is ``route`` if nobody claimed it before."""
        owner = self.owner(asset, at)
        if owner is not None:
            return owner
        self.listed[asset] = route
        if at is not None:
            self.first_listed = at if self.first_listed is None else min(self.first_listed, at)
        return route

    def first_claimed(self) -> int | None:
        """The first position of every asset that some route claimed, None if none is."""
        return 0 if self.prefix is not None and self.prefix[1] > 0 else self.first_listed

    def claim_prefix(self, length: int, route: int) -> None:
        if self.prefix is None:
            self.prefix = (route, length)
        assert self.prefix == (route, length) or length == 0  # see the class docstring


def _money_range(data: dict[str, Any], accounts: list[tuple[int, dict[str, Any]]],
                 prices: dict[str | None, float | None], inventory_value: float) -> list[InputIssue]:
    """Money beyond what the solver path resolves is rejected, not solved badly."""
    amounts = [(f"holdings[{i}]", (_number(row.get("quantity")) or 0.0) * (prices.get(_text(row.get("asset"))) or 0.0))
               for i, row in _rows(data, "holdings")]
    amounts += [(f"accounts[{i}].requirement", (_number(row.get("requirement")) or 0.0)
                 * (1.0 + (_number(row.get("buffer", 0.0)) or 0.0))) for i, row in accounts]
    scale = max(inventory_value, sum(amount for where, amount in amounts if where.startswith("accounts")))
    issues = [InputIssue(where, f"{amount:.3g} exceeds the supported {MAX_MONEY:.0e}; state amounts in a larger "
                         "currency unit", "scale_range") for where, amount in amounts if amount > MAX_MONEY]
    if not issues and scale > MAX_MONEY:
        issues.append(InputIssue("", f"total money {scale:.3g} exceeds the supported {MAX_MONEY:.0e}; "
                                 "state amounts in a larger currency unit", "scale_range"))
    if not issues:
        issues += [InputIssue(where, f"{amount:.3g} is below {MIN_RELATIVE_MONEY:.0e} of the problem's money "
                              f"scale {scale:.3g}; remove it or merge it", "scale_range")
                   for where, amount in amounts if 0 < amount < MIN_RELATIVE_MONEY * scale]
    return issues
