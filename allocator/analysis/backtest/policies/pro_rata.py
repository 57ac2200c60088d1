"""``pro_rata``: each account gets the same mix as the inventory.

When an account leaves the band, its collateral is set to a slice of the whole inventory: ``s x I_a`` units of
every eligible asset ``a`` (``I_a`` the treasury's units of ``a`` wherever they sit), with ``s`` chosen so that the
slice's credit is the band's target. Units above the slice go back to the treasury, units below it come from the
treasury's free holdings of the same asset; what a missing asset leaves short is topped up from the cheapest free
lots (as the waterfall ranks them), and what is still missing is bought as the waterfall buys it (``buy=False``:
never trades). Concentration limits are not applied to the slice (the inventory's mix is the policy); the top-up
respects them.
"""

from __future__ import annotations

import numpy as np

from allocator.analysis.backtest.moves import Draft, Moves
from allocator.analysis.backtest.policies.band import BandPolicy
from allocator.analysis.backtest.policies.fill import Lot, credit_now, free_lots, fund, release, top_up, unit_credit
from allocator.analysis.backtest.policies.waterfall import ranked
from allocator.analysis.backtest.state import DayState


class ProRata(BandPolicy):
    """The inventory's mix at every account it rebalances (module docstring)."""

    name = "pro_rata"

    def act(self, state: DayState, draft: Draft, out: list[int]) -> Moves:
        bands = self.band
        inventory = draft.quantity.sum(axis=1)
        slices = {k: self._slice(state, k, inventory) for k in out}
        for k, units in slices.items():  # releases first: they free units for the others
            where = state.accounts[k].location
            for i, asset in enumerate(state.assets):
                extra = draft.held(asset, where) - units[i]
                if extra > 0:
                    release(state, draft, k, extra * max(unit_credit(state, k, asset), 1e-300), [asset])
        for k, units in slices.items():
            where = state.accounts[k].location
            target = bands[state.accounts[k].id].aim * state.accounts[k].requirement
            for i, asset in enumerate(state.assets):
                missing = units[i] - draft.held(asset, where)
                for lot in (lot for lot in free_lots(state, draft, [asset]) if missing > 0):
                    sent = min(missing, draft.held(asset, lot.location))
                    if draft.send(asset, lot.location, where, sent):
                        missing -= sent
            need = target - credit_now(state, draft, k)
            if need > 0:
                need -= top_up(state, draft, k, need, ranked(state, k, free_lots(state, draft)), target)
            if need > 0 and self.buy:
                fund(state, draft, k, need, target)
        return draft.moves(f"accounts out of band: {', '.join(state.accounts[k].id for k in out)}")

    def _slice(self, state: DayState, k: int, inventory: np.ndarray) -> np.ndarray:
        """Units of each asset in account ``k``'s slice of the inventory."""
        per = np.array([unit_credit(state, k, asset) for asset in state.assets])
        credit = float(per @ inventory)
        if credit <= 0:
            return np.zeros_like(inventory)
        share = self.band[state.accounts[k].id].aim * state.accounts[k].requirement / credit
        return np.where(per > 0, share * inventory, 0.0)


__all__ = ["Lot", "ProRata"]
