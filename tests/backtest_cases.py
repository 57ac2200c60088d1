"""Small problems and price histories for the backtest tests, every number chosen so a figure can be computed by
hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import allocator
from allocator.analysis.backtest import MarketHistory


def history(closes: dict[str, list[float]], lows: dict[str, list[float]] | None = None,
            highs: dict[str, list[float]] | None = None, start: str = "2024-01-01") -> MarketHistory:
    """Prices as given, one row per calendar day from ``start``."""
    days = len(next(iter(closes.values())))
    index = pd.date_range(start, periods=days, freq="D")
    frame = pd.DataFrame(closes, index=index)

    def other(values: dict[str, list[float]] | None) -> pd.DataFrame | None:
        return None if values is None else pd.DataFrame({a: values.get(a, closes[a]) for a in closes}, index=index)

    return MarketHistory.from_frames(frame, other(lows), other(highs))


def problem(**changes: Any) -> allocator.Problem:
    """A venue account holding BTC against a 1,000,000 requirement, a wallet with BTC and USDC; BTC at 100,000."""
    data: dict[str, Any] = {
        "assets": [{"id": "BTC", "price": 100_000.0, "carry": 0.0}, {"id": "USDC", "price": 1.0, "carry": 0.05}],
        "holdings": [{"asset": "BTC", "location": "wallet", "quantity": 20.0},
                     {"asset": "USDC", "location": "wallet", "quantity": 2_000_000.0},
                     {"asset": "BTC", "location": "venue", "quantity": 13.0}],
        "accounts": [{"id": "venue", "requirement": 1_000_000.0, "haircuts": {"BTC": 0.0, "USDC": 0.0},
                      "yields": {"USDC": 0.01}}],
        "routes": [{"from": "wallet", "to": "venue", "cost_bps": 2.0}, {"from": "venue", "to": "wallet",
                                                                        "cost_bps": 2.0}],
    }
    data.update(changes)
    return allocator.Problem.model_validate(data)


def flat(days: int, **prices: float) -> MarketHistory:
    """Every asset at a constant price for ``days`` days."""
    return history({asset: [price] * days for asset, price in prices.items()})


def path(values: list[float]) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float)]
