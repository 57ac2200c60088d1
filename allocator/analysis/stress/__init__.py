"""Stress testing on real crashes and Monte Carlo draws: revalue an allocation, find who is liquidated, and follow
the liquidation cascade (docs/stress.md).

Modules, in the order of the data flow: ``episodes`` (the reviewed windows and proxy rules of
models/stress-episodes.toml), ``market_data`` (the shipped daily files), ``returns`` (each asset's move in an
episode, with its proxy), ``montecarlo`` (the fitted Student-t model), ``book`` (the allocation as arrays),
``revalue`` (collateral, P&L and requirements at other prices), ``liquidation`` (each venue's rule, penalties and
seizures), ``liquidity`` (the impact of liquidation sales), ``cascade`` (the rounds to the fixed point),
``simulate`` (Monte Carlo draws through the cascade), ``report`` (StressReport) and ``api`` (``stress``).
"""

from allocator.analysis.stress.api import stress
from allocator.analysis.stress.episodes import Episode, EpisodeFile, load_episodes
from allocator.analysis.stress.report import StressReport

__all__ = ["Episode", "EpisodeFile", "StressReport", "load_episodes", "stress"]
