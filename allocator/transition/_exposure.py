"""The desk's exposure to volatile assets before and after a transition: what its trades do to its risk.

The problem has no "stablecoin" field, so the rule is the assets' own volatility: an asset is *volatile* when its
annual volatility (the ``[market]``'s if it lists the asset, else ``assets[].volatility``) is at least
``VOLATILE`` (5%), or unknown (an asset of unknown risk counts as risky). The exposure is the value of the
desk's holdings of volatile assets, wherever they sit (positions do not change in a transition, so they are left
out). Trades that raise it (a stablecoin sold for ETH) are stated in the result's notes.
"""

from __future__ import annotations

import numpy as np

from allocator.inputs.problem import Problem
from allocator.transition._result import TransitionExposure
from allocator.transition._verify import AMOUNT

#: Annual volatility from which an asset counts as volatile.
VOLATILE = 0.05


def volatile_assets(problem: Problem) -> list[str]:
    vol = {a.id: a.volatility for a in problem.assets}
    if problem.market is not None:
        vol.update(zip(problem.market.assets, map(float, problem.market.moments[0]), strict=True))
    return [a.id for a in problem.assets if vol[a.id] is None or vol[a.id] >= VOLATILE]  # type: ignore[operator]


def exposure(problem: Problem, before: np.ndarray, after: np.ndarray, money: float
             ) -> tuple[TransitionExposure, str | None]:
    """``before``/``after``: (A,) value of each asset held, all locations together (currency). Returns the
    exposure and a note when the trades raise it (beyond ``AMOUNT`` of the money scale)."""
    ids = [a.id for a in problem.assets]
    volatile = volatile_assets(problem)
    mask = np.isin(ids, volatile)
    result = TransitionExposure(volatile=volatile, before=float(before[mask].sum()), after=float(after[mask].sum()))
    if result.after <= result.before + AMOUNT * money:
        return result, None
    rises = ", ".join(f"{a} +{after[i] - before[i]:,.2f}" for i, a in enumerate(ids)
                      if mask[i] and after[i] - before[i] > AMOUNT * money)
    return result, (f"the trades raise the desk's exposure to volatile assets (annual volatility >= {VOLATILE:.0%} "
                    f"or unknown) from {result.before:,.2f} to {result.after:,.2f} ({rises})")
