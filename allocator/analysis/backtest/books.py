"""The treasury's units (asset x location) during a backtest, and every way they change.

Each change keeps the books: at the prices of the moment, the value of all units changes by exactly the money that
came in or went out, so day by day

    value(close_t) - value(close_{t-1}) = market_pnl + pnl - transfer_cost - trading_cost - liquidation_loss

(``market_pnl``: the units' revaluation along the day's path of prices; ``pnl``: the positions' variation margin;
tests/test_backtest_conservation.py checks it to rounding). Besides the units, the books keep ``exchanged``: the
units of each asset the desk has given up since the start, for other assets or for what it paid, less the units it
received for them: sold minus bought by the policy's trades and by the venues' liquidations of loans, the units
that paid a cost (transfer and restore costs, a position account's liquidation fee), and the units other than the
settlement asset's that paid a position's loss (exchanged for the settlement asset owed). From it the carry the
exchanges forgo (simulation.py) and their market P&L (day.py, ``exchange_pnl``) are counted; the variation margin
itself, in the settlement asset, is the positions' P&L and not an exchange, except for its timing: settled at a
liquidation's row of prices, its units are exchanged for those the baseline settles at the close (day.py).

Money the treasury pays (transfer costs, a liquidation's restore cost, a position loss beyond an account's
collateral) comes from the cash asset at the treasury's locations, then from every free holding pro rata by value,
then from every account's; when nothing is left the desk is bankrupt (:class:`Bankrupt`, the run of that policy
stops).

Not the plan's ``Ledger`` (plan/ledger.py, issue 12's one ledger), and deliberately a different concept: that one
replays one plan's transfers within a day and judges each step against the account floors; these are the books of
a simulation over many days, where units also change by the market, liquidations, variation margin and trades, and
no step is refused. Where a backtest does judge a step against floors (``rebalance``'s plan) it uses the plan's
``Ledger`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from allocator.analysis.backtest.moves import SLACK, Router, Step, Trade, trade_rate
from allocator.errors import InputError, InputIssue
from allocator.inputs.problem import Problem
from allocator.plan.transfers import Transfer


class Bankrupt(Exception):
    """The whole inventory cannot pay what is owed."""


@dataclass
class Costs:
    """What one batch of steps cost and moved (currency), with the transfer costs attributed to accounts."""

    transfer: float = 0.0
    trading: float = 0.0
    moved: float = 0.0  # value transferred (each step at its value)
    traded: float = 0.0  # value sold in trades
    steps: int = 0
    by_account: dict[int, float] = field(default_factory=dict)  # account index -> transfer cost
    touched: dict[int, int] = field(default_factory=dict)  # account index -> steps in or out


@dataclass
class Holdings:
    """Units (n assets, L locations) and the roles of the locations."""

    quantity: np.ndarray
    problem: Problem
    account_location: np.ndarray  # (m,) location of each account
    cash: int  # asset index of the cash asset
    treasury: list[int]  # locations that are not accounts, in order
    exchanged: np.ndarray  # (n,) units given up since the start, for assets or costs, less those received
    #                        (module docstring)

    @classmethod
    def of(cls, problem: Problem, account_location: np.ndarray, cash: str) -> Holdings:
        assets, locations = problem.asset_ids, problem.locations
        quantity = np.zeros((len(assets), len(locations)))
        for holding in problem.holdings:
            quantity[assets.index(holding.asset), locations.index(holding.location)] += holding.quantity
        accounts = set(int(i) for i in account_location)
        return cls(quantity, problem, account_location, assets.index(cash),
                   [j for j in range(len(locations)) if j not in accounts], np.zeros(len(assets)))

    def copy(self) -> Holdings:
        return Holdings(self.quantity.copy(), self.problem, self.account_location, self.cash, self.treasury,
                        self.exchanged.copy())

    @property
    def posted(self) -> np.ndarray:
        """(n, m) units at each account."""
        return self.quantity[:, self.account_location]

    @property
    def elsewhere(self) -> np.ndarray:
        """(n,) units at every location that is not an account."""
        return self.quantity[:, self.treasury].sum(axis=1) if self.treasury else np.zeros(self.quantity.shape[0])

    def value(self, price: np.ndarray) -> float:
        return float(price @ self.quantity.sum(axis=1))

    # -- money in and out ---------------------------------------------------------------------------------------

    def receive(self, value: float, price: np.ndarray) -> None:
        """``value`` of cash into the treasury's first location (or the first account without one)."""
        where = self.treasury[0] if self.treasury else int(self.account_location[0])
        self.quantity[self.cash, where] += value / price[self.cash]

    def pay(self, amount: float, price: np.ndarray, given: bool = True) -> None:
        """Pay ``amount`` (module docstring); Bankrupt when the inventory cannot. A cost (``given``: a fee, a restore
        cost) gives up the units it takes (``exchanged``); ``given=False`` for a caller that counts them itself."""
        before = self.quantity.sum(axis=1) if given else None
        try:
            self._pay(amount, price)
        finally:
            if before is not None:
                self.exchanged += before - self.quantity.sum(axis=1)

    def _pay(self, amount: float, price: np.ndarray) -> None:
        left = amount
        for j in self.treasury:
            if left <= 0:
                return
            units = min(self.quantity[self.cash, j], left / price[self.cash])
            self.quantity[self.cash, j] -= units
            left -= units * price[self.cash]
        for columns in (self.treasury, list(range(self.quantity.shape[1]))):
            left = self._pro_rata(columns, left, price)
        if left > 1e-9 * max(amount, 1.0):
            raise Bankrupt(f"{left:,.2f} could not be paid from the whole inventory")

    def take(self, location: int, value: float, price: np.ndarray, first: int | None) -> float:
        """Take ``value`` from one location: asset ``first`` first, then the others pro rata by value. Returns what
        could not be taken (the location ran out)."""
        left = value
        if first is not None and left > 0:
            units = min(self.quantity[first, location], left / price[first])
            self.quantity[first, location] -= units
            left -= units * price[first]
        return self._pro_rata([location], left, price)

    def _pro_rata(self, columns: list[int], left: float, price: np.ndarray) -> float:
        if left <= 0 or not columns:
            return max(left, 0.0)
        block = self.quantity[:, columns]
        worth = float(price @ block.sum(axis=1))
        if worth <= 0:
            return left
        share = min(left / worth, 1.0)
        self.quantity[:, columns] = block * (1.0 - share)
        return left - share * worth

    # -- a policy's steps ---------------------------------------------------------------------------------------

    def apply(self, steps: tuple[Step, ...], price: np.ndarray, router: Router, trade_fee_bps: float,
              who: str) -> Costs:
        """Run ``steps`` in order at ``price``; InputError (located at the step) for a step the routes do not allow
        or that takes more than its source holds."""
        assets, locations = self.problem.asset_ids, self.problem.locations
        accounts = {int(j): k for k, j in enumerate(self.account_location)}
        costs = Costs()
        for s, step in enumerate(steps):
            where = f"policy {who}: steps[{s}]"
            if isinstance(step, Trade):
                known = [(step.sell, assets), (step.buy, assets), (step.location, locations)]
                self._known(where, known)
                i, b, j = assets.index(step.sell), assets.index(step.buy), locations.index(step.location)
                units = self._units(where, i, j, step.quantity)
                rate = trade_rate(self.problem, step.location, step.sell, step.buy, trade_fee_bps)
                sold = units * price[i]
                bought = sold * (1.0 - rate) / price[b]
                self.quantity[i, j] -= units
                self.quantity[b, j] += bought
                self.exchanged[i] += units
                self.exchanged[b] -= bought
                costs.trading += sold * rate
                costs.traded += sold
            elif isinstance(step, Transfer):
                self._known(where, [(step.asset, assets), (step.source, locations), (step.destination, locations)])
                if not router.allowed(step.asset, step.source, step.destination):
                    raise InputError([InputIssue(where, f"no route carries {step.asset} from {step.source} to "
                                                 f"{step.destination}", "no_route")])
                i, j, d = assets.index(step.asset), locations.index(step.source), locations.index(step.destination)
                units = self._units(where, i, j, step.quantity)
                self.quantity[i, j] -= units
                self.quantity[i, d] += units
                value = units * price[i]
                fee = value * router.hop_rate(step.asset, step.source, step.destination)
                costs.transfer += fee
                costs.moved += value
                owner = accounts.get(d, accounts.get(j))
                if owner is not None:
                    costs.by_account[owner] = costs.by_account.get(owner, 0.0) + fee
                for k in {accounts[x] for x in (j, d) if x in accounts}:
                    costs.touched[k] = costs.touched.get(k, 0) + 1
            else:
                raise InputError([InputIssue(where, f"{type(step).__name__} is not a Transfer or a Trade",
                                             "bad_step")])
            costs.steps += 1
        if costs.transfer:
            self.pay(costs.transfer, price)
        return costs

    def _units(self, where: str, asset: int, location: int, quantity: float) -> float:
        held = float(self.quantity[asset, location])
        if not (np.isfinite(quantity) and quantity >= 0) or quantity > held + SLACK * max(held, 1.0):
            raise InputError([InputIssue(where, f"moves {quantity!r} units where {held!r} are held",
                                         "bad_quantity")])
        return min(float(quantity), held)

    @staticmethod
    def _known(where: str, names: list[tuple[str, list[str]]]) -> None:
        issues = [InputIssue(where, f"unknown name {name!r}", "unknown_name") for name, known in names
                  if name not in known]
        if issues:
            raise InputError(issues)
