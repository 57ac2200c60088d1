"""``all_stable``: everything posted in stablecoins.

Every day, any collateral that is not a stablecoin (``BacktestSettings.stablecoins``: USDC and the dollar
stablecoins of models/stress-episodes.toml) goes back to the treasury; an account that is then outside the band is
brought back to its target with stablecoins: above it, the dearest stablecoins go back first; below it, free
stablecoins come in, cheapest per unit of credit first, and when the treasury has too few it **buys** them: it
sells free holdings of other assets, the lowest carry first (the least income lost), for the cash stablecoin where
they sit, paying the trading cost. An account where no stablecoin is eligible is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from allocator.analysis.backtest.moves import Draft, Moves
from allocator.analysis.backtest.policies.band import Band, Bands
from allocator.analysis.backtest.policies.fill import (
    buy,
    credit_now,
    free_lots,
    release,
    release_all,
    top_up,
    unit_credit,
)
from allocator.analysis.backtest.policies.waterfall import dearest, ranked
from allocator.analysis.backtest.state import DayState


class AllStable:
    """Stablecoins only (module docstring)."""

    name = "all_stable"

    def __init__(self, band: Band | str | None = None, bands: dict[str, Band | str] | None = None,
                 label: str | None = None) -> None:
        self.band = Bands(band, bands)
        self.name = label or type(self).name

    def decide(self, state: DayState) -> Moves:
        stable = set(state.stablecoins)
        draft = state.draft()
        usable = [a.index for a in state.accounts if any(unit_credit(state, a.index, s) > 0 for s in stable)]
        for k in usable:
            release_all(state, draft, k, keep=lambda asset: asset in stable)
        acted = []
        for k in usable:
            account = state.accounts[k]
            band = self.band[account.id]
            if account.requirement <= 0:
                continue
            credit = credit_now(state, draft, k)
            target = band.aim * account.requirement
            if credit > band.high * account.requirement:
                release(state, draft, k, credit - target, [a for a in dearest(state, k) if a in stable])
                acted.append(account.id)
            elif credit < band.low * account.requirement:
                post_or_buy(state, draft, k, target - credit, stable, target, self._cash(state, k))
                acted.append(account.id)
        return draft.moves_or_none(f"stablecoins only; rebalanced: {', '.join(acted) or 'none'}")

    @staticmethod
    def _cash(state: DayState, k: int) -> str:
        """The stablecoin bought for account ``k``: the cash asset if eligible there, else its best credited one."""
        cash = state.settings.cash_asset(state.problem)
        if unit_credit(state, k, cash) > 0:
            return cash
        return max(state.stablecoins, key=lambda s: unit_credit(state, k, s))


def by_carry(state: DayState, exclude: set[str]) -> list[str]:
    """Assets to sell, the lowest carry first (the least income given up), leaving out ``exclude``."""
    carry = {a.id: a.carry for a in state.problem.assets}
    return sorted((a for a in state.assets if a not in exclude), key=lambda a: (carry[a], state.assets.index(a)))


def post_or_buy(state: DayState, draft: Draft, k: int, need: float, assets: Iterable[str], target: float,
                buy_asset: str) -> None:
    """Post ``need`` of credit to account ``k`` from the free holdings of ``assets`` (cheapest to deliver first);
    for what they lack, buy ``buy_asset`` by selling free holdings of other assets (the lowest carry first) and post
    it, up to ``target`` credit."""
    keep = set(assets)
    need -= top_up(state, draft, k, need, ranked(state, k, free_lots(state, draft, keep)), target)
    if need <= 0:
        return
    value = need / unit_credit(state, k, buy_asset) * state.price[state.assets.index(buy_asset)]
    if buy(state, draft, buy_asset, value, by_carry(state, exclude=keep | {buy_asset})) > 0:
        top_up(state, draft, k, need, ranked(state, k, free_lots(state, draft, [buy_asset])), target)
