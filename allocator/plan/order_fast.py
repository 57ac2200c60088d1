"""The plan's order without risk limits, in time proportional to the steps: the same steps as order.py's greedy.

order.py's loop re-scans every pending transfer after every step (deposits in order until none can run, then the
first withdrawal that fits), which is quadratic in the number of transfers. The steps it takes depend only on
state that changes in known places, so this orderer re-examines only what a step can have changed:

* a deposit (a transfer out of a location that is not an account) that could not run can run again only after
  its source receives the asset, so deposits are re-examined per source cell, in the original order within each
  pass (one that comes later in the pass the same pass, one that came earlier the next), exactly as a full
  re-scan would find them;
* the withdrawals are judged all at once on arrays (room, fit, value of the room, deficit after a forced run),
  and numpy's first maximum and minimum are Python's ``max``/``min`` over the list in order.

Every step runs through the same :class:`~allocator.plan.ledger.Ledger` with the same quantities, so the plan is
the one order.py's ``_Orderer`` builds (tests/test_fast_lp_plan.py compares them on random problems).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Any

import numpy as np

from allocator.plan.ledger import Ledger
from allocator.plan.ordered import CRUMB, MIN_SPLIT, OrderedPlan, UnbalancedTransfers
from allocator.plan.transfers import Transfer
from allocator.results.reportable import rows_adapter
from allocator.results.result import Funding, Step


class _Pass:
    """The deposits still to examine in the current pass (a heap of positions) and those for the next."""

    def __init__(self, positions: list[int]) -> None:
        self.heap = sorted(positions)
        self.queued = set(positions)
        self.later: set[int] = set()
        self.at = -1


class FastOrderer:
    def __init__(self, ledger: Ledger, max_steps: int) -> None:
        self.ledger = ledger
        self.max_steps = max_steps
        self.out = OrderedPlan()
        self.steps: list[dict[str, Any]] = []  # the steps' fields, made Step rows at the end

    def order(self, transfers: list[Transfer]) -> OrderedPlan:
        ledger = self.ledger
        self.transfers = transfers
        self.left = np.array([t.quantity for t in transfers], dtype=float)
        is_deposit = [not ledger.is_account(t.source) for t in transfers]
        self.deposits_from: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        for i, t in enumerate(transfers):
            if is_deposit[i]:
                self.deposits_from[(t.asset, t.source)].append(i)
        self.next = {i for i, d in enumerate(is_deposit) if d}
        self.current: _Pass | None = None
        self._withdrawals([i for i, d in enumerate(is_deposit) if not d])
        while True:
            self.deposit()
            pending = np.flatnonzero(self.left[self.w] > 0)  # positions in ``w`` of the pending withdrawals
            if not len(pending):
                self.drop_dust([i for i in range(len(transfers)) if self.left[i] > 0])
                break
            if len(self.steps) >= self.max_steps or not self.withdraw(pending):
                self.force(pending)
        self.out.steps = rows_adapter(Step).validate_python(self.steps)  # every row in one call
        return self.out

    def _withdrawals(self, positions: list[int]) -> None:
        """Arrays over the withdrawals: position, price, unit tolerance, weight at the source, source account and
        source cell (indices into ``available`` and ``collateral``, kept equal to the ledger's after each step)."""
        ledger, transfers = self.ledger, self.transfers
        self.w = np.array(positions, dtype=int)
        chosen = [transfers[i] for i in positions]
        self.price = np.array([ledger.price[t.asset] for t in chosen], dtype=float)
        self.tolerance = np.array([ledger.unit_tolerance(t.asset) for t in chosen], dtype=float)
        self.weight = np.array([ledger.weights.get(t.source, {}).get(t.asset, 0.0) for t in chosen], dtype=float)
        self.weight_price = self.weight * self.price  # the ledger's weight x price (price > 0: zero with the weight)
        self.accounts = {name: k for k, name in enumerate(dict.fromkeys(t.source for t in chosen))}
        self.cells = {key: c for c, key in enumerate(dict.fromkeys((t.asset, t.source) for t in chosen))}
        self.account = np.array([self.accounts[t.source] for t in chosen], dtype=int)
        self.cell = np.array([self.cells[(t.asset, t.source)] for t in chosen], dtype=int)
        self.collateral = np.array([ledger.collateral[name] for name in self.accounts], dtype=float)
        self.floor = np.array([ledger.floor[name] for name in self.accounts], dtype=float)
        self.available = np.array([ledger.quantity.get(key, 0.0) for key in self.cells], dtype=float)

    def run(self, i: int, quantity: float, needs_funding: bool = False) -> None:
        """Run ``quantity`` of transfer ``i`` as the next step (order.py's ``run``), then bring the arrays and the
        deposits to examine up to date with the ledger."""
        ledger, t = self.ledger, self.transfers[i]
        left = float(self.left[i])
        if abs(quantity - left) <= CRUMB * left:
            quantity = left  # finish the transfer rather than leave a crumb behind
        rate = 0.0 if ledger.route_rate is None else ledger.route_rate.rate(t.source, t.destination, t.asset)
        assert rate is not None  # transfers come from moves along routes
        value = quantity * ledger.price[t.asset]
        ledger.apply(t.asset, t.source, t.destination, quantity)
        self.steps.append({"step": len(self.steps) + 1, "asset": t.asset, "from_": t.source, "to": t.destination,
                           "quantity": quantity, "value": value, "cost": value * rate, "needs_funding": needs_funding})
        self.left[i] = left - quantity
        for location in (t.source, t.destination):
            cell = self.cells.get((t.asset, location))
            if cell is not None:
                self.available[cell] = ledger.quantity[(t.asset, location)]
            account = self.accounts.get(location)
            if account is not None:
                self.collateral[account] = ledger.collateral[location]
        for j in self.deposits_from.get((t.asset, t.destination), ()):
            if self.left[j] > 0:
                self._again(i, j)

    def _again(self, i: int, j: int) -> None:
        """Deposit ``j`` may run again after step ``i`` brought its asset: later in this pass, or the next."""
        now = self.current
        if now is None:
            self.next.add(j)
        elif j > now.at:
            if j not in now.queued:
                now.queued.add(j)
                heapq.heappush(now.heap, j)
        else:
            now.later.add(j)

    def deposit(self) -> None:
        """Run deposits as far as their asset is there, in passes over the original order, until none can run."""
        ledger, candidates = self.ledger, sorted(self.next)
        self.next = set()
        while candidates:
            self.current = now = _Pass(candidates)
            while now.heap:
                i = heapq.heappop(now.heap)
                now.at = i
                left = float(self.left[i])
                t = self.transfers[i]
                quantity = min(left, ledger.available(t.asset, t.source))
                if left > 0 and quantity > CRUMB * left:
                    self.run(i, quantity)
            candidates = sorted(now.later)
        self.current = None

    def rooms(self, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(room, fits) of the withdrawals ``w[j]``: ``min(left, available, headroom)`` and whether it runs in full
        to the unit tolerance (order.py's ``room`` and ``fits`` without risk floors)."""
        left = self.left[self.w[j]]
        account, rate = self.account[j], self.weight_price[j]
        # no weight: no floor to keep (inf); else the ledger's headroom, max(collateral - floor, 0) / (weight x price)
        headroom = np.divide(np.maximum(self.collateral[account] - self.floor[account], 0.0), rate,
                             out=np.full(len(j), np.inf), where=rate != 0.0)
        room = np.minimum(np.minimum(left, self.available[self.cell[j]]), headroom)
        return room, (room > 0) & (room >= left - self.tolerance[j])

    def withdraw(self, j: np.ndarray) -> bool:
        """Run the first pending withdrawal (``w[j]``) that fits, in full, or split the one with the most room at
        its headroom; False when none can run safely."""
        room, fits = self.rooms(j)
        if fits.any():
            i = int(self.w[j[int(np.argmax(fits))]])
            t = self.transfers[i]
            self.run(i, min(float(self.left[i]), self.ledger.available(t.asset, t.source)))
            return True
        best = int(np.argmax(room * self.price[j]))
        i, most = int(self.w[j[best]]), float(room[best])
        if most > max(MIN_SPLIT * float(self.left[i]), float(self.tolerance[j[best]])):
            self.run(i, most * (1.0 - 1e-12))  # split at the headroom, rounding in the account's favour
            return True
        return False

    def force(self, j: np.ndarray) -> None:
        """No safe step exists: run the pending withdrawal (``w[j]``) leaving the smallest deficit and record the
        funding needed."""
        ledger = self.ledger
        pending = self.w[j]
        available = self.available[self.cell[j]]
        runnable = available > self.tolerance[j]
        if not runnable.any():
            self.drop_dust([int(i) for i in pending])
            return
        account = self.account[j]
        quantity = np.minimum(self.left[pending], available)
        after = self.collateral[account] - self.weight[j] * self.price[j] * quantity
        deficit = np.maximum(self.floor[account] - after, 0.0)
        choice = np.flatnonzero(runnable)[int(np.argmin(deficit[runnable]))]
        i = int(pending[choice])
        t = self.transfers[i]
        self.run(i, min(float(self.left[i]), ledger.available(t.asset, t.source)), needs_funding=True)
        self.out.funding.append(Funding(step=len(self.steps), account=t.source, amount=ledger.deficit(t.source)))

    def drop_dust(self, stuck: list[int]) -> None:
        """What is left waits for an asset no transfer brings: dust within the tolerance is dropped (order.py)."""
        for i in stuck:
            t = self.transfers[i]
            if self.left[i] > self.ledger.unit_tolerance(t.asset):
                left = Transfer(t.asset, t.source, t.destination, float(self.left[i]))
                raise UnbalancedTransfers(f"transfers do not balance: {left} cannot be funded")
            self.left[i] = 0.0
