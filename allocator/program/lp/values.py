"""The scaled numbers of the linear program, in numpy: exactly what ``Parameters.assign`` gives the cvxpy
parameters of the same names, for the features the compile-free path supports (support.py).

Kept beside the cvxpy version rather than shared so that the fast path never creates cvxpy objects; a test
(tests/test_fast_lp.py) checks the two agree on every fixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.program.layout import Layout
from allocator.program.numbers import Numbers
from allocator.program.scaling import Scale


@dataclass(frozen=True, eq=False)
class LinearValues:
    holdings: np.ndarray  # (cells,) value held today / S
    weight: np.ndarray  # (P,) (1 - haircut) / account scale
    required: np.ndarray  # (K,) buffered requirement net of P&L / (S * account scale), plus the coverage margin
    limit: np.ndarray  # (C,) concentration share, less the limit margin
    share_weight: np.ndarray  # (C,) (1 - haircut) / account scale of each limited pair
    carry: np.ndarray  # (A*K,) carry cost rate of value at each account / rate scale
    move: np.ndarray  # (M,) cost rate of value moved / rate scale
    account_scale: np.ndarray  # (K,) weights of the elastic program's shortfalls
    limit_scale: np.ndarray  # (C,) weights of its concentration excesses

    @classmethod
    def of(cls, layout: Layout, numbers: Numbers, scale: Scale, coverage_margin: float,
           limit_margin: float) -> LinearValues:
        account = scale.accounts
        limited = layout.limit_pair
        return cls(
            holdings=numbers.value(layout) / scale.money,
            weight=flat(layout, 1.0 - numbers.haircut) / account[layout.pair_account],
            required=numbers.required / (scale.money * account) + coverage_margin * (numbers.required > 0),
            limit=numbers.limit * (1.0 - limit_margin),
            share_weight=(1.0 - numbers.haircut[limited]) / account[layout.pair_account[limited]],
            carry=numbers.carry_rate / scale.rate,
            move=numbers.move_rate / scale.rate,
            account_scale=account,
            limit_scale=account[layout.pair_account[limited]],
        )


def flat(layout: Layout, weight: np.ndarray) -> np.ndarray:
    """Per-pair weights with the curved pairs at zero: their credit is a variable of its own (credit.py)."""
    out = np.array(weight, dtype=float)
    out[layout.curve_pairs] = 0.0
    return out
