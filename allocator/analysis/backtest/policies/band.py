"""The trigger band: a policy acts on an account only when its coverage leaves ``[low, high]``, and brings it back
to ``target`` (default: the middle of the band).

Coverage is ``collateral / requirement`` on the account's own basis at the day's close (in a policy's own view of
haircuts where it has one). The band replaces the problem's buffers for the band policies: an account is brought to
``target x requirement``, whatever its ``buffer``. ``Band.parse("1.1:1.5")`` or ``"1.1:1.5:1.3"`` (with a target).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allocator.errors import InputError, InputIssue

if TYPE_CHECKING:
    from allocator.analysis.backtest.moves import Draft, Moves
    from allocator.analysis.backtest.state import AccountView, DayState


@dataclass(frozen=True)
class Band:
    """Act below ``low`` or above ``high``; aim at ``target``."""

    low: float = 1.1
    high: float = 1.5
    target: float | None = None

    def __post_init__(self) -> None:
        numbers = (self.low, self.high, self.aim)
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in numbers) or not (
                0 < self.low <= self.aim <= self.high < float("inf")):
            raise InputError([InputIssue("band", f"low {self.low!r}, target {self.target!r}, high {self.high!r}: "
                                         "need 0 < low <= target <= high, finite", "bad_band")])

    @property
    def aim(self) -> float:
        """The coverage an account is brought back to."""
        return self.target if self.target is not None else (self.low + self.high) / 2.0

    def outside(self, coverage: float) -> bool:
        return coverage < self.low or coverage > self.high

    def __str__(self) -> str:
        return f"{self.low:g}:{self.high:g}" + (f":{self.target:g}" if self.target is not None else "")

    @classmethod
    def parse(cls, text: str | Band | None) -> Band:
        """``"LOW:HIGH"`` or ``"LOW:HIGH:TARGET"``; InputError otherwise."""
        if text is None:
            return cls()
        if isinstance(text, Band):
            return text
        parts = str(text).split(":")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) not in (2, 3):
            raise InputError([InputIssue("band", f"{text!r} is not LOW:HIGH or LOW:HIGH:TARGET (e.g. 1.1:1.5)",
                                         "bad_band")])
        return cls(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)


class Bands:
    """One band for every account, with per-account overrides (``bands={"hyperliquid": "5:10"}``): an account
    whose requirement is a perps venue's initial margin wants a wider band than a loan's health factor."""

    def __init__(self, band: Band | str | None = None, bands: dict[str, Band | str] | None = None) -> None:
        self.default = Band.parse(band)
        self.overrides = {account: Band.parse(value) for account, value in (bands or {}).items()}

    def __getitem__(self, account: str) -> Band:
        return self.overrides.get(account, self.default)

    def __str__(self) -> str:
        extra = "".join(f", {account}={band}" for account, band in self.overrides.items())
        return f"{self.default}{extra}"


class BandPolicy:
    """A policy acting on the accounts whose coverage left their band (waterfall, pro rata): the band, the
    per-account overrides, the label it reports under, and whether it may buy what the inventory lacks."""

    name = "band"

    def __init__(self, band: Band | str | None = None, bands: dict[str, Band | str] | None = None,
                 label: str | None = None, buy: bool = True) -> None:
        self.band = Bands(band, bands)
        self.name = label or type(self).name
        self.buy = buy

    def decide(self, state: DayState) -> Moves:
        """Nothing while every account is inside its band; else :meth:`act` on those outside."""
        from allocator.analysis.backtest.moves import NONE

        out = self.out_of_band(state.accounts)
        return self.act(state, state.draft(), out) if out else NONE

    def act(self, state: DayState, draft: Draft, out: list[int]) -> Moves:
        """The moves for the accounts ``out`` (indices), drafted on ``draft``."""
        raise NotImplementedError

    def out_of_band(self, accounts: Iterable[AccountView]) -> list[int]:
        """The indices of the accounts with a requirement whose coverage is outside their band."""
        return [a.index for a in accounts if a.requirement > 0 and self.band[a.id].outside(a.coverage)]
