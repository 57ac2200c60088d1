"""Liquidation distance: how far prices must move before an account's collateral, revalued with its positions,
falls to its liquidation line: the maintenance requirement at the moved prices.

The line is the account's requirement when it is given; when its rulebook derives it from the positions, it is the
rulebook's maintenance margin of the positions re-derived at the moved prices (an account on ``margin_basis =
"initial"`` is liquidated at maintenance, and credits its collateral at the venue's maintenance haircuts, as the
stress test's line: docs/stress.md). Hedges passed apart add their ``margin``, fixed.

Two figures per account with positions: a uniform move of its main underlying alone (the underlying of its
largest exposure), and of the whole market (every market asset with a volatility of at least 5% a year; stablecoins
stay put). Each is the move closest to zero, down or up, at which ``equity(move) = requirement``, found with
Brent's method on ``[-0.999, 0]`` and ``[0, 10]``; none if no move in that range reaches it. Options are repriced.
An account whose equity less its line is linear in the move (no options, no collateral curve on what it holds, a
line that does not move: perps, futures, hedges and flat haircuts against a given requirement) has its root in
closed form, ``-gap(0) / (gap(1) - gap(0))``, the same point Brent's method converges to
(tests/test_liquidation_distance.py compares the two).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from allocator.inputs.market import Position, marked_pnl
from allocator.inputs.problem import Account, Problem
from allocator.venues.rulebooks import load_rulebook
from allocator.venues.terms import AccountTerms, venue_terms

MOVING = 0.05  # volatility above which an asset moves with "the whole market"
LOWEST, HIGHEST = -0.999, 10.0  # the range of moves searched


def liquidation_moves(problem: Problem, quantity: dict[tuple[str, str], float],
                      hedges: Sequence[Position] = (),
                      margin: Mapping[str, float] | None = None) -> dict[str, dict[str, float | str]]:
    """Per account with positions: ``main_underlying``, ``liquidation_move`` and ``market_liquidation_move``.
    ``hedges``: the hedges traded, as positions (they count like the account's positions); ``margin``: the
    requirement they add per account (docs/hedging.md)."""
    price = {a.id: a.price for a in problem.assets}
    marked = marked_pnl(problem.positions, price, problem.as_of)  # P&L since the last mark counts too
    market = problem.market
    moving = set(price) if market is None else {a for a, v in zip(market.assets, market.moments[0], strict=True)
                                                  if v >= MOVING}
    out: dict[str, dict[str, float | str]] = {}
    maintenance = _maintenance_terms(problem)
    for index, account in enumerate(problem.accounts):
        positions = [p for p in [*problem.positions, *hedges] if p.account == account.id]
        if not positions:
            continue
        exposure: dict[str, float] = {}
        for position in positions:
            exposure[position.underlying] = exposure.get(position.underlying, 0.0) + abs(
                position.quantity * position.delta(price[position.underlying], problem.as_of)
                * price[position.underlying])
        main = max(sorted(exposure), key=lambda a: exposure[a])

        terms = maintenance[index]
        line = _line(problem, account, terms, price, (margin or {}).get(account.id, 0.0))

        def equity(returns: dict[str, float], account=account, positions=positions,  # type: ignore[no-untyped-def]
                   terms=terms, line=line) -> float:
            moved = {a: price[a] * quantity.get((a, account.id), 0.0) * (1 + returns.get(a, 0.0))
                     for a in terms.eligible}
            collateral = sum(float(terms.curves[a].value(max(v, 0.0))) if a in terms.curves
                             else (1 - terms.eligible[a]) * v for a, v in moved.items())
            pnl = sum(p.pnl(price[p.underlying], returns.get(p.underlying, 0.0), problem.as_of) for p in positions)
            return collateral + marked.get(account.id, 0.0) + pnl - line(returns)

        linear = all(p.kind != "option" for p in positions) and not any(
            a in terms.curves and quantity.get((a, account.id), 0.0) != 0.0 for a in terms.eligible) \
            and not _derived(account)
        row: dict[str, float | str] = {"main_underlying": main}
        for name, assets in (("liquidation_move", {main}), ("market_liquidation_move", moving)):
            move = _nearest_root(lambda m, assets=assets: equity({a: m for a in assets}),  # type: ignore[misc]
                                 linear=linear)
            if move is not None:
                row[name] = move
        out[account.id] = row
    return out


def _derived(account: Account) -> bool:
    """Whether the account's rulebook derives its requirement from its positions (so it moves with prices)."""
    return account.rulebook is not None and account.requirement is None


def _maintenance_terms(problem: Problem) -> list[AccountTerms]:
    """Every account's terms on the maintenance basis: an account with a rulebook on ``margin_basis = "initial"``
    re-derived at maintenance (its venue's maintenance haircuts and margin), the others as they are."""
    initial = [a.rulebook is not None and a.margin_basis == "initial" for a in problem.accounts]
    if not any(initial):
        return [problem.terms[a.id] for a in problem.accounts]
    accounts = [a.model_copy(update={"margin_basis": "maintenance"}) if switch else a
                for a, switch in zip(problem.accounts, initial, strict=True)]
    return venue_terms(problem.model_copy(update={"accounts": accounts}))


def _line(problem: Problem, account: Account, terms: AccountTerms, price: Mapping[str, float],
          margin: float) -> Callable[[Mapping[str, float]], float]:
    """The account's liquidation line at the moved prices (``returns``: asset -> relative move): its requirement
    when given, else its rulebook's maintenance margin of its positions at those prices; plus ``margin``."""
    if account.rulebook is None or not _derived(account):
        fixed = terms.requirement + margin
        return lambda returns: fixed
    book = load_rulebook(account.rulebook)
    mine = [p for p in problem.positions if p.account == account.id]

    def line(returns: Mapping[str, float]) -> float:
        moved = {a: p * (1.0 + returns.get(a, 0.0)) for a, p in price.items()}
        return (book.mode_margin(mine, moved, problem.as_of, "maintenance",
                                 terms.mode) if mine else 0.0) + margin  # type: ignore[arg-type]
    return line


def _nearest_root(gap, linear: bool = False) -> float | None:  # type: ignore[no-untyped-def]
    """The move closest to zero in ``[-0.999, 10]`` where ``gap`` (equity less requirement) reaches zero; 0 if it
    already has, None if no move in the range does. ``linear``: ``gap`` is affine in the move."""
    at_zero = gap(0.0)
    if at_zero <= 0:
        return 0.0
    if linear:
        slope = gap(1.0) - at_zero
        root = -at_zero / slope if slope != 0.0 else None
        return float(root) if root is not None and LOWEST <= root <= HIGHEST else None
    from scipy.optimize import brentq  # here: a book whose distances are all linear never loads it (docs/cli.md)

    roots = [brentq(gap, low, high, xtol=1e-10) for low, high in ((LOWEST, 0.0), (0.0, HIGHEST))
             if np.sign(gap(low)) != np.sign(gap(high))]
    return float(min(roots, key=abs)) if roots else None
