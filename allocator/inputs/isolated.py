"""Isolated margin accounts as sub-accounts (docs/margin-modes.md).

An account with ``margin_mode = "isolated"`` holds each instrument in a sub-account of its own, with its own
requirement and its own collateral: nothing is netted or shared between them. When a problem is validated, each
such account is expanded (so the program, its verification, the plan, the result and every analysis see the same
accounts):

* every instrument of its positions and hedges gets a sub-account ``<account>/<instrument>`` with the account's
  terms (rulebook, basis, haircuts, haircut models, concentration limits, yields, risk settings, buffer) and
  ``parent = <account>``; the positions and hedges of that instrument move to it, so the rulebook derives its
  requirement from them alone;
* the account itself stays, with the same terms and no positions: the venue wallet where today's holdings sit.
  Its requirement is 0 (derived from no positions); value there is charged like value posted at the account, and
  its risk and concentration limits still apply to what it holds, so an isolated account never needs less than the
  same account in cross mode (docs/margin-modes.md says when that holds);
* moving value between the wallet and a sub-account is free: with a ``routes`` table, a zero-cost route each way
  is added for every sub-account (routes to and from the account reach the sub-accounts through the wallet).

The expansion works on the data of a problem that has been validated as written (so issues are located as the user
wrote them) and is idempotent: a sub-account (``parent`` set) is never expanded again, and the wallet has no
positions left to expand.
"""

from __future__ import annotations

from typing import Any

#: Between an isolated account's id and its instrument in a sub-account's id.
SEPARATOR = "/"


def sub_account(account: str, instrument: str) -> str:
    return f"{account}{SEPARATOR}{instrument}"


def _isolated(data: dict[str, Any]) -> list[str]:
    accounts = data.get("accounts")
    if not isinstance(accounts, list):
        return []
    return [row["id"] for row in accounts if isinstance(row, dict) and row.get("margin_mode") == "isolated"
            and row.get("parent") is None and isinstance(row.get("id"), str)]


def _instruments(data: dict[str, Any], account: str) -> list[str]:
    """The instruments of the account's positions and hedges, in order of first appearance."""
    found: dict[str, None] = {}
    for key in ("positions", "hedges"):
        rows = data.get(key)
        for row in rows if isinstance(rows, list) else ():
            if isinstance(row, dict) and row.get("account") == account and isinstance(row.get("instrument"), str):
                found.setdefault(row["instrument"])
    return list(found)


def needs_expansion(data: Any) -> bool:
    """Whether the raw problem data has an isolated account with positions or hedges still to move."""
    return isinstance(data, dict) and any(_instruments(data, account) for account in _isolated(data))


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """The data with every isolated account expanded (module docstring). ``data`` is a validated problem's
    ``model_dump(by_alias=True)``; it is not changed."""
    out = dict(data)
    accounts = [dict(row) for row in data["accounts"]]
    positions = [dict(row) for row in data.get("positions") or []]
    hedges = [dict(row) for row in data.get("hedges") or []]
    routes = None if data.get("routes") is None else [dict(row) for row in data["routes"]]
    for account in _isolated(data):
        instruments = _instruments(data, account)
        if not instruments:
            continue
        at = next(i for i, row in enumerate(accounts) if row["id"] == account)
        wallet = accounts[at]
        subs = [{**wallet, "id": sub_account(account, name), "parent": account, "max_net_delta": {}}
                for name in instruments]
        accounts[at + 1:at + 1] = subs
        for row in positions + hedges:
            if row["account"] == account:
                row["account"] = sub_account(account, row["instrument"])
        if routes is not None:
            routes += [{"from": a, "to": b, "cost_bps": 0.0} for sub in subs
                       for a, b in ((account, sub["id"]), (sub["id"], account))]
    out.update(accounts=accounts, positions=positions, hedges=hedges, routes=routes)
    return out


def collapse(data: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``expand``: every sub-account's positions and hedges back at its parent, its holdings merged
    into the parent's, the sub-account and its wallet routes gone. ``data`` is a validated problem's
    ``model_dump(by_alias=True)``; it is not changed. Used to put an expanded problem in another margin mode."""
    parent = {row["id"]: row["parent"] for row in data["accounts"] if row.get("parent") is not None}
    if not parent:
        return data
    out = dict(data)
    out["accounts"] = [dict(row) for row in data["accounts"] if row["id"] not in parent]
    for key in ("positions", "hedges"):
        out[key] = [{**row, "account": parent.get(row["account"], row["account"])} for row in data.get(key) or []]
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in data.get("holdings") or []:
        where = (row["asset"], parent.get(row["location"], row["location"]))
        if where in merged:
            merged[where]["quantity"] += row["quantity"]
        else:
            merged[where] = {**row, "location": where[1]}
    out["holdings"] = list(merged.values())
    if data.get("routes") is not None:
        out["routes"] = [dict(row) for row in data["routes"] if row["from"] not in parent and row["to"] not in parent]
    return out
