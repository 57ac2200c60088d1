"""An account's haircuts and requirement taken from a venue rulebook (``rulebook = "hyperliquid"``).

For an account naming a rulebook (models/, see docs/rulebooks.md):

* haircuts: every rulebook collateral asset that the problem has gets the venue's haircut on the account's
  ``margin_basis`` (maintenance or initial); an asset in the account's own ``haircuts`` keeps the user's number
  (an override). A linear curve gives ``h = 1 - weight`` exactly. A tiered or size-dependent curve (concave,
  credit per unit falling with size) is linearised at the most the account could ever post, the problem's whole
  inventory of the asset, ``V``: ``h = 1 - value(V) / V``. Concavity with ``value(0) = 0`` makes ``value(v) / v``
  non-increasing, so this never overstates collateral at any posting; it is exact for small inventories and
  conservative when the inventory reaches the venue's upper tiers.
* requirement: when ``requirement`` is left out, the venue's margin of the account's positions at today's
  prices (``maintenance_margin`` or ``initial_margin``, by ``margin_basis``).

Both are computed again whenever the problem is validated, so a what-if that moves prices moves them too.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from allocator.errors import InputError, InputIssue

if TYPE_CHECKING:
    from allocator.problem import Problem
    from allocator.rulebooks import Rulebook


@cache
def _rulebook(name: str) -> Rulebook:
    from allocator.rulebooks import load_rulebook

    return load_rulebook(name)


def rulebook_issues(data: dict[str, object]) -> list[InputIssue]:
    """Unknown rulebook names, located at the account."""
    from allocator.raw import rows, text
    from allocator.rulebooks import available_rulebooks

    known = set(available_rulebooks())
    out = []
    for index, row in rows(data, "accounts"):
        name = text(row.get("rulebook"))
        if name is not None and name not in known:
            out.append(InputIssue(f"accounts[{index}].rulebook", f"unknown rulebook {name!r} (available: "
                                  f"{', '.join(sorted(known))})", "unknown_rulebook"))
        if row.get("requirement") is None and name is None:
            out.append(InputIssue(f"accounts[{index}].requirement", "is required (or name a rulebook to derive it "
                                  "from the account's positions)", "missing_field"))
    return out


def venue_terms(problem: Problem) -> list[tuple[dict[str, float], float]]:
    """Per account: (haircut per eligible asset, requirement); raises InputError with every located issue."""
    prices = {asset.id: asset.price for asset in problem.assets}
    inventory = {asset: 0.0 for asset in prices}
    for holding in problem.holdings:
        inventory[holding.asset] += holding.quantity * prices[holding.asset]
    out, issues = [], []
    for index, account in enumerate(problem.accounts):
        haircuts, requirement = dict(account.haircuts), account.requirement
        if account.rulebook is not None:
            where = f"accounts[{index}].rulebook"
            book = _rulebook(account.rulebook)
            try:
                derived = _haircuts(book, prices, inventory, account.margin_basis, problem.as_of)
                haircuts = {**derived, **account.haircuts}
                if requirement is None:
                    mine = [p for p in problem.positions if p.account == account.id]
                    margin = book.initial_margin if account.margin_basis == "initial" else book.maintenance_margin
                    requirement = float(margin(mine, prices, problem.as_of)) if mine else 0.0
            except InputError as error:
                issues += [InputIssue(where, f"{account.rulebook}: {issue.message}", issue.code)
                           for issue in error.issues]
            issues += [InputIssue(f"accounts[{index}].concentration.{asset}", f"{asset} has a concentration limit "
                                  f"but is not collateral at {account.rulebook} nor in the account's haircuts",
                                  "ineligible_limit") for asset in account.concentration if asset not in haircuts]
        out.append((haircuts, float(requirement or 0.0)))
    if issues:
        raise InputError(issues)
    return out


def _haircuts(book: Rulebook, prices: dict[str, float], inventory: dict[str, float], basis: str,
              as_of: str | None) -> dict[str, float]:
    out = {}
    for asset in book.collateral_assets:
        if asset not in prices:
            continue
        curve = book.collateral_curve(asset, prices[asset], basis, as_of)  # type: ignore[arg-type]
        most = inventory[asset]
        weight = curve.weight if curve.is_linear or most <= 0 else float(curve.value(most)) / most
        if weight > 0:  # an asset the venue credits at nothing is not eligible (not a haircut of 1)
            out[asset] = 1.0 - min(weight, 1.0)
    return out
