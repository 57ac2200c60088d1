"""Backtests of rebalancing policies on real price history, and the live rebalance (docs/backtest.md).

Modules, in the order of the data flow: ``history`` (prices from the market files, rescaled to the problem),
``venue`` (terms, requirements and liquidation rules of the stress package, shared by every policy), ``books``
(the treasury's units and every way they change), ``moves`` (transfers and trades, routes), ``forecasts``
(predictive haircuts served one day at a time), ``state`` (what a policy sees), ``policies/`` (the policies and
their registry), ``day`` (the market's part of a day: liquidations, restoration, variation margin), ``simulation``
(the loop), ``metrics`` (the summary), ``result`` (BacktestResult), ``api`` (``backtest``) and ``rebalance`` (the
live command's decision and plan).
"""

from allocator.analysis.backtest.api import backtest
from allocator.analysis.backtest.history import MarketHistory
from allocator.analysis.backtest.moves import Moves, Trade
from allocator.analysis.backtest.policies import Band, Policy, make_policy, policy_names, register_policy
from allocator.analysis.backtest.result import BacktestResult
from allocator.analysis.backtest.settings import BacktestSettings
from allocator.analysis.backtest.state import AccountView, DayState

__all__ = ["AccountView", "BacktestResult", "BacktestSettings", "Band", "DayState", "MarketHistory", "Moves",
           "Policy", "Trade", "backtest", "make_policy", "policy_names", "register_policy"]
