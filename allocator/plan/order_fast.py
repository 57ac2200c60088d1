"""The plan's order without risk limits, in time proportional to the steps: the same steps as order.py's greedy.

order.py's loop re-scans every pending transfer after every step (deposits in order until none can run, then the
first withdrawal that fits), which is quadratic in the number of transfers. The steps it takes depend only on
state that changes in known places, so this orderer re-examines only what a step can have changed:

* a deposit (a transfer out of a location that is not an account) that could not run can run again only after
  its source receives the asset, so deposits are re-examined per source cell, in the original order within each
  pass (one that comes later in the pass the same pass, one that came earlier the next), exactly as a full
  re-scan would find them;
* the withdrawals are scanned in order for the first that fits, which is near the front (the scan stops there);
  only when none fits are they judged all at once on arrays (room, value of the room, deficit after a forced
  run), where numpy's first maximum and minimum are Python's ``max``/``min`` over the list in order;
* a round changes what is left of its own withdrawal only, so the pending list loses at most that one.

The state a step changes is kept in lists indexed by integers, not in the :class:`~allocator.plan.ledger.Ledger`'s
dictionaries: the holding of every cell a transfer touches and the collateral of every account among their
ends. Each step changes them with the ledger's own arithmetic, operation for operation (``holding + -quantity``,
``holding + quantity``, ``collateral + weight x price x quantity``), so the numbers and the plan are the ones
order.py's ``_Orderer`` gets on the ledger (tests/test_fast_lp_plan.py compares them on random problems). Curved
credit is not a running sum: when any transfer touches a curved cell, every step also runs on the ledger and its
accounts' collateral is read back from it. The ledger is read, and changed only then.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from itertools import chain

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
        self.taken: list[tuple[int, float, bool]] = []  # (transfer, quantity, needs funding) of each step

    def order(self, transfers: list[Transfer]) -> OrderedPlan:
        self.transfers = transfers
        self.left = [float(t.quantity) for t in transfers]
        self._state()
        is_deposit = [not self.ledger.is_account(t.source) for t in transfers]
        self.deposits_from: defaultdict[int, list[int]] = defaultdict(list)  # per source cell
        for i, deposit in enumerate(is_deposit):
            if deposit:
                self.deposits_from[self.source[i]].append(i)
        self.next = {i for i, d in enumerate(is_deposit) if d}
        self.current: _Pass | None = None
        self._withdrawals([i for i, d in enumerate(is_deposit) if not d])
        left, w = self.left, self.w
        pending = [p for p in range(len(w)) if left[w[p]] > 0]  # positions in ``w`` of those pending, in order
        while True:
            self.deposit()
            if not pending:
                self.drop_dust([i for i in range(len(transfers)) if left[i] > 0])
                break
            if len(self.taken) >= self.max_steps or (ran := self.withdraw(pending)) is None:
                ran = self.force(pending)
            if ran is None:  # dust dropped
                pending = [p for p in pending if left[w[p]] > 0]
            elif not left[w[ran]] > 0:  # else a round changes what is left of its own withdrawal only
                pending.remove(ran)
        self.out.steps = self._steps()
        return self.out

    def _state(self) -> None:
        """The cells (asset, location) and accounts the transfers touch, as integers: each cell's holding, each
        account's collateral and floor, and per transfer its cells and the accounts whose collateral it changes
        (none where the asset has no weight there), with weight x price there. Lists, not arrays: a step reads
        and writes a few numbers, and arrays are made of them only where all pending withdrawals are judged."""
        ledger, transfers = self.ledger, self.transfers
        leaving = [(t.asset, t.source) for t in transfers]
        arriving = [(t.asset, t.destination) for t in transfers]
        self.cells = {key: c for c, key in enumerate(dict.fromkeys(chain(leaving, arriving)))}
        self.held = [float(ledger.quantity.get(key, 0.0)) for key in self.cells]
        names = dict.fromkeys(location for _, location in self.cells if ledger.is_account(location))
        self.accounts = {name: k for k, name in enumerate(names)}
        self.collateral = [float(ledger.collateral[name]) for name in names]
        self.floor = [float(ledger.floor[name]) for name in names]
        self.source = [self.cells[key] for key in leaving]
        self.destination = [self.cells[key] for key in arriving]
        self.curved = any(ledger.curves.values()) and any(asset in ledger.curves.get(location, {})
                                                          for asset, location in self.cells)
        self.credit_from, self.credit_to = self._credited(leaving), self._credited(arriving)

    def _credited(self, cells: list[tuple[str, str]]) -> list[tuple[int, float] | None]:
        """Per transfer end, the account whose collateral it changes and weight x price there (the ledger's
        ``weight * price``), or None where the asset carries no weight."""
        ledger, out = self.ledger, []
        for asset, location in cells:
            weight = ledger.weights.get(location, {}).get(asset, 0.0)
            out.append((self.accounts[location], weight * ledger.price[asset]) if weight else None)
        return out

    def _withdrawals(self, positions: list[int]) -> None:
        """The withdrawals, by position ``p`` in ``w`` (their transfers): unit tolerance, weight x price at the
        source (``_credited``'s, 0 without weight) and source account as lists (for ``fits``), and with price and
        source cell as arrays (for ``rooms`` and ``force``)."""
        ledger, transfers = self.ledger, self.transfers
        self.w = positions
        chosen = [transfers[i] for i in positions]
        self.tolerance = [ledger.unit_tolerance(t.asset) for t in chosen]
        self.weight_price = [0.0 if (credit := self.credit_from[i]) is None else credit[1] for i in positions]
        self.account = [self.accounts[t.source] for t in chosen]
        self.arrays = {"w": np.array(positions, dtype=int),
                       "price": np.array([ledger.price[t.asset] for t in chosen], dtype=float),
                       "tolerance": np.array(self.tolerance, dtype=float),
                       "weight_price": np.array(self.weight_price, dtype=float),
                       "account": np.array(self.account, dtype=int),
                       "cell": np.array([self.source[i] for i in positions], dtype=int)}

    def run(self, i: int, quantity: float, needs_funding: bool = False) -> None:
        """Run ``quantity`` of transfer ``i`` as the next step (order.py's ``run``): the ledger's arithmetic on the
        lists, then the deposits to examine again."""
        left = self.left[i]
        if abs(quantity - left) <= CRUMB * left:
            quantity = left  # finish the transfer rather than leave a crumb behind
        source, destination, held, collateral = self.source[i], self.destination[i], self.held, self.collateral
        held[source] += -quantity  # Ledger.withdraw, then Ledger.deposit
        held[destination] += quantity
        credit = self.credit_from[i]
        if credit is not None:
            collateral[credit[0]] += credit[1] * -quantity
        credit = self.credit_to[i]
        if credit is not None:
            collateral[credit[0]] += credit[1] * quantity
        if self.curved:
            self._on_ledger(i, quantity)
        self.taken.append((i, quantity, needs_funding))
        self.left[i] = left - quantity
        for j in self.deposits_from.get(destination, ()):
            if self.left[j] > 0:
                self._again(i, j)

    def _on_ledger(self, i: int, quantity: float) -> None:
        """With curved credit, the step also runs on the ledger, whose collateral of both ends is the one kept."""
        t, ledger = self.transfers[i], self.ledger
        ledger.apply(t.asset, t.source, t.destination, quantity)
        for location in (t.source, t.destination):
            account = self.accounts.get(location)
            if account is not None:
                self.collateral[account] = ledger.collateral[location]

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
        candidates = sorted(self.next)
        self.next = set()
        left, held, source = self.left, self.held, self.source
        while candidates:
            self.current = now = _Pass(candidates)
            while now.heap:
                i = heapq.heappop(now.heap)
                now.at = i
                quantity = min(left[i], held[source[i]])
                if left[i] > 0 and quantity > CRUMB * left[i]:
                    self.run(i, quantity)
            candidates = sorted(now.later)
        self.current = None

    def fits(self, p: int) -> bool:
        """Whether withdrawal ``w[p]`` may run in full now (order.py's ``fits`` without risk floors): room
        ``min(left, available, headroom)`` above 0 and within the unit tolerance of what is left."""
        i, rate = self.w[p], self.weight_price[p]
        left = self.left[i]
        room = min(left, self.held[self.source[i]])
        if rate != 0.0:  # no weight: no floor to keep; else the ledger's headroom
            k = self.account[p]
            room = min(room, max(self.collateral[k] - self.floor[k], 0.0) / rate)
        return room > 0 and room >= left - self.tolerance[p]

    def rooms(self, j: np.ndarray) -> np.ndarray:
        """The room of the withdrawals ``w[j]`` (``fits``'s, on arrays)."""
        a = self.arrays
        left = np.array(self.left)[a["w"][j]]
        account, rate = a["account"][j], a["weight_price"][j]
        collateral, floor = np.array(self.collateral), np.array(self.floor)
        headroom = np.divide(np.maximum(collateral[account] - floor[account], 0.0), rate,
                             out=np.full(len(j), np.inf), where=rate != 0.0)
        return np.minimum(np.minimum(left, np.array(self.held)[a["cell"][j]]), headroom)

    def withdraw(self, pending: list[int]) -> int | None:
        """Run the first pending withdrawal (positions in ``w``) that fits, in full, or split the one with the most
        room at its headroom; return its position, None when none can run safely. The first that fits is near the
        front (within the first seven in every round of the 500 x 40 re-solve measured): the scan stops there,
        and only a round where none fits judges them all on arrays."""
        for p in pending:
            if self.fits(p):
                i = self.w[p]
                self.run(i, min(self.left[i], self.held[self.source[i]]))
                return p
        j = np.array(pending, dtype=int)
        room = self.rooms(j)
        best = int(np.argmax(room * self.arrays["price"][j]))  # numpy's first maximum: Python's max in order
        p, most = pending[best], float(room[best])
        i = self.w[p]
        if most > max(MIN_SPLIT * self.left[i], self.tolerance[p]):
            self.run(i, most * (1.0 - 1e-12))  # split at the headroom, rounding in the account's favour
            return p
        return None

    def force(self, pending: list[int]) -> int | None:
        """No safe step exists: run the pending withdrawal (positions in ``w``) leaving the smallest deficit,
        record the funding needed and return its position; None when only dust is left (dropped)."""
        a, j = self.arrays, np.array(pending, dtype=int)
        transfer = a["w"][j]
        available = np.array(self.held)[a["cell"][j]]
        runnable = available > a["tolerance"][j]
        if not runnable.any():
            self.drop_dust([int(i) for i in transfer])
            return None
        account = a["account"][j]
        collateral, floor = np.array(self.collateral), np.array(self.floor)
        quantity = np.minimum(np.array(self.left)[transfer], available)
        after = collateral[account] - a["weight_price"][j] * quantity  # the ledger's weight x price x quantity
        deficit = np.maximum(floor[account] - after, 0.0)
        choice = int(np.flatnonzero(runnable)[int(np.argmin(deficit[runnable]))])  # numpy's first minimum
        i, k = int(transfer[choice]), int(account[choice])
        self.run(i, min(self.left[i], self.held[self.source[i]]), needs_funding=True)
        self.out.funding.append(Funding(step=len(self.taken), account=self.transfers[i].source,
                                        amount=max(self.floor[k] - self.collateral[k], 0.0)))  # Ledger.deficit
        return pending[choice]

    def drop_dust(self, stuck: list[int]) -> None:
        """What is left waits for an asset no transfer brings: dust within the tolerance is dropped (order.py)."""
        for i in stuck:
            t = self.transfers[i]
            if self.left[i] > self.ledger.unit_tolerance(t.asset):
                left = Transfer(t.asset, t.source, t.destination, self.left[i])
                raise UnbalancedTransfers(f"transfers do not balance: {left} cannot be funded")
            self.left[i] = 0.0

    def _steps(self) -> list[Step]:
        """The steps taken as rows, validated in one call: value at the asset's price, cost at the route's rate."""
        ledger, routes, rows = self.ledger, self.ledger.route_rate, []
        for number, (i, quantity, needs_funding) in enumerate(self.taken, 1):
            t = self.transfers[i]
            rate = 0.0 if routes is None else routes.rate(t.source, t.destination, t.asset)
            assert rate is not None  # transfers come from moves along routes
            value = quantity * ledger.price[t.asset]
            rows.append({"step": number, "asset": t.asset, "from_": t.source, "to": t.destination,
                         "quantity": quantity, "value": value, "cost": value * rate,
                         "needs_funding": needs_funding})
        return rows_adapter(Step).validate_python(rows)
