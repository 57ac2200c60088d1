"""``waterfall``: greedy cheapest-to-deliver, as operations teams do.

When an account leaves the band, it is brought back to the band's target: an account above the band releases its
dearest collateral first (the highest income forgone per unit of credit, ``(carry - yield) / (1 - h)``); an
account below it (the largest shortfall first) takes lots in order of cost per unit of haircut-adjusted value,

    (income forgone over the problem's horizon + the cheapest route's cost) / (1 - h),

first from the treasury's free holdings, then from other accounts' collateral above their own target; what is still
missing it **buys**: the account's settlement asset (fill.fund), selling free holdings of other assets, the lowest
carry first, as a desk funds a margin call on a venue that takes only USDC (``buy=False``: never trades). Accounts
inside the band are left alone.
"""

from __future__ import annotations

from allocator.analysis.backtest.moves import Draft, Moves
from allocator.analysis.backtest.policies.band import BandPolicy, Bands
from allocator.analysis.backtest.policies.fill import (
    Lot,
    carry_rate,
    credit_now,
    free_lots,
    fund,
    release,
    top_up,
    unit_credit,
)
from allocator.analysis.backtest.state import DayState


class Waterfall(BandPolicy):
    """Greedy cheapest-to-deliver (module docstring)."""

    name = "waterfall"

    def act(self, state: DayState, draft: Draft, out: list[int]) -> Moves:
        bands = self.band
        for k in (k for k in out if state.accounts[k].coverage > bands[state.accounts[k].id].high):
            excess = credit_now(state, draft, k) - bands[state.accounts[k].id].aim * state.accounts[k].requirement
            release(state, draft, k, excess, dearest(state, k))
        short = sorted((k for k in out if state.accounts[k].coverage < bands[state.accounts[k].id].low),
                       key=lambda k: credit_now(state, draft, k) - bands[state.accounts[k].id].aim
                       * state.accounts[k].requirement)
        for k in short:
            target = bands[state.accounts[k].id].aim * state.accounts[k].requirement
            need = target - credit_now(state, draft, k)
            need -= top_up(state, draft, k, need, ranked(state, k, free_lots(state, draft)), target)
            if need > 0:
                need -= borrow(state, draft, k, need, bands, target)
            if need > 0 and self.buy:
                fund(state, draft, k, need, target)
        return draft.moves(f"accounts out of band: {', '.join(state.accounts[k].id for k in out)}")


def dearest(state: DayState, k: int) -> list[str]:
    """Account ``k``'s assets, the highest income forgone per unit of credit first (ineligible ones first of all)."""
    def cost(asset: str) -> float:
        per = unit_credit(state, k, asset)
        price = state.price[state.assets.index(asset)]
        return float("inf") if per <= 0 else carry_rate(state, k, asset) * price / per
    return sorted(state.assets, key=lambda a: (-cost(a), state.assets.index(a)))


def ranked(state: DayState, k: int, lots: list[Lot]) -> list[Lot]:
    """``lots`` in order of cost per unit of credit delivered to account ``k``."""
    where = state.accounts[k].location

    def cost(lot: Lot) -> float:
        per = unit_credit(state, k, lot.asset)
        if per <= 0:
            return float("inf")
        price = state.price[state.assets.index(lot.asset)]
        return (carry_rate(state, k, lot.asset) + state.router.cost(lot.asset, lot.location, where)) * price / per
    return sorted((lot for lot in lots if cost(lot) < float("inf")), key=lambda lot: (cost(lot), lot.location))


def borrow(state: DayState, draft: Draft, k: int, need: float, bands: Bands, target: float) -> float:
    """Top account ``k`` up by ``need`` from other accounts' collateral above their own target (the best covered
    first), each account kept at its target; the credit added."""
    done = 0.0
    others = sorted((a for a in state.accounts if a.index != k and a.requirement > 0),
                    key=lambda a: -credit_now(state, draft, a.index) / a.requirement)
    for other in others:
        lots = ranked(state, k, [Lot(a, other.location) for a in state.assets if draft.held(a, other.location) > 0])
        for lot in lots:
            spare = credit_now(state, draft, other.index) - bands[other.id].aim * other.requirement
            if spare <= 0 or need - done <= 0:
                break
            per = unit_credit(state, other.index, lot.asset)
            limit = draft.held(lot.asset, other.location) if per <= 0 else spare / per
            done += top_up(state, draft, k, need - done, [Lot(lot.asset, lot.location, limit)], target)
    return done
