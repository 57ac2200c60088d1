"""The scaled numbers of the linear program, in numpy: exactly what ``Parameters.assign`` gives the cvxpy
parameters of the same names, for the features the compile-free path supports (support.py).

Kept beside the cvxpy version rather than shared so that the fast path never creates cvxpy objects; a test
(tests/test_fast_lp.py) checks the two agree on every fixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale


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
    hedges: HedgeValues | None = None  # the hedges' numbers; None without hedges

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
            hedges=HedgeValues.of(layout, numbers, scale, numbers.limit * (1.0 - limit_margin))
            if layout.n_hedges else None,
        )


def flat(layout: Layout, weight: np.ndarray) -> np.ndarray:
    """Per-pair weights with the curved pairs at zero: their credit is a variable of its own (_credit.py)."""
    out = np.array(weight, dtype=float)
    out[layout.curve_pairs] = 0.0
    return out


def hedge_limit_pairs(layout: Layout) -> np.ndarray:
    """(C_h, 2) every (concentration limit, column of ``x = [l; s]``) of a hedge at the limit's account: the
    entries through which a cap gives back the hedge's buffered margin (program/_hedges.py)."""
    return np.argwhere(layout.pair_account[layout.limit_pair][:, None]
                       == np.concatenate([layout.hedge_account, layout.hedge_account])[None, :])


@dataclass(frozen=True, eq=False)
class HedgeValues:
    """The hedges' numbers of the linear rows (program/_hedges.py), stacked ``[long; short]`` where 2H long: what
    ``HedgeParameters.assign`` gives the cvxpy parameters of the same names."""

    scale: np.ndarray  # (H,) the account scale a of each hedge's account
    size: np.ndarray  # (H,) max_notional / (a S)
    cost: np.ndarray  # (2H,) (funding + fee) a / rate scale for a long unit, (fee - funding) a / rate for a short
    coverage: np.ndarray  # (2H,) margin rate * (1 + buffer): taken off the account's collateral
    limit_pairs: np.ndarray  # (C_h, 2) (concentration limit, column of x), hedge_limit_pairs
    limit: np.ndarray  # (C_h,) the limit's share times margin rate * (1 + buffer): given back to its cap

    @classmethod
    def of(cls, layout: Layout, numbers: Numbers, scale: Scale, limit: np.ndarray) -> HedgeValues:
        """``limit`` (C,): the concentration shares as the program uses them (``LinearValues.limit``)."""
        size = scale.accounts[layout.hedge_account]
        rates = np.concatenate([numbers.hedge_rate_long, numbers.hedge_rate_short])
        coverage = rates * np.tile(1.0 + numbers.buffer[layout.hedge_account], 2)
        pairs = hedge_limit_pairs(layout)
        limits, columns = pairs.T
        return cls(scale=size, size=numbers.hedge_max / (scale.money * size),
                   cost=np.concatenate([numbers.hedge_funding + numbers.hedge_fee,
                                        numbers.hedge_fee - numbers.hedge_funding]) * np.tile(size, 2) / scale.rate,
                   coverage=coverage, limit_pairs=pairs, limit=limit[limits] * coverage[columns])
