"""Who is liquidated, by which venue's rule, and what a liquidation costs and sells.

The rule of an account (docs/stress.md):

- ``aave-health-factor``: an account on an Aave v3 rulebook with no positions and no haircut of its own is
  liquidated when the rulebook's health factor (``AaveRulebook.health_factor``: value x average liquidation
  threshold, rounded down in bps, over the debt) is below 1; its debt is the account's requirement;
- ``binance-unimmr``: an account on Binance portfolio margin is liquidated when its uniMMR (equity over maintenance
  margin) is in a level of the rulebook's ``unimmr_levels`` whose status is a liquidation (``<= 1.05`` today);
- ``maintenance`` (every other account): liquidated when equity falls below the maintenance requirement, strictly.

What it costs: the account's ``[stress] liquidation_penalty``, else its rulebook's (Aave: the liquidation bonus
of its collateral, value-weighted), else ``DEFAULT_PENALTY``, as a share of the amount liquidated:

- an account without positions (a loan: Aave's debt, or a requirement given without positions) repays ``D = c x
  requirement`` (close factor ``c``: Aave's 50%, all of it at a health factor <= 0.95; 1 elsewhere) from
  collateral of value ``S = min(V, (1 + p) D)``: the desk loses ``S p / (1 + p)`` (the rest repays debt);
- an account with positions has them closed at the price of the moment: their loss ``L = max(-pnl, 0)`` is settled
  from its collateral and the venue charges ``p`` times the closed notional, at most what is left (``V - L``):
  ``S = min(V, L + fee)`` is sold and the fee is the desk's loss.

The venue sells the same share ``S / V`` of every collateral asset of the account (pro rata by value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from allocator.analysis.stress.book import Book
from allocator.analysis.stress.revalue import Valuation
from allocator.inputs.problem import Account, Problem
from allocator.venues.rulebooks import AaveRulebook, BinanceRulebook, Rulebook, load_rulebook

#: Liquidation penalty where neither the problem nor the rulebook gives one: 5% of the amount liquidated (Aave v3's
#: WETH and WBTC liquidation bonus, Mango v4's PREMIUM liquidation fee; /work/shared/reference/venues.md).
DEFAULT_PENALTY = 0.05
#: Aave v3's close factor, and the health factor at or below which a whole debt may be repaid at once
#: (aave-v3-core LiquidationLogic: DEFAULT_LIQUIDATION_CLOSE_FACTOR, CLOSE_FACTOR_HF_THRESHOLD; venues.md).
AAVE_CLOSE_FACTOR = 0.5
AAVE_FULL_CLOSE_AT = 0.95

Kind = Literal["maintenance", "aave-health-factor", "binance-unimmr"]


@dataclass(frozen=True)
class Rule:
    """How an account is judged and charged. ``threshold``: the ratio at (binance) or below which it is liquidated."""

    kind: Kind
    threshold: float
    rulebook: Rulebook | None
    penalty: float | None  # None: the rulebook's (Aave's bonus of the collateral)
    penalty_source: str
    loan: bool  # no positions: the requirement is a debt repaid from the collateral


def rules(problem: Problem, penalties: dict[str, float]) -> list[Rule]:
    """The rule of every account, in problem order."""
    return [_rule(problem, account, penalties) for account in problem.accounts]


def _rule(problem: Problem, account: Account, penalties: dict[str, float]) -> Rule:
    book = load_rulebook(account.rulebook) if account.rulebook is not None else None
    loan = not any(p.account == account.id for p in problem.positions)
    penalty, source = (penalties[account.id], "problem [stress]") if account.id in penalties else (
        DEFAULT_PENALTY, "default")
    own_terms = bool(account.haircuts or account.haircut_models)
    if isinstance(book, AaveRulebook) and loan and not own_terms:
        if account.id not in penalties:
            penalty, source = None, f"{book.name}: liquidation bonus"  # type: ignore[assignment]
        return Rule("aave-health-factor", 1.0, book, penalty, source, loan)
    if isinstance(book, BinanceRulebook):
        calm = [level.above for level in book.spec.unimmr_levels if not level.status.startswith("liquidation")]
        return Rule("binance-unimmr", min(calm) if calm else 0.0, book, penalty, source, loan)
    return Rule("maintenance", 1.0, book, penalty, source, loan)


def judge(rule: Rule, book: Book, k: int, valuation: Valuation, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) the rule's ratio (health factor, uniMMR or equity over maintenance) and whether account ``k`` is
    liquidated, for every row."""
    equity, line = valuation.equity[:, k], valuation.requirement_m[:, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(line > 0, equity / np.where(line > 0, line, 1.0), np.where(equity >= 0, np.inf, -np.inf))
    if rule.kind == "aave-health-factor":
        assert isinstance(rule.rulebook, AaveRulebook)
        held = {a: float(book.posted[book.assets.index(a), k]) for a in book.terms[k].eligible
                if book.posted[book.assets.index(a), k] > 0}
        ratio = np.array([rule.rulebook.health_factor(held, dict(zip(book.assets, map(float, row), strict=True)),
                                                      float(debt)) for row, debt in zip(price, line, strict=True)])
        return ratio, ratio < 1.0
    if rule.kind == "binance-unimmr":
        assert isinstance(rule.rulebook, BinanceRulebook)
        status = rule.rulebook.status
        ratio = np.where(line > 0, ratio, np.inf)  # uniMMR is infinite without a requirement
        return ratio, np.array([status(float(u)).startswith("liquidation") for u in ratio], dtype=bool)
    return ratio, equity < line


@dataclass(frozen=True, eq=False)
class Seizure:
    """(N,) per liquidated row: collateral value sold ``seized``, the desk's ``loss``, the debt or position loss it
    ``covered`` (seized - loss), and the ``share`` of every collateral asset sold."""

    seized: np.ndarray
    loss: np.ndarray
    covered: np.ndarray
    share: np.ndarray


def seize(rule: Rule, book: Book, k: int, valuation: Valuation, price: np.ndarray, ratio: np.ndarray) -> Seizure:
    """What liquidating account ``k`` in every row of ``price`` (N, n) sells and costs (module docstring)."""
    value = valuation.value[:, k]
    penalty = _penalty(rule, book, k, price)
    if rule.loan:
        close = np.where(ratio <= AAVE_FULL_CLOSE_AT, 1.0, AAVE_CLOSE_FACTOR) if rule.kind == "aave-health-factor" \
            else np.ones_like(value)
        seized = np.minimum(value, (1.0 + penalty) * close * valuation.requirement_m[:, k])
        loss = seized * penalty / (1.0 + penalty)
    else:
        owed = np.maximum(-valuation.pnl[:, k], 0.0)
        loss = np.minimum(penalty * valuation.notional[:, k], np.maximum(value - owed, 0.0))
        seized = np.minimum(value, owed + loss)
    share = np.where(value > 0, seized / np.where(value > 0, value, 1.0), 0.0)
    return Seizure(seized, loss, seized - loss, share)


def _penalty(rule: Rule, book: Book, k: int, price: np.ndarray) -> np.ndarray:
    if rule.penalty is not None:
        return np.full(price.shape[0], rule.penalty)
    assert isinstance(rule.rulebook, AaveRulebook)
    bonus, eligible = np.zeros(len(book.assets)), np.zeros(len(book.assets))
    for asset in book.terms[k].eligible:
        i = book.assets.index(asset)
        bonus[i], eligible[i] = rule.rulebook.reserve(asset).liquidation_bonus_bps / 10_000 - 1.0, 1.0
    value = price * (book.posted[:, k] * eligible)
    total = value.sum(axis=1)
    return np.where(total > 0, (value @ bonus) / np.where(total > 0, total, 1.0), DEFAULT_PENALTY)
