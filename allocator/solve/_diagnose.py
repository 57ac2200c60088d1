"""Infeasibility diagnosis: which accounts cannot be covered, and by how much.

The elastic program gives every coverage row a non-negative shortfall (and every concentration row an excess)
and minimises their total. The amounts reported are recomputed in numpy from the elastic allocation:
``max(0, required - collateral)`` per account, in currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from allocator.results.result import Shortfall


@dataclass(frozen=True)
class Diagnosis:
    currency: str
    shortfalls: tuple[Shortfall, ...]
    solver: str = ""

    @property
    def total(self) -> float:
        return sum(s.amount for s in self.shortfalls if s.constraint == "coverage")

    def by_account(self) -> dict[str, float]:
        return {s.account: s.amount for s in self.shortfalls if s.constraint == "coverage"}

    def summary(self) -> str:
        parts = [f"{s.account} short by {s.amount:,.2f} {self.currency}" if s.constraint == "coverage"
                 else f"{s.constraint} exceeded by {s.amount:,.2f} {self.currency}" for s in self.shortfalls]
        return (f"no allocation meets every requirement and limit: {'; '.join(parts)} (the least total any "
                f"allocation leaves: {self.total:,.2f} {self.currency} uncovered)")
