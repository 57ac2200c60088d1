"""Venues: how a venue values collateral and sets margin.

``rulebooks`` (real venues' rules as reviewed data files in models/), ``collateral`` (collateral curves: flat,
tiered, size-discounted, liquidity-adjusted, volatility-based), ``haircut_models`` (an account's haircut models),
``terms`` (an account's eligible haircuts, curves and requirement from its rulebook and models), ``options``
(Black-76 prices and greeks) and ``estimate`` (volatilities and correlations from price history).
"""
