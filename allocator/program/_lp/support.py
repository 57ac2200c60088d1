"""Which problems the compile-free linear path serves: an explicit list of layout features.

Every field of :class:`~allocator.program._layout.Layout` is either structure the LP is built from (``STRUCTURE``),
data the LP does not read (``IGNORED``: the market's shape matters only to risk rows), or a feature the LP does not
have (``NEEDS_CVXPY``: collateral curves, risk limits, CVaR, the portfolio limit and net-delta limits), which must
be empty.

Hedges (``[[hedges]]``) are structure: their long and short columns, their cost, their buffered margin in their
account's collateral, what concentration caps give back and their size rows are the cvxpy program's linear rows
(program/_hedges.py, matrices.py). Their other terms belong to features that already send a problem to cvxpy: the
cones', stress, CVaR and portfolio rows (risk limits) and the delta bands (net-delta limits, ``max_net_delta``).

A field this module does not know (a feature added to the cvxpy program later) sends the problem to the cvxpy
program whenever it is set: the fast path never silently drops a constraint it was not written for.

Margin modes need nothing of their own: an isolated account is expanded into ordinary accounts when the problem is
validated (inputs/isolated.py), each with its own requirement and zero-cost routes to its wallet, so the LP sees
them like any other account. ``parent`` (which sub-account belongs to which account) is read only by net-delta
limits, which the LP does not have, and by the result's delta rows, which are shared.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from allocator.program._layout import Layout

#: Fields the LP is built from.
STRUCTURE = frozenset({"assets", "locations", "accounts", "account_location", "has_hub", "edge_from", "edge_to",
                       "edge_route", "move_asset", "move_edge", "pair_asset", "pair_account", "limit_pair",
                       "hedge_account", "hedge_asset", "hedge_names"})
#: Fields with no row in the LP unless a NEEDS_CVXPY feature is present (a market or stress scenarios alone are
#: only read by risk rows).
IGNORED = frozenset({"market_assets", "n_factors", "has_specific", "stress", "parent"})
#: Features the LP does not have, each with what a user would call it.
NEEDS_CVXPY = {
    "curve_pairs": "collateral curves (chords)",
    "risk_accounts": "risk limits (parametric or stress)",
    "cone": "parametric risk limits (cones)",
    "cvar_accounts": "CVaR limits",
    "cvar_draws": "CVaR limits",
    "portfolio": "a portfolio limit",
    "portfolio_stress": "portfolio stress rows",
    "delta_owner": "net-delta limits (max_net_delta)",
    "delta_asset": "net-delta limits (max_net_delta)",
}


def _set(value: object) -> bool:
    if isinstance(value, np.ndarray | tuple | list | frozenset | set | dict):
        return len(value) > 0
    return bool(value)


def unsupported(layout: Layout) -> list[str]:
    """Why the compile-free path cannot solve this layout (an empty list: it can)."""
    reasons: list[str] = []
    for field in fields(layout):
        name = field.name
        if name in STRUCTURE or name in IGNORED:
            continue
        value = getattr(layout, name)
        if _set(value):
            reason = NEEDS_CVXPY.get(name, f"layout feature {name!r}, unknown to the linear path")
            if reason not in reasons:
                reasons.append(reason)
    return reasons
