"""What ordering a plan produces, shared by both orderers (order.py with risk floors, order_fast.py without)."""

from __future__ import annotations

from dataclasses import dataclass, field

from allocator.results.result import Funding, Step

#: A split smaller than this share of what remains of a transfer is not worth a step.
MIN_SPLIT = 1e-6
#: What is left of a transfer below this share of it is floating-point residue: the transfer is finished.
CRUMB = 1e-12


class UnbalancedTransfers(Exception):
    """The transfers cannot all be funded from the holdings (the engine reports it as a VerificationError)."""


@dataclass
class OrderedPlan:
    steps: list[Step] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.funding
