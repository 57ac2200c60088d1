"""Scaling money and cost rates to order one before anything reaches a solver.

The program's variables are values in units of ``Scale.money`` (currency), so inventory, requirements and
collateral are all of order one whatever the currency or token counts; its objective is in units of
``Scale.money * Scale.rate``, so the cost row is of order one even when costs are a few basis points.
A solver never sees raw dollars or token counts.

Each account's rows (collateral, coverage, concentration) are further normalised by the account's own scale,
``max(buffered requirement, collateral today)`` as a share of the money scale (at least ``MIN_ACCOUNT_SCALE``), so
that a solver's absolute tolerance is relative to the account, not to the whole book: a $3M account inside a
$5T book is then solved to about a dollar, not to thousands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.program._layout import Layout
from allocator.program._numbers import Numbers

#: Accounts smaller than this share of the money scale are normalised as if they were this large.
MIN_ACCOUNT_SCALE = 1e-4


@dataclass(frozen=True, eq=False)
class Scale:
    money: float  # currency per program value unit
    rate: float  # cost per value unit, per program cost unit
    accounts: np.ndarray  # (K,) each account's own scale, as a share of ``money``

    @classmethod
    def of(cls, layout: Layout, numbers: Numbers) -> Scale:
        money = max(float(numbers.value(layout).sum()), float(numbers.required.sum()))
        money = money if money > 0 else 1.0
        rates = np.concatenate([np.abs(numbers.carry_rate), numbers.move_rate, [0.0],
                                np.abs(numbers.hedge_funding) + numbers.hedge_fee])  # hedges: funding and fees
        rate = float(rates.max())
        today = np.bincount(layout.pair_account, minlength=len(layout.accounts),
                            weights=(1.0 - numbers.haircut) * numbers.value(layout)[layout.pair_cell])
        accounts = np.clip(np.maximum(numbers.required, today) / money, MIN_ACCOUNT_SCALE, 1.0)
        return cls(money=money, rate=rate if rate > 0 else 1.0, accounts=accounts)

    def account_money(self) -> np.ndarray:
        """(K,) currency per unit of each account's normalised collateral."""
        return self.accounts * self.money

    @property
    def cost(self) -> float:
        """Currency per unit of the program's objective."""
        return self.money * self.rate
