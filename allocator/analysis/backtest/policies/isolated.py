"""``isolated``: each position's collateral sits in its own pool, in the settlement asset.

Every account holds only its settlement asset (``BacktestSettings.settlement``: the first stablecoin eligible
there, USDC first; where none is eligible, the asset it credits best): anything else goes back to the treasury.
The pools are sized per position, without netting: an account's line is the sum of its positions' initial margins,
each computed alone by its rulebook (``DayState.initial_margin``); an account without a rulebook or positions uses
``requirement x (1 + buffer)``, the desk's own initial line. A pool is **topped up only when it is below that
line**, back to the line, with free units of the settlement asset (bought, the lowest carry first, when the
treasury has too few); it never releases anything, so gains stay in the pool. The venue still judges the whole
account by its rule (docs/backtest.md): this policy is about where collateral sits, not a margin mode.
"""

from __future__ import annotations

from allocator.analysis.backtest.moves import Moves
from allocator.analysis.backtest.policies.all_stable import post_or_buy
from allocator.analysis.backtest.policies.fill import credit_now, release_all, unit_credit
from allocator.analysis.backtest.state import DayState


class Isolated:
    """A pool per position in the settlement asset, topped up only below the initial line (module docstring)."""

    name = "isolated"

    def __init__(self, label: str | None = None) -> None:
        self.name = label or type(self).name

    def decide(self, state: DayState) -> Moves:
        draft = state.draft()
        short = []
        for account in state.accounts:
            k = account.index
            pool = self.pool_asset(state, k)
            if pool is None:
                continue
            release_all(state, draft, k, keep=pool.__eq__)
            line = self.line(state, k)
            credit = credit_now(state, draft, k)
            if line <= 0 or credit >= line:
                continue
            post_or_buy(state, draft, k, line - credit, [pool], line, pool)
            short.append(account.id)
        return draft.moves_or_none(f"pools topped up: {', '.join(short) or 'none'}")

    @staticmethod
    def line(state: DayState, k: int) -> float:
        """The account's initial line (module docstring)."""
        account = state.problem.accounts[k]
        initial = state.initial_margin(k)
        if account.rulebook is None or account.requirement is not None:
            return initial * (1.0 + account.buffer)
        return initial

    @staticmethod
    def pool_asset(state: DayState, k: int) -> str | None:
        settlement = state.accounts[k].settlement
        if unit_credit(state, k, settlement) > 0:
            return settlement
        credited = [(unit_credit(state, k, a) / state.price[i], a) for i, a in enumerate(state.assets)
                    if unit_credit(state, k, a) > 0]
        return max(credited)[1] if credited else None
