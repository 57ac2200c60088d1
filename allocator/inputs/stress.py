"""``[stress]``: a problem's own settings for historical stress tests and Monte Carlo (docs/stress.md).

``proxies`` maps an asset without price data (in an episode's window, or at all) to the ticker whose moves it takes,
or to ``"constant"`` (held at today's price, on purpose): it overrides the default rules of
``models/stress-episodes.toml`` (stETH follows ETH, a stablecoin follows USDC, ...). An asset's own data always
comes first. ``liquidation_penalty`` sets the penalty a liquidation costs at an account (a share of the amount the
venue liquidates), over its rulebook's (Aave's liquidation bonus) and the documented default. Names are checked
against the problem when ``allocator.stress`` runs (located as ``stress.proxies.stETH``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from allocator.inputs.fields import Id, StrictModel, empty_table, interval

#: A proxy that keeps the asset at today's price.
CONSTANT = "constant"
#: A liquidation penalty: a share of the amount liquidated, in [0, 1].
Penalty = Annotated[float, AfterValidator(interval(0.0, 1.0))]


class StressSettings(StrictModel):
    """Per-problem overrides of the stress test's proxy rules and liquidation penalties."""

    proxies: dict[Id, Id] = Field(default_factory=empty_table)
    liquidation_penalty: dict[Id, Penalty] = Field(default_factory=empty_table)
