"""Shared moves of the baseline policies: release collateral from an account, top one up, buy what is missing.

Credit is counted per unit as ``(1 - h) x price`` with the account's haircut at the close (an asset on a collateral
curve at the haircut of a small posting, ``AccountTerms.eligible``); the venues value the result exactly the next
day. Releases go to the treasury location the cheapest route reaches; top-ups take *lots* (an asset at a
location) in the order a policy ranks them. A top-up respects the account's concentration limits as shares of the
target collateral.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from allocator.analysis.backtest.moves import Draft, trade_rate
from allocator.analysis.backtest.state import DayState

#: Credit below this share of the requirement is not worth a move.
DUST = 1e-9


@dataclass(frozen=True)
class Lot:
    """Units of ``asset`` at ``location`` a top-up may take (``limit``: at most this many)."""

    asset: str
    location: str
    limit: float = float("inf")


def unit_credit(state: DayState, k: int, asset: str, haircuts: Mapping[str, float] | None = None) -> float:
    """Credit of one unit of ``asset`` at account ``k`` (0 where not eligible)."""
    terms = state.terms(k, haircuts)
    if asset not in terms.eligible:
        return 0.0
    return (1.0 - terms.eligible[asset]) * float(state.price[state.assets.index(asset)])


def column(state: DayState, draft: Draft, k: int) -> np.ndarray:
    return draft.quantity[:, state.locations.index(state.accounts[k].location)]


def credit_now(state: DayState, draft: Draft, k: int, haircuts: Mapping[str, float] | None = None) -> float:
    return state.credit(k, column(state, draft, k), haircuts)


def carry_rate(state: DayState, k: int, asset: str) -> float:
    """Income forgone per unit of value posted at account ``k`` over the problem's horizon (its objective's)."""
    carry = next(a.carry for a in state.problem.assets if a.id == asset)
    return (carry - state.problem.accounts[k].yields.get(asset, 0.0)) * state.problem.horizon_days / 365.0


def treasury_for(state: DayState, asset: str, source: str) -> str | None:
    """The treasury location the cheapest route for ``asset`` reaches from ``source``."""
    reachable = [(state.router.cost(asset, source, t), i, t) for i, t in enumerate(state.treasury)]
    reachable = [r for r in reachable if np.isfinite(r[0])]
    return min(reachable)[2] if reachable else None


def release(state: DayState, draft: Draft, k: int, amount: float, order: Iterable[str],
            haircuts: Mapping[str, float] | None = None) -> float:
    """Send up to ``amount`` of account ``k``'s credit back to the treasury, assets in ``order`` (all of an asset
    before the next); the credit released."""
    where = state.accounts[k].location
    done = 0.0
    for asset in order:
        if amount - done <= DUST * max(amount, 1.0):
            break
        held = draft.held(asset, where)
        per = unit_credit(state, k, asset, haircuts)
        home = treasury_for(state, asset, where)
        if held <= 0 or home is None:
            continue
        units = held if per <= 0 else min(held, (amount - done) / per)
        if draft.send(asset, where, home, units):
            done += units * per
    return done


def release_all(state: DayState, draft: Draft, k: int, keep: Callable[[str], bool]) -> None:
    """Send every asset of account ``k`` that ``keep`` refuses back to the treasury."""
    where = state.accounts[k].location
    for asset in state.assets:
        home = treasury_for(state, asset, where)
        if not keep(asset) and draft.held(asset, where) > 0 and home is not None:
            draft.send(asset, where, home, draft.held(asset, where))


def top_up(state: DayState, draft: Draft, k: int, amount: float, lots: Iterable[Lot], target_credit: float,
           haircuts: Mapping[str, float] | None = None) -> float:
    """Bring up to ``amount`` of credit to account ``k`` from ``lots`` in their order, each asset capped by the
    account's concentration limit (a share of ``target_credit``); the credit added."""
    account = state.problem.accounts[k]
    where = state.accounts[k].location
    done = 0.0
    for lot in lots:
        if amount - done <= DUST * max(amount, 1.0):
            break
        per = unit_credit(state, k, lot.asset, haircuts)
        available = min(draft.held(lot.asset, lot.location), lot.limit)
        if per <= 0 or available <= 0 or state.router.path(lot.asset, lot.location, where) is None:
            continue
        room = amount - done
        if lot.asset in account.concentration:
            posted = draft.held(lot.asset, where) * per
            room = min(room, account.concentration[lot.asset] * target_credit - posted)
        if room <= 0:
            continue
        units = min(available, room / per)
        if draft.send(lot.asset, lot.location, where, units):
            done += units * per
    return done


def free_lots(state: DayState, draft: Draft, assets: Iterable[str] | None = None) -> list[Lot]:
    """Every asset (of ``assets``) held at a treasury location."""
    chosen = state.assets if assets is None else list(assets)
    return [Lot(a, t) for t in state.treasury for a in chosen if draft.held(a, t) > 0]


def buy(state: DayState, draft: Draft, asset: str, value: float, sell_order: Iterable[str]) -> float:
    """Sell free holdings (assets in ``sell_order``, each from the treasury locations in order) for ``value`` of
    ``asset``, bought where they sit; the value bought."""
    price = state.price
    got = 0.0
    for sell in sell_order:
        if sell == asset:
            continue
        for location in state.treasury:
            if value - got <= DUST * max(value, 1.0):
                return got
            held = draft.held(sell, location)
            if held <= 0:
                continue
            rate = trade_rate(state.problem, location, sell, asset, state.settings.trade_fee_bps)
            units = min(held, (value - got) / (price[state.assets.index(sell)] * (1.0 - rate)))
            got += draft.trade(location, sell, asset, units) * price[state.assets.index(asset)]
    return got


def funding_asset(state: DayState, k: int) -> str | None:
    """What to buy for account ``k``: its settlement asset if eligible there, else the eligible stablecoin it
    credits best, else the eligible asset it credits best (None: nothing is eligible)."""
    settlement = state.accounts[k].settlement
    if unit_credit(state, k, settlement) > 0:
        return settlement
    for pool in (list(state.stablecoins), state.assets):
        credited = [(unit_credit(state, k, a) / float(state.price[state.assets.index(a)]), a) for a in pool
                    if unit_credit(state, k, a) > 0]
        if credited:
            return max(credited)[1]
    return None


def buy_for(state: DayState, draft: Draft, k: int, need: float) -> str | None:
    """Buy ``need`` of credit at account ``k`` in its funding asset (``funding_asset``), selling free holdings of
    other assets, the lowest carry first (the least income given up); the asset bought (None: nothing bought)."""
    asset = funding_asset(state, k)
    if asset is None or need <= 0:
        return None
    per = unit_credit(state, k, asset)
    carry = {a.id: a.carry for a in state.problem.assets}
    order = sorted((a for a in state.assets if a != asset), key=lambda a: (carry[a], state.assets.index(a)))
    return asset if buy(state, draft, asset, need / per * float(state.price[state.assets.index(asset)]), order) > 0 \
        else None


def fund(state: DayState, draft: Draft, k: int, need: float, target: float) -> float:
    """Buy what account ``k`` lacks (``need`` of credit) when the free holdings cannot bring it (``buy_for``), then
    top it up with it; the credit added."""
    asset = buy_for(state, draft, k, need)
    if asset is None:
        return 0.0
    return top_up(state, draft, k, need, free_lots(state, draft, [asset]), target)
