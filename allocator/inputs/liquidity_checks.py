"""Cross-field checks of the liquidity inputs: venues, the schedule's withdrawal limits, trade data of assets.

Like checks.py they read the raw input and skip whatever is malformed (pydantic reports that). Codes:
``unknown_venue_location``, ``duplicate_venue``, ``unknown_asset``, ``duplicate_asset``, ``missing_adv`` (an asset
traded at a venue needs an ADV for its participation limit and impact), ``missing_volatility`` (an impact
coefficient needs a volatility: the market's or the asset's) and ``unknown_location`` (a withdrawal limit).
"""

from __future__ import annotations

from typing import Any

from allocator.errors import InputIssue
from allocator.inputs.raw import number, rows, table, text


def _locations(data: dict[str, Any]) -> set[str]:
    """Every location the problem names: holdings, accounts, [[locations]] and route endpoints (as
    Problem.locations)."""
    found = {text(row.get("location")) for _, row in rows(data, "holdings")}
    found |= {text(row.get("id")) for _, row in rows(data, "accounts")}
    found |= {text(row.get("id")) for _, row in rows(data, "locations")}
    for _, row in rows(data, "routes"):
        found |= {text(row.get("from")), text(row.get("to"))}
    return {name for name in found if name is not None}


def liquidity_issues(data: dict[str, Any], known: set[str]) -> list[InputIssue]:
    issues: list[InputIssue] = []

    def add(location: str, message: str, code: str) -> None:
        issues.append(InputIssue(location, message, code))

    locations = _locations(data)
    assets = {text(row.get("id")): row for _, row in rows(data, "assets")}
    market = table(data.get("market"))
    market_assets = {a for a in market.get("assets", []) if isinstance(a, str)} \
        if isinstance(market.get("assets"), list) else set()
    traded: dict[str, str] = {}
    first: dict[str, int] = {}
    for index, row in rows(data, "venues"):
        where = f"venues[{index}]"
        location = text(row.get("location"))
        if location is not None and locations and location not in locations:
            add(f"{where}.location", f"unknown venue location {location!r}; a venue sits at a holding location, "
                f"an account or a route endpoint: {', '.join(sorted(locations))}", "unknown_venue_location")
        if location is not None and first.setdefault(location, index) != index:
            add(f"{where}.location", f"a second venue at {location!r} (first at venues[{first[location]}]); "
                "list every asset of that location in one venue", "duplicate_venue")
        listed = row.get("assets")
        if not isinstance(listed, list):
            continue
        if len({str(a) for a in listed}) != len(listed):
            add(f"{where}.assets", "an asset is listed twice", "duplicate_asset")
        for position, asset in enumerate(listed):
            if isinstance(asset, str) and known and asset not in known:
                add(f"{where}.assets[{position}]", f"unknown asset {asset!r}; known assets: "
                    f"{', '.join(sorted(known))}", "unknown_asset")
            elif isinstance(asset, str):
                traded.setdefault(asset, f"{where}.assets[{position}]")
    for asset, where in traded.items():
        if asset not in assets:  # no asset table to check (a missing or malformed `assets` is reported elsewhere)
            continue
        row = assets[asset]
        index = next(i for i, r in rows(data, "assets") if text(r.get("id")) == asset)
        if row.get("adv") is None:
            add(f"assets[{index}].adv", f"{asset} is traded at a venue ({where}) but has no adv (average daily "
                "traded value, currency): its participation limit and impact need one", "missing_adv")
        impact = number(row.get("impact"))
        if impact and row.get("volatility") is None and asset not in market_assets:
            add(f"assets[{index}].volatility", f"{asset} has an impact coefficient but no volatility: give "
                "`volatility` (annual) or list it in [market]", "missing_volatility")

    schedule = table(data.get("schedule"))
    for location in table(schedule.get("withdrawal_limits")):
        if locations and location not in locations:
            add(f"schedule.withdrawal_limits.{location}", f"unknown location {location!r}", "unknown_location")
    return issues
