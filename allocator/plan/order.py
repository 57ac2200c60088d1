"""Ordering transfers so that no location is overdrawn and no account falls below its floor on the way.

Greedy, repeated until every transfer is done:

1. every transfer out of a location that is not an account (a deposit) runs as far as the asset is there;
2. then one transfer out of an account runs: in full if the account's headroom allows, else split at the
   headroom (the rest waits for deposits that the split may unlock);
3. if nothing can run, no safe order exists from here (two accounts at their floors must swap): the transfer
   whose forced run leaves the smallest deficit runs in full, is flagged ``needs_funding`` and the deficit is
   recorded as temporary funding the account needs. Such a plan is never reported as safe.

With risk limits (plan/risk.py) every step must also keep each limit's margin at or above its floor, at the
source, the destination and the portfolio: a deposit can break one too (an asset that adds more sigma than credit,
or unhedges a position). Each quantity is then also capped at the risk room (bisected), a deposit so capped waits
with the withdrawals, and a forced step records, per account it breaks, the cash that restores all its floors.
Without risk limits none of this runs: the plan is exactly the coverage-only one.
"""

from __future__ import annotations

from collections.abc import Sequence

from allocator.plan.ledger import Ledger
from allocator.plan.order_fast import FastOrderer
from allocator.plan.ordered import CRUMB, MIN_SPLIT, OrderedPlan, UnbalancedTransfers
from allocator.plan.risk import PORTFOLIO, MarginChange
from allocator.plan.transfers import Transfer
from allocator.results.result import Funding, Step

__all__ = ["CRUMB", "MIN_SPLIT", "OrderedPlan", "UnbalancedTransfers", "order"]


def order(ledger: Ledger, transfers: list[Transfer], max_steps: int | None = None) -> OrderedPlan:
    """Order (and where needed split) ``transfers``, replaying them on ``ledger``'s numbers. Without risk limits
    the orderer of order_fast.py gives the same steps in time proportional to the steps, not steps x transfers
    (on its own lists of those numbers: the ledger is left as it was, unless credit is curved)."""
    limit = max_steps if max_steps is not None else 20 * len(transfers) + 100
    if ledger.risk is None:
        return FastOrderer(ledger, limit).order(transfers)  # reads the transfers, never changes them
    return _Orderer(ledger, limit).order([Transfer(t.asset, t.source, t.destination, t.quantity) for t in transfers])


class _Orderer:
    """The general orderer, one transfer at a time against every floor. The library calls it only for problems
    with risk limits (``order`` above); its paths without risk limits stay as the reference that
    tests/test_fast_lp_plan.py compares the fast orderer with, step for step."""

    def __init__(self, ledger: Ledger, max_steps: int) -> None:
        self.ledger = ledger
        self.max_steps = max_steps
        self.out = OrderedPlan()

    def order(self, pending: list[Transfer]) -> OrderedPlan:
        ledger = self.ledger
        while pending:
            pending = self.deposit(pending)
            withdrawals = [t for t in pending if ledger.is_account(t.source) or self.held_back(t)]
            if not withdrawals:
                self.drop_dust(pending)
                break
            if len(self.out.steps) >= self.max_steps or not self.withdraw(withdrawals):
                self.force(withdrawals)
            pending = [t for t in pending if not self.done(t)]
        return self.out

    def deposit(self, pending: list[Transfer]) -> list[Transfer]:
        """Run transfers out of non-account locations as far as the asset is there, until none can run
        (a deposit may bring what the next hop of a multi-hop path needs); return what is left."""
        progressed = True
        while progressed:
            progressed = False
            for transfer in pending:
                if not self.ledger.is_account(transfer.source):
                    quantity = min(transfer.quantity, self.ledger.available(transfer.asset, transfer.source))
                    if self.ledger.risk is not None:
                        quantity = self.risk_split(transfer, quantity)
                    if quantity > CRUMB * transfer.quantity:
                        self.run(transfer, quantity)
                        progressed = True
            pending = [t for t in pending if not self.done(t)]
        return pending

    def run(self, transfer: Transfer, quantity: float, needs_funding: bool = False) -> Sequence[MarginChange]:
        """Run ``quantity`` of ``transfer`` as the next step; return the risk margins it changed."""
        ledger = self.ledger
        if abs(quantity - transfer.quantity) <= CRUMB * transfer.quantity:
            quantity = transfer.quantity  # finish the transfer rather than leave a crumb behind
        rate = 0.0 if ledger.route_rate is None else \
            ledger.route_rate[(transfer.source, transfer.destination, transfer.asset)]
        value = quantity * ledger.price[transfer.asset]
        changes = ledger.apply(transfer.asset, transfer.source, transfer.destination, quantity)
        self.out.steps.append(Step(step=len(self.out.steps) + 1, asset=transfer.asset, from_=transfer.source,
                                   to=transfer.destination, quantity=quantity, value=value, cost=value * rate,
                                   needs_funding=needs_funding))
        transfer.quantity -= quantity
        return changes

    @staticmethod
    def done(transfer: Transfer) -> bool:
        return transfer.quantity <= 0.0

    def drop_dust(self, stuck: list[Transfer]) -> None:
        """What is left waits for an asset that no transfer brings. Dust within the solver's tolerance is
        dropped (the end state is then within the tolerance of the targets); anything larger is an error."""
        for transfer in stuck:
            if transfer.quantity > self.ledger.unit_tolerance(transfer.asset):
                raise UnbalancedTransfers(f"transfers do not balance: {transfer} cannot be funded")
            transfer.quantity = 0.0

    def held_back(self, transfer: Transfer) -> bool:
        """A deposit that a risk floor held back although its asset is there (it waits with the withdrawals)."""
        ledger = self.ledger
        return ledger.risk is not None and not ledger.is_account(transfer.source) and \
            ledger.available(transfer.asset, transfer.source) > ledger.unit_tolerance(transfer.asset)

    def risk_split(self, transfer: Transfer, quantity: float) -> float:
        """``quantity`` if it keeps every risk floor, else the most that does if worth a step, else 0."""
        assert self.ledger.risk is not None
        room = self.ledger.risk.room(transfer.asset, transfer.source, transfer.destination, quantity)
        if room >= quantity or room > max(MIN_SPLIT * transfer.quantity, self.ledger.unit_tolerance(transfer.asset)):
            return room
        return 0.0

    def room(self, transfer: Transfer) -> float:
        ledger = self.ledger
        room = min(transfer.quantity, ledger.available(transfer.asset, transfer.source),
                   ledger.headroom(transfer.asset, transfer.source))
        if ledger.risk is None or room <= 0:
            return room
        return ledger.risk.room(transfer.asset, transfer.source, transfer.destination, room)

    def fits(self, transfer: Transfer) -> bool:
        """Whether ``transfer`` may run in full now (coverage headroom to the unit tolerance, every risk floor)."""
        ledger = self.ledger
        room = min(transfer.quantity, ledger.available(transfer.asset, transfer.source),
                   ledger.headroom(transfer.asset, transfer.source))
        if not (room > 0 and room >= transfer.quantity - ledger.unit_tolerance(transfer.asset)):
            return False
        quantity = min(transfer.quantity, ledger.available(transfer.asset, transfer.source))
        return ledger.risk is None or ledger.risk.safe(transfer.asset, transfer.source, transfer.destination, quantity)

    def withdraw(self, withdrawals: list[Transfer]) -> bool:
        """Run one withdrawal, in full or split at the headroom; False when none can run safely."""
        for transfer in withdrawals:
            if self.fits(transfer):
                self.run(transfer, min(transfer.quantity, self.ledger.available(transfer.asset, transfer.source)))
                return True
        rooms = [(self.room(t), t) for t in withdrawals]  # each once: with risk limits a room is a bisection
        room, best = max(rooms, key=lambda pair: pair[0] * self.ledger.price[pair[1].asset])
        if room > max(MIN_SPLIT * best.quantity, self.ledger.unit_tolerance(best.asset)):
            self.run(best, room * (1.0 - 1e-12))  # split at the headroom, rounding in the account's favour
            return True
        return False

    def force(self, withdrawals: list[Transfer]) -> None:
        """No safe step exists: run the transfer leaving the smallest deficit and record the funding needed."""
        ledger = self.ledger
        runnable = [t for t in withdrawals if ledger.available(t.asset, t.source) > ledger.unit_tolerance(t.asset)]
        if not runnable:
            self.drop_dust(withdrawals)
            return
        if ledger.risk is not None:
            self.force_with_risk(runnable)
            return

        def deficit_after(transfer: Transfer) -> float:
            weight = ledger.weights.get(transfer.source, {}).get(transfer.asset, 0.0)
            quantity = min(transfer.quantity, ledger.available(transfer.asset, transfer.source))
            after = ledger.collateral[transfer.source] - weight * ledger.price[transfer.asset] * quantity
            return max(ledger.floor[transfer.source] - after, 0.0)

        chosen = min(runnable, key=deficit_after)
        self.run(chosen, min(chosen.quantity, ledger.available(chosen.asset, chosen.source)), needs_funding=True)
        self.out.funding.append(Funding(step=len(self.out.steps), account=chosen.source,
                                        amount=ledger.deficit(chosen.source)))

    def force_with_risk(self, runnable: list[Transfer]) -> None:
        """As ``force``, judging each forced run by the cash all its accounts would need to meet every floor."""
        ledger, risk = self.ledger, self.ledger.risk
        assert risk is not None

        def funding_after(transfer: Transfer) -> float:
            quantity = min(transfer.quantity, ledger.available(transfer.asset, transfer.source))
            weight = ledger.weights.get(transfer.source, {}).get(transfer.asset, 0.0)
            coverage = ledger.floor.get(transfer.source, 0.0) - ledger.collateral.get(transfer.source, 0.0) + \
                weight * ledger.price[transfer.asset] * quantity
            need = {transfer.source: max(coverage, 0.0)} if ledger.is_account(transfer.source) else {}
            for owner, margins in risk.trial(transfer.asset, transfer.source, transfer.destination,
                                             quantity).items():
                worst = max(risk.floor[owner][label] - m for label, m in margins.items())
                holder = self.holder(transfer) if owner == PORTFOLIO else owner
                need[holder] = max(need.get(holder, 0.0), worst)
            return sum(max(amount, 0.0) for amount in need.values())

        chosen = min(runnable, key=funding_after)
        changes = self.run(chosen, min(chosen.quantity, ledger.available(chosen.asset, chosen.source)),
                           needs_funding=True)
        broken = {c.owner for c in changes if c.after < min(risk.floor[c.owner][c.label] - risk.slack, c.before)}
        holder = self.holder(chosen)
        need = {holder: 0.0}  # a forced step always has a row, so that the plan is never called safe
        if ledger.is_account(chosen.source):
            need[chosen.source] = ledger.deficit(chosen.source)
        for owner in broken:
            account = holder if owner == PORTFOLIO else owner
            need[account] = max(need.get(account, 0.0), risk.deficit(owner))
        for account, amount in need.items():
            self.out.funding.append(Funding(step=len(self.out.steps), account=account, amount=amount))

    def holder(self, transfer: Transfer) -> str:
        """The account a forced step's portfolio funding is posted at: its source if an account, else its
        destination (cash at any account restores the portfolio limit alike)."""
        return transfer.source if self.ledger.is_account(transfer.source) else transfer.destination
