"""Ordering transfers so that no location is overdrawn and no account falls below its floor on the way.

Greedy, repeated until every transfer is done:

1. every transfer out of a location that is not an account (a deposit) runs as far as the asset is there;
2. then one transfer out of an account runs: in full if the account's headroom allows, else split at the
   headroom (the rest waits for deposits that the split may unlock);
3. if nothing can run, no safe order exists from here (two accounts at their floors must swap): the transfer
   whose forced run leaves the smallest deficit runs in full, is flagged ``needs_funding`` and the deficit is
   recorded as temporary funding the account needs. Such a plan is never reported as safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from allocator.plan.ledger import Ledger
from allocator.plan.transfers import Transfer
from allocator.result import Funding, Step

#: A split smaller than this share of what remains of a transfer is not worth a step.
MIN_SPLIT = 1e-6
#: What is left of a transfer below this share of it is floating-point residue: the transfer is finished.
CRUMB = 1e-12


class UnbalancedTransfers(Exception):
    """The transfers cannot all be funded from the holdings (the engine reports it as a VerificationError)."""


@dataclass
class Schedule:
    steps: list[Step] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.funding


def schedule(ledger: Ledger, transfers: list[Transfer], max_steps: int | None = None) -> Schedule:
    """Order (and where needed split) ``transfers``, replaying them on ``ledger``."""
    scheduler = _Scheduler(ledger, max_steps if max_steps is not None else 20 * len(transfers) + 100)
    return scheduler.schedule([Transfer(t.asset, t.source, t.destination, t.quantity) for t in transfers])


class _Scheduler:
    def __init__(self, ledger: Ledger, max_steps: int) -> None:
        self.ledger = ledger
        self.max_steps = max_steps
        self.out = Schedule()

    def schedule(self, pending: list[Transfer]) -> Schedule:
        ledger = self.ledger
        while pending:
            pending = self.deposit(pending)
            withdrawals = [t for t in pending if ledger.is_account(t.source)]
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
                    if quantity > CRUMB * transfer.quantity:
                        self.run(transfer, quantity)
                        progressed = True
            pending = [t for t in pending if not self.done(t)]
        return pending

    def run(self, transfer: Transfer, quantity: float, needs_funding: bool = False) -> None:
        ledger = self.ledger
        if abs(quantity - transfer.quantity) <= CRUMB * transfer.quantity:
            quantity = transfer.quantity  # finish the transfer rather than leave a crumb behind
        rate = 0.0 if ledger.route_rate is None else \
            ledger.route_rate[(transfer.source, transfer.destination, transfer.asset)]
        value = quantity * ledger.price[transfer.asset]
        ledger.apply(transfer.asset, transfer.source, transfer.destination, quantity)
        self.out.steps.append(Step(step=len(self.out.steps) + 1, asset=transfer.asset, from_=transfer.source,
                                   to=transfer.destination, quantity=quantity, value=value, cost=value * rate,
                                   needs_funding=needs_funding))
        transfer.quantity -= quantity

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

    def room(self, transfer: Transfer) -> float:
        ledger = self.ledger
        return min(transfer.quantity, ledger.available(transfer.asset, transfer.source),
                   ledger.headroom(transfer.asset, transfer.source))

    def withdraw(self, withdrawals: list[Transfer]) -> bool:
        """Run one withdrawal, in full or split at the headroom; False when none can run safely."""
        for transfer in withdrawals:
            room = self.room(transfer)
            if room > 0 and room >= transfer.quantity - self.ledger.unit_tolerance(transfer.asset):
                self.run(transfer, min(transfer.quantity, self.ledger.available(transfer.asset, transfer.source)))
                return True
        best = max(withdrawals, key=lambda t: self.room(t) * self.ledger.price[t.asset])
        room = self.room(best)
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

        def deficit_after(transfer: Transfer) -> float:
            weight = ledger.weights.get(transfer.source, {}).get(transfer.asset, 0.0)
            quantity = min(transfer.quantity, ledger.available(transfer.asset, transfer.source))
            after = ledger.collateral[transfer.source] - weight * ledger.price[transfer.asset] * quantity
            return max(ledger.floor[transfer.source] - after, 0.0)

        chosen = min(runnable, key=deficit_after)
        self.run(chosen, min(chosen.quantity, ledger.available(chosen.asset, chosen.source)), needs_funding=True)
        self.out.funding.append(Funding(step=len(self.out.steps), account=chosen.source,
                                        amount=ledger.deficit(chosen.source)))
