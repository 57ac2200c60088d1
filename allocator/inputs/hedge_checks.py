"""Cross-field checks of hedges, delta bands and margin modes (docs/hedging.md, docs/margin-modes.md).

Like checks.py they read the raw input, skip whatever is malformed (pydantic reports that) and locate every issue
as the user wrote it. Rulebook-dependent checks (a mode the venue does not offer, a hedge the venue cannot margin)
are in venues/terms.py.
"""

from __future__ import annotations

from typing import Any

from allocator.errors import InputIssue
from allocator.inputs.isolated import sub_account
from allocator.inputs.raw import rows, table, text


def hedge_issues(data: dict[str, Any], known: set[str]) -> list[InputIssue]:
    issues: list[InputIssue] = []
    accounts = {text(row.get("id")): (index, row) for index, row in rows(data, "accounts")}
    market = data.get("market")
    market_assets = {a for a in market.get("assets") or [] if isinstance(a, str)} \
        if isinstance(market, dict) and isinstance(market.get("assets"), list) else None
    traded: dict[str, set[str]] = {}  # owner account (the parent of a sub-account) -> underlyings hedged there
    seen: dict[tuple[str, str], int] = {}
    for j, row in rows(data, "hedges"):
        account, instrument, underlying = text(row.get("account")), text(row.get("instrument")), \
            text(row.get("underlying"))
        unknown_account = account is not None and account not in accounts
        unknown_asset = underlying is not None and bool(known) and underlying not in known
        if unknown_account:
            issues.append(InputIssue(f"hedges[{j}].account", f"unknown account {account!r}", "unknown_account"))
        if unknown_asset:
            issues.append(InputIssue(f"hedges[{j}].underlying", f"unknown asset {underlying!r}", "unknown_asset"))
        if unknown_account or unknown_asset or account is None or instrument is None or underlying is None:
            continue
        if seen.setdefault((account, instrument), j) != j:
            issues.append(InputIssue(f"hedges[{j}].instrument", f"{instrument!r} is already a hedge at {account!r} "
                                     f"(hedges[{seen[(account, instrument)]}]); give each instrument one entry",
                                     "duplicate_hedge"))
        index, owner = accounts[account]
        traded.setdefault(text(owner.get("parent")) or account, set()).add(underlying)
        if owner.get("risk") is not None and market_assets is not None and underlying not in market_assets:
            issues.append(InputIssue(f"hedges[{j}].underlying", f"{underlying} has no volatility in market.assets, "
                                     f"and accounts[{index}] has risk limits that must see the hedge",
                                     "missing_volatility"))
    for index, row in rows(data, "accounts"):
        ident = text(row.get("id"))
        for asset in table(row.get("max_net_delta")):
            if known and asset not in known:
                issues.append(InputIssue(f"accounts[{index}].max_net_delta.{asset}", f"unknown asset {asset!r}",
                                         "unknown_asset"))
            elif asset not in traded.get(str(ident), set()):
                issues.append(InputIssue(f"accounts[{index}].max_net_delta.{asset}", f"no hedge at {ident!r} trades "
                                         f"{asset}: a delta band needs one (add a [[hedges]] entry)", "no_hedge"))
    everywhere = set().union(*traded.values()) if traded else set()
    for asset in table(data.get("max_net_delta")):
        if known and asset not in known:
            issues.append(InputIssue(f"max_net_delta.{asset}", f"unknown asset {asset!r}", "unknown_asset"))
        elif asset not in everywhere:
            issues.append(InputIssue(f"max_net_delta.{asset}", f"no hedge trades {asset}: the treasury's delta band "
                                     "needs one (add a [[hedges]] entry)", "no_hedge"))
    return issues + _mode_issues(data, accounts)


def _mode_issues(data: dict[str, Any], accounts: dict[str | None, tuple[int, dict[str, Any]]]) -> list[InputIssue]:
    """Sub-account ids of isolated accounts that would clash with another account or location; ``parent``
    naming anything but an isolated account."""
    issues: list[InputIssue] = []
    taken = {a for a in accounts if a is not None} | {text(row.get("location")) for _, row in rows(data, "holdings")}
    taken |= {text(row.get("id")) for _, row in rows(data, "locations")}
    for index, row in accounts.values():
        ident, parent = text(row.get("id")), text(row.get("parent"))
        if parent is not None:
            owner = accounts.get(parent)
            if owner is None or owner[1].get("margin_mode") != "isolated" or row.get("margin_mode") != "isolated":
                issues.append(InputIssue(f"accounts[{index}].parent", f"{parent!r} is not an isolated account "
                                         "(parent is set on the sub-accounts of an isolated account, both with "
                                         "margin_mode = 'isolated')", "bad_parent"))
            continue
        if row.get("margin_mode") != "isolated" or ident is None:
            continue
        for key in ("positions", "hedges"):
            for _, item in rows(data, key):
                name = text(item.get("instrument"))
                if item.get("account") == ident and name is not None and sub_account(ident, name) in taken:
                    issues.append(InputIssue(f"accounts[{index}].margin_mode", f"the sub-account "
                                             f"{sub_account(ident, name)!r} of isolated {ident!r} clashes with an "
                                             "account or location of that name; rename one", "duplicate_id"))
    return issues
