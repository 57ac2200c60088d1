"""Scaling money and cost rates to order one before anything reaches a solver.

The program's variables are values in units of ``Scale.money`` (currency), so inventory, requirements and
collateral are all of order one whatever the currency or token counts; its objective is in units of
``Scale.money * Scale.rate``, so the cost row is of order one even when costs are a few basis points.
A solver never sees raw dollars or token counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.layout import Layout
from allocator.numbers import Numbers


@dataclass(frozen=True)
class Scale:
    money: float  # currency per program value unit
    rate: float  # cost per value unit, per program cost unit

    @classmethod
    def of(cls, layout: Layout, numbers: Numbers) -> Scale:
        money = max(float(numbers.value(layout).sum()), float(numbers.required.sum()))
        rates = np.concatenate([np.abs(numbers.carry_rate), numbers.move_rate, [0.0]])
        rate = float(rates.max())
        return cls(money=money if money > 0 else 1.0, rate=rate if rate > 0 else 1.0)

    @property
    def cost(self) -> float:
        """Currency per unit of the program's objective."""
        return self.money * self.rate
