"""Backtests of rebalancing policies on real price history, and the live rebalance (docs/backtest.md).

Modules, in the order of the data flow: ``history`` (prices from the market files, rescaled to the problem),
``venue`` (terms, requirements and liquidation rules of the stress package, shared by every policy), ``books``
(the treasury's units and every way they change), ``moves`` (transfers and trades, routes), ``forecasts``
(predictive haircuts served one day at a time), ``state`` (what a policy sees), ``policies/`` (the policies and
their registry), ``day`` (the market's part of a day: liquidations, restoration, variation margin), ``simulation``
(the loop), ``metrics`` (the summary), ``result`` (BacktestResult), ``api`` (``backtest``) and ``rebalance`` (the
live command's decision and plan).
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:  # the names as type checkers see them (re-exported); at run time each is imported on first
    # use (PEP 562, lazy_loader.attach)
    from allocator.analysis.backtest.api import backtest as backtest
    from allocator.analysis.backtest.history import MarketHistory as MarketHistory
    from allocator.analysis.backtest.moves import Moves as Moves
    from allocator.analysis.backtest.moves import Trade as Trade
    from allocator.analysis.backtest.policies import Band as Band
    from allocator.analysis.backtest.policies import Policy as Policy
    from allocator.analysis.backtest.policies import make_policy as make_policy
    from allocator.analysis.backtest.policies import policy_names as policy_names
    from allocator.analysis.backtest.policies import register_policy as register_policy
    from allocator.analysis.backtest.result import BacktestResult as BacktestResult
    from allocator.analysis.backtest.settings import BacktestSettings as BacktestSettings
    from allocator.analysis.backtest.state import AccountView as AccountView
    from allocator.analysis.backtest.state import DayState as DayState

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "api": ["backtest"],
    "history": ["MarketHistory"],
    "moves": ["Moves", "Trade"],
    "policies": ["Band", "Policy", "make_policy", "policy_names", "register_policy"],
    "result": ["BacktestResult"],
    "settings": ["BacktestSettings"],
    "state": ["AccountView", "DayState"],
})
