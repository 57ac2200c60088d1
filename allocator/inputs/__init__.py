"""Inputs: the problem a user writes (pydantic models with located errors) and its checks.

``problem`` (assets, holdings, accounts, routes, locations), ``market`` (volatilities, correlations, positions,
stress scenarios, risk settings), ``liquidity`` (the transition's schedule and trading venues), ``scenario``
(what-if changes), ``fields`` and ``raw`` (typed fields, reading raw tables), ``checks`` (cross-field checks, every
issue at once).
"""
