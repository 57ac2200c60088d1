"""Hedge instruments the program may trade (``[[hedges]]``): a perp or future on an underlying, at an account.

The program chooses each hedge's notional ``n`` (currency, either sign: long ``n > 0``, short ``n < 0``) together
with the allocation (docs/hedging.md). Its money over the horizon ``T`` (days) is

    funding + fees = funding_rate * T/365 * n + fee_bps/1e4 * |n|

in currency the desk pays (a negative funding cost is funding the desk receives): ``funding_rate`` is the annual
rate a long position pays on its notional and a short one receives (a perp's funding; a future's annualised basis,
the premium over spot a long gives up as it converges). The hedge raises its account's requirement by its margin,
``rate_long * n`` for a long and ``rate_short * |n|`` for a short: ``margin_rate`` for both when given, else the
chords of the account's venue rulebook (venues/terms.py), and it moves the account's equity by ``n`` times the
return of ``underlying``: stress scenarios, the parametric limit, CVaR and the portfolio limit see it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator

from allocator.inputs.fields import Bps, Id, Money, Rate, StrictModel, interval
from allocator.inputs.market import Position

#: A margin rate: requirement per unit of absolute notional.
MarginRate = Annotated[float, AfterValidator(interval(0.0, 1.0))]


class Hedge(StrictModel):
    """A hedge instrument at an account, traded in either direction up to ``max_notional`` (currency)."""

    account: Id
    instrument: Id
    underlying: Id
    kind: Literal["perp", "future"] = "perp"
    funding_rate: Rate = 0.0  # annual, paid by a long on its notional (received by a short)
    fee_bps: Bps = 0.0  # on the notional traded
    max_notional: Money  # |notional| at most, in currency
    margin_rate: MarginRate | None = None  # requirement per unit of |notional|; default: the rulebook's chords

    @property
    def label(self) -> str:
        return f"hedge[{self.account},{self.instrument}]"

    def position(self, notional: float, price: float) -> Position:
        """The hedge as a position of ``notional / price`` units (signed), at its account."""
        return Position.model_validate({"account": self.account, "instrument": self.instrument,
                                        "underlying": self.underlying, "kind": self.kind,
                                        "quantity": notional / price})


def without_hedges(data: dict[str, Any]) -> dict[str, Any]:
    """A problem's data (``model_dump``) without its hedges and delta bands, changed in place and returned."""
    data["hedges"], data["max_net_delta"] = [], {}
    for account in data["accounts"]:
        account["max_net_delta"] = {}
    return data
