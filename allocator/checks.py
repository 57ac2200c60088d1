"""Located input issues: pydantic's field errors in our words, and the cross-field checks.

A location reads like the problem file: ``accounts[2].haircuts.SOL``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from allocator.errors import InputIssue
from allocator.fields import MAX_MONEY

if TYPE_CHECKING:
    from allocator.problem import Problem

#: Smallest non-zero money amount accepted, as a share of the problem's money scale (see docs/reliability.md).
MIN_RELATIVE_MONEY = 1e-12

_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "finite_number": "not_finite",
    "float_type": "not_a_number",
    "float_parsing": "not_a_number",
    "string_type": "not_a_string",
    "list_type": "not_a_list",
    "dict_type": "not_a_table",
    "model_type": "not_a_table",
    "too_short": "empty",
    "string_too_short": "empty",
    "string_pattern_mismatch": "bad_id",
}


def format_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def issues_from_pydantic(error: ValidationError) -> list[InputIssue]:
    issues = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part not in ("function-after[check()]",) and not
                    (isinstance(part, str) and part.startswith(("function-", "constrained-"))))
        code = _CODES.get(item["type"], item["type"])
        value = item.get("input")
        if item["type"] == "out_of_range":
            message = item["msg"]
        elif item["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r} (misspelt?)"
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] == "finite_number":
            message = f"{value!r} is not a finite number"
        elif item["type"] in ("float_type", "float_parsing") and isinstance(value, str):
            message = f"{value!r} is a string; give the number without quotes or separators"
        else:
            message = f"{_short(value)}: {item['msg'][0].lower()}{item['msg'][1:]}"
        issues.append(InputIssue(format_location(loc), message, code))
    return issues


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def cross_field_issues(problem: Problem) -> list[InputIssue]:
    """Every issue that needs more than one field to see: ids, references, feasibility of the data."""
    issues: list[InputIssue] = []

    def add(location: str, message: str, code: str) -> None:
        issues.append(InputIssue(location, message, code))

    def duplicates(ids: list[str], where: str, what: str) -> None:
        first: dict[str, int] = {}
        for index, ident in enumerate(ids):
            if ident in first:
                add(f"{where}[{index}].id", f"duplicate {what} id {ident!r} (first at {where}[{first[ident]}])",
                    "duplicate_id")
            else:
                first[ident] = index

    asset_ids = [asset.id for asset in problem.assets]
    duplicates(asset_ids, "assets", "asset")
    duplicates([account.id for account in problem.accounts], "accounts", "account")
    known = set(asset_ids)
    prices = {asset.id: asset.price for asset in problem.assets}

    def unknown_asset(location: str, asset: str) -> None:
        add(location, f"unknown asset {asset!r}; known assets: {', '.join(sorted(known))}", "unknown_asset")

    seen_holdings: dict[tuple[str, str], int] = {}
    inventory: Counter[str] = Counter()
    for index, holding in enumerate(problem.holdings):
        if holding.asset not in known:
            unknown_asset(f"holdings[{index}].asset", holding.asset)
            continue
        key = (holding.asset, holding.location)
        if key in seen_holdings:
            add(f"holdings[{index}]", f"duplicate holding of {holding.asset} at {holding.location!r} "
                f"(first at holdings[{seen_holdings[key]}]); merge them", "duplicate_holding")
        seen_holdings[key] = index
        inventory[holding.asset] += holding.quantity * prices[holding.asset]

    for index, account in enumerate(problem.accounts):
        where = f"accounts[{index}]"
        for table in ("haircuts", "concentration", "yields"):
            for asset in getattr(account, table):
                if asset not in known:
                    unknown_asset(f"{where}.{table}.{asset}", asset)
        for asset in account.concentration:
            if asset in known and asset not in account.haircuts:
                add(f"{where}.concentration.{asset}", f"{asset} has a concentration limit but no haircut, "
                    "so it is not eligible at this account; add a haircut or remove the limit", "ineligible_limit")
        if account.requirement > 0 and not any(inventory[asset] > 0 for asset in account.haircuts):
            add(f"{where}.requirement", f"requirement {account.requirement:g} > 0 but no eligible asset "
                f"(haircuts: {', '.join(account.haircuts) or 'none'}) is held anywhere", "no_eligible_asset")

    for index, route in enumerate(problem.routes or ()):
        where = f"routes[{index}]"
        if route.from_ == route.to:
            add(f"{where}.to", f"route from {route.from_!r} to itself", "self_route")
        for position, asset in enumerate(route.assets or ()):
            if asset not in known:
                unknown_asset(f"{where}.assets[{position}]", asset)
        if route.assets is not None and len(set(route.assets)) != len(route.assets):
            add(f"{where}.assets", "an asset is listed twice", "duplicate_asset")
    issues.extend(_overlapping_routes(problem))
    issues.extend(_money_range(problem, prices, sum(inventory.values())))
    return issues


def _overlapping_routes(problem: Problem) -> list[InputIssue]:
    issues = []
    owner: dict[tuple[str, str, str], int] = {}
    every_asset = [asset.id for asset in problem.assets]
    for index, route in enumerate(problem.routes or ()):
        for asset in route.assets if route.assets is not None else every_asset:
            other = owner.setdefault((route.from_, route.to, asset), index)
            if other != index:
                issues.append(InputIssue(f"routes[{index}]", f"overlaps routes[{other}] for {asset} "
                                         f"({route.from_} -> {route.to}); give each asset one route per direction",
                                         "duplicate_route"))
                break
    return issues


def _money_range(problem: Problem, prices: dict[str, float], inventory_value: float) -> list[InputIssue]:
    """Money beyond what the solver path resolves is rejected, not solved badly."""
    issues = []
    amounts = [(f"holdings[{i}]", h.quantity * prices.get(h.asset, 0.0)) for i, h in enumerate(problem.holdings)]
    amounts += [(f"accounts[{i}].requirement", a.required) for i, a in enumerate(problem.accounts)]
    total_required = sum(a.required for a in problem.accounts)
    scale = max(inventory_value, total_required)
    if scale > MAX_MONEY:
        issues.append(InputIssue("", f"total money {scale:.3g} exceeds the supported {MAX_MONEY:.0e}; "
                                 "state amounts in a larger currency unit", "scale_range"))
        return issues
    for location, amount in amounts:
        if amount > MAX_MONEY:
            issues.append(InputIssue(location, f"value {amount:.3g} exceeds the supported {MAX_MONEY:.0e}",
                                     "scale_range"))
        elif 0 < amount < MIN_RELATIVE_MONEY * scale:
            issues.append(InputIssue(location, f"value {amount:.3g} is below {MIN_RELATIVE_MONEY:.0e} of the "
                                     f"problem's money scale {scale:.3g}; remove it or merge it", "scale_range"))
    return issues
