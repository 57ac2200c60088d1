"""Stress testing on real crashes and Monte Carlo draws: revalue an allocation, find who is liquidated, and follow
the liquidation cascade (docs/stress.md).

Modules, in the order of the data flow: ``episodes`` (the reviewed windows and proxy rules of
models/stress-episodes.toml), ``market_data`` (the shipped daily files), ``returns`` (each asset's move in an
episode, with its proxy), ``montecarlo`` (the fitted Student-t model), ``book`` (the allocation as arrays),
``revalue`` (collateral, P&L and requirements at other prices), ``liquidation`` (each venue's rule, penalties and
seizures), ``liquidity`` (the impact of liquidation sales), ``cascade`` (the rounds to the fixed point),
``simulate`` (Monte Carlo draws through the cascade), ``report`` (StressReport) and ``api`` (``stress``).
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:  # the names as type checkers see them (re-exported); at run time each is imported on first
    # use (PEP 562, lazy_loader.attach)
    from allocator.analysis.stress.api import stress as stress
    from allocator.analysis.stress.episodes import Episode as Episode
    from allocator.analysis.stress.episodes import EpisodeFile as EpisodeFile
    from allocator.analysis.stress.episodes import load_episodes as load_episodes
    from allocator.analysis.stress.report import StressReport as StressReport

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "api": ["stress"],
    "episodes": ["Episode", "EpisodeFile", "load_episodes"],
    "report": ["StressReport"],
})
