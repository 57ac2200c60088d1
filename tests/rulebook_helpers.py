"""Positions and raw rulebook data for the rulebook tests."""

from __future__ import annotations

import tomllib
from typing import Any

from allocator.inputs.market import Position
from allocator.venues.rulebooks import MODELS


def perp(underlying: str, quantity: float, instrument: str | None = None, kind: str = "perp") -> Position:
    return Position.model_validate({"account": "acct", "instrument": instrument or f"{underlying}-PERP",
                                    "underlying": underlying, "kind": kind, "quantity": quantity})


def option(underlying: str, quantity: float, strike: float, expiry: str, kind: str, volatility: float) -> Position:
    return Position.model_validate({"account": "acct", "instrument": f"{underlying}-{expiry}-{strike:g}-{kind}",
                                    "underlying": underlying, "kind": "option", "quantity": quantity,
                                    "strike": strike, "expiry": expiry, "type": kind,
                                    "implied_volatility": volatility})


def data(name: str) -> dict[str, Any]:
    """The parsed TOML of a shipped rulebook, to derive variants from in a test."""
    return tomllib.loads((MODELS / f"{name}.toml").read_text(encoding="utf-8"))
