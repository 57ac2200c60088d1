"""Venue rulebooks: a venue's margin rules as a reviewed data file in ``models/`` and an object that applies them.

``load_rulebook("aave-v3-ethereum")`` (or a path) reads and validates ``models/<name>.toml``; the ``kind`` in the
file picks the formula family. Every rulebook offers ``collateral_assets``, ``collateral_curve(asset, price,
basis)``, ``collateral_value(asset, quantity, price, basis)``, ``maintenance_margin(positions, prices, as_of)`` and
``initial_margin(...)``; venue-specific helpers (Aave's ``health_factor``, Binance's ``uni_mmr``, Drift's
``liability_value``, Deribit's ``stresses``, BCBS-IOSCO's ``with_assets``) live on the venue's class.
"""

from allocator.venues.rulebooks.aave import AaveRulebook
from allocator.venues.rulebooks.base import Basis, Rulebook
from allocator.venues.rulebooks.bcbs import BcbsRulebook
from allocator.venues.rulebooks.binance import BinanceRulebook
from allocator.venues.rulebooks.deribit import DeribitRulebook
from allocator.venues.rulebooks.drift import DriftRulebook
from allocator.venues.rulebooks.dydx import DydxRulebook
from allocator.venues.rulebooks.hyperliquid import HyperliquidRulebook
from allocator.venues.rulebooks.loader import KINDS, MODELS, available_rulebooks, load_rulebook, rulebook_from_data
from allocator.venues.rulebooks.notional_tiers import Bracket, NotionalTiers
from allocator.venues.rulebooks.scenario_grid import ScenarioGrid, Stress

__all__ = ["KINDS", "MODELS", "AaveRulebook", "Basis", "BcbsRulebook", "BinanceRulebook", "Bracket",
           "DeribitRulebook", "DriftRulebook", "DydxRulebook", "HyperliquidRulebook", "NotionalTiers", "Rulebook",
           "ScenarioGrid", "Stress", "available_rulebooks", "load_rulebook", "rulebook_from_data"]
