"""The liquidation cascade: liquidated collateral sold into the market moves prices, which may liquidate more.

Round 1 revalues every account at the shocked prices ``s`` and liquidates those its venue's rule condemns
(liquidation.py). A liquidated account's venue sells a share of its collateral, set by the prices of the moment
(a loan needs more units at lower prices). The sales move every asset's price by the square-root law of the units
sold, valued at today's prices (liquidity.py). With the set ``L`` of liquidated accounts fixed, the prices solve
``p = s (1 - fall(sold_L(p)))``: lower prices mean larger shares sold, so the iteration from ``p = s`` only goes
down and converges to the largest such fixed point (to ``TOLERANCE``, in at most ``MAX_ITERATIONS`` steps). Round
``r + 1`` liquidates the accounts still standing that fall at those prices and solves again; a round that finds no
one new ends it. ``L`` only grows, so there are at most as many rounds as accounts.

Every figure is read at the final prices: each account's valuation, and each liquidation's sale and cost. Sales
only lower prices, so for a book long in every asset the cascade never adds value, and a larger shock never
liquidates fewer accounts (the fixed point is monotone in the shock: tests/test_stress_cascade.py).

The treasury's value counts the units left at the final prices, plus what the sales paid (debt repaid, position
losses settled), plus the positions' P&L: ``value = sum_a units_a p_a + sum_j (covered_j + pnl_j)``. ``before`` is
the same today; the loss is ``before - value`` (the liquidation penalties are part of it); the cascade's extra
loss is the loss less that of round 1 alone at the shocked prices, without any price impact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.analysis.stress.book import Book
from allocator.analysis.stress.liquidation import Rule, judge, seize
from allocator.analysis.stress.liquidity import Liquidity
from allocator.analysis.stress.revalue import FIELDS, Valuation, revalue

#: Relative price change below which the prices of a round have reached their fixed point.
TOLERANCE = 1e-12
#: Price iterations per round at most (the square-root law with realistic ADVs converges in a handful).
MAX_ITERATIONS = 200


@dataclass(frozen=True, eq=False)
class Settlement:
    """(N, m) the rule's ratio, and for liquidated pairs what the sale took, cost, paid and its share; (N, n) the
    units sold."""

    ratio: np.ndarray
    condemned: np.ndarray
    seized: np.ndarray
    loss: np.ndarray
    covered: np.ndarray
    share: np.ndarray
    sold: np.ndarray


def settle(book: Book, rules: list[Rule], valuation: Valuation, price: np.ndarray,
           liquidated: np.ndarray | None = None) -> Settlement:
    """Judge every account at ``price`` and settle the liquidation of the pairs in ``liquidated`` (N, m) there
    (None: of those the rules condemn)."""
    rows, accounts = valuation.value.shape
    ratio, condemned = np.zeros((rows, accounts)), np.zeros((rows, accounts), dtype=bool)
    seized, loss, covered, share = (np.zeros((rows, accounts)) for _ in range(4))
    for k, rule in enumerate(rules):
        ratio[:, k], condemned[:, k] = judge(rule, book, k, valuation, price)
        hit = condemned[:, k] if liquidated is None else liquidated[:, k]
        if hit.any():
            taken = seize(rule, book, k, valuation.rows(hit), price[hit], ratio[hit, k])
            seized[hit, k], loss[hit, k], covered[hit, k], share[hit, k] = (taken.seized, taken.loss, taken.covered,
                                                                             taken.share)
    return Settlement(ratio, condemned, seized, loss, covered, share, share @ book.posted.T)


@dataclass(frozen=True, eq=False)
class Outcome:
    """Per price row (N) and account (m): what the stress did, read at the final prices."""

    shocked: np.ndarray  # (N, n)
    price: np.ndarray  # (N, n) after the cascade
    round: np.ndarray  # (N, m) the round an account was liquidated in; 0: never
    state: Valuation  # (N, m) every account at the final prices
    settlement: Settlement
    iterations: np.ndarray  # (N,) price iterations in all
    before: float  # the treasury's value today
    after: np.ndarray  # (N,) its value after the stress
    after_round_one: np.ndarray  # (N,) its value after round 1 alone, at the shocked prices

    @property
    def rounds(self) -> np.ndarray:
        """(N,) rounds in which accounts were liquidated."""
        return self.round.max(axis=1)

    @property
    def total_loss(self) -> np.ndarray:
        return self.before - self.after

    @property
    def cascade_loss(self) -> np.ndarray:
        """(N,) the loss the cascade added to round 1's (0 without one)."""
        return self.after_round_one - self.after


def run(book: Book, rules: list[Rule], liquidity: Liquidity, shocked: np.ndarray, cascade: bool = True) -> Outcome:
    """Stress ``book`` at every row of ``shocked`` (N, n): liquidations, then (with ``cascade``) their sales."""
    shocked = np.asarray(shocked, dtype=float)
    rows, accounts = shocked.shape[0], len(book.accounts)
    first = revalue(book, shocked)
    round_one = settle(book, rules, first, shocked)
    when = np.where(round_one.condemned, 1, 0)
    price, iterations = shocked.copy(), np.zeros(rows, dtype=int)
    moved = np.flatnonzero(when.any(axis=1)) if cascade else np.array([], dtype=int)
    active = moved
    for step in range(2, accounts + 2):  # a round adds at least one account, or ends the cascade
        if active.size == 0:
            break
        here, count = _fixed_point(book, rules, liquidity, shocked[active], price[active], when[active] > 0)
        price[active], iterations[active] = here, iterations[active] + count
        found = settle(book, rules, revalue(book, here), here, np.zeros((active.size, accounts), dtype=bool))
        new = found.condemned & (when[active] == 0)
        when[active] = np.where(new, step, when[active])
        active = active[new.any(axis=1)]
    state = {name: getattr(first, name).copy() for name in FIELDS}
    final = Settlement(*(getattr(round_one, name).copy() for name in Settlement.__dataclass_fields__))
    if moved.size:
        valuation = revalue(book, price[moved])
        for name in FIELDS:
            state[name][moved] = getattr(valuation, name)
        again = settle(book, rules, valuation, price[moved], when[moved] > 0)
        for name in Settlement.__dataclass_fields__:
            getattr(final, name)[moved] = getattr(again, name)
    valuation = Valuation(**state)
    before = float(book.total @ book.price + revalue(book, book.price[None, :]).pnl[0].sum())
    return Outcome(shocked, price, when, valuation, final, iterations, before,
                   _value(book, price, final, valuation.pnl), _value(book, shocked, round_one, first.pnl))


def _fixed_point(book: Book, rules: list[Rule], liquidity: Liquidity, shocked: np.ndarray, start: np.ndarray,
                 liquidated: np.ndarray) -> tuple[np.ndarray, int]:
    """The largest prices at or below ``start`` with ``p = shocked (1 - fall(sold(p)))`` for the liquidated set."""
    price = start
    for count in range(1, MAX_ITERATIONS + 1):
        sold = settle(book, rules, revalue(book, price), price, liquidated).sold
        following = np.minimum(shocked * (1.0 - liquidity.fall(sold)), price)
        if np.all(np.abs(following - price) <= TOLERANCE * price):
            return following, count
        price = following
    return price, MAX_ITERATIONS


def _value(book: Book, price: np.ndarray, settlement: Settlement, pnl: np.ndarray) -> np.ndarray:
    """(N,) the treasury's value: units left at ``price``, plus what the sales paid, plus the positions' P&L."""
    left = (price @ book.posted) * (1.0 - settlement.share)
    return price @ book.elsewhere + (left + settlement.covered + pnl).sum(axis=1)
