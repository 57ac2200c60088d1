"""How the venues see an allocation on a day of the backtest: terms, collateral, requirements, liquidation rules.

Everything here is the stress package's (docs/stress.md): an account's terms at any prices are re-derived by
``Book.terms_at`` (rulebook haircuts and curves, rulebook requirements of the positions), an allocation is valued by
``revalue`` and judged by ``judge`` (Aave health factor, Binance uniMMR, equity below maintenance), and a
liquidation is priced by ``seize``. The backtest adds three things:

* terms at a row of prices are computed once and shared by every policy (they depend on prices, not holdings);
* an account with positions and a requirement **given** in the file (no rulebook to re-derive it) has its
  requirement **scaled with the positions' gross notional**: ``R(t) = R * notional(t) / notional(start)``; an
  account without positions keeps its requirement (a loan's debt, a fixed margin line);
* an account whose haircuts come from **volatility models** (``haircut_models``, model "volatility") has them
  re-computed every day from the trailing volatility of its asset's history (the 90 days before the day:
  ``venues.forecast``, method "trailing"), with the model's confidence, horizon, floor (and stressed floor) and cap.

The **warning zone** of an account: its rule's ratio below ``warning`` (Binance: the upper bound of the rulebook's
last uniMMR level before liquidation, 1.2 in models/binance-portfolio-margin.toml; every other rule:
``DEFAULT_WARNING`` times its threshold, our choice) and above its liquidation threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from allocator.analysis.stress.book import Book
from allocator.analysis.stress.liquidation import Rule, rules
from allocator.analysis.stress.revalue import Valuation, revalue
from allocator.inputs.problem import Problem
from allocator.venues.collateral.volatility import stressed_floor
from allocator.venues.estimate import read_closes
from allocator.venues.haircut_models import VolatilityHaircut
from allocator.venues.rulebooks import BinanceRulebook
from allocator.venues.terms import AccountTerms

#: Warning line of a rule without published levels, as a multiple of its liquidation threshold (our choice: the
#: same 1.2 that Binance publishes for its last level before liquidation).
DEFAULT_WARNING = 1.2

Terms = tuple[tuple[AccountTerms, ...], tuple[AccountTerms, ...]]


@dataclass(frozen=True, eq=False)
class DayBook(Book):
    """A stress ``Book`` whose terms at other prices come from a cache shared by every policy of a backtest."""

    venues: Venues | None = None
    sizes: np.ndarray | None = None  # (P,) the positions' quantities today

    def terms_at(self, price: np.ndarray) -> Terms:
        assert self.venues is not None
        own, maintenance = self.venues.terms_at(price, self.sizes)
        if not self.static.any():
            return own, maintenance
        # accounts whose terms do not depend on prices carry the day's own terms (volatility models)
        return (tuple(self.terms[k] if self.static[k] else own[k] for k in range(len(own))),
                tuple(self.maintenance[k] if self.static[k] else maintenance[k] for k in range(len(own))))


@dataclass(eq=False)
class Venues:
    """The problem's accounts as the venues see them (module docstring)."""

    problem: Problem
    rules: list[Rule]
    account_location: np.ndarray  # (m,) location index of each account
    static: np.ndarray  # (m,) terms that cannot depend on prices
    scaled: np.ndarray  # (m,) requirement given with positions: scaled with notional
    notional0: np.ndarray  # (m,) gross notional at the start
    warning: np.ndarray  # (m,) warning line of each account's rule ratio
    base: Book  # the problem's own book (today's terms)
    volatility: dict[int, dict[str, tuple[VolatilityHaircut, float]]]  # account -> asset -> (model, floor)
    cache: dict[bytes, Terms] = field(default_factory=dict)

    @property
    def sizes0(self) -> np.ndarray:
        """(P,) every position's quantity in the file, in ``problem.positions`` order."""
        return np.array([p.quantity for p in self.problem.positions])

    def _index(self) -> list[list[int]]:
        """Per account, the indices of its positions in ``problem.positions`` (the order of ``base.positions``)."""
        ids = self.problem.account_ids
        out: list[list[int]] = [[] for _ in ids]
        for i, position in enumerate(self.problem.positions):
            out[ids.index(position.account)].append(i)
        return out

    @classmethod
    def of(cls, problem: Problem, penalties: dict[str, float] | None = None) -> Venues:
        settings = dict(problem.stress.liquidation_penalty) if problem.stress else {}
        account_rules = rules(problem, {**settings, **(penalties or {})})
        locations = problem.locations
        base = Book.of(problem, "current")
        has_positions = np.array([bool(p) for p in base.positions])
        given = np.array([account.requirement is not None for account in problem.accounts])
        notional0 = revalue(base, base.price[None, :]).notional[0]
        warning = np.array([_warning(rule) for rule in account_rules])
        volatility = {k: {a: (m, _floor(problem, a, m)) for a, m in account.haircut_models.items()
                          if isinstance(m, VolatilityHaircut)} for k, account in enumerate(problem.accounts)}
        return cls(problem, account_rules, np.array([locations.index(a) for a in problem.account_ids]),
                   base.static,
                   given & has_positions & (notional0 > 0), notional0, warning, base,
                   {k: v for k, v in volatility.items() if v})

    def terms_at(self, price: np.ndarray, sizes: np.ndarray | None = None) -> Terms:
        """Every account's terms (own basis, maintenance basis) at ``price`` (n,) with the positions' quantities
        ``sizes`` (P,; default the file's), computed once per price row and sizes (both the same for every
        policy)."""
        price = np.asarray(price, dtype=float)
        sizes = self.sizes0 if sizes is None else np.asarray(sizes, dtype=float)
        key = price.tobytes() + sizes.tobytes()
        if key not in self.cache:
            if len(self.cache) > 16:  # a day has at most five rows (yesterday's close, low, high, close, resized)
                self.cache.clear()
            base = self.base
            if len(sizes) and not np.array_equal(sizes, self.sizes0):
                resized = [p.model_copy(update={"quantity": float(q)}) for p, q in zip(self.problem.positions, sizes,
                                                                                        strict=True)]
                base = replace(base, problem=self.problem.model_copy(update={"positions": resized}))
            self.cache[key] = Book.terms_at(base, price)
        return self.cache[key]

    def book(self, posted: np.ndarray, elsewhere: np.ndarray, reference: np.ndarray,
             haircuts: dict[int, dict[str, float]] | None = None, sizes: np.ndarray | None = None) -> DayBook:
        """The allocation (units posted (n, m) and held elsewhere (n,)) with account ``k``'s positions, of
        quantities ``sizes`` (P,; default the file's), marked at the prices ``reference[k]`` ((m, n): where their
        P&L was last settled), and the day's haircuts of the volatility-model accounts."""
        base = self.base
        assets = base.assets
        sizes = self.sizes0 if sizes is None else sizes
        index = self._index()
        positions = tuple(tuple(p.model_copy(update={"reference_price": float(reference[k, assets.index(
            p.underlying)]), "quantity": float(sizes[index[k][j]])}) for j, p in enumerate(mine))
            for k, mine in enumerate(base.positions))
        terms, maintenance = list(base.terms), list(base.maintenance)
        for k, table in (haircuts or {}).items():
            eligible = {**terms[k].eligible, **table}
            terms[k] = replace(terms[k], eligible=eligible)
            maintenance[k] = replace(maintenance[k], eligible=eligible)
        return DayBook(self.problem, {}, np.asarray(reference[0] if len(reference) else self.base.price, dtype=float),
                       posted, elsewhere, positions, self.static, tuple(terms), tuple(maintenance), self,
                       np.asarray(sizes, dtype=float))

    def pnl(self, reference: np.ndarray, price: np.ndarray, sizes: np.ndarray | None = None) -> np.ndarray:
        """(m,) every account's positions' P&L from the prices ``reference[k]`` to ``price`` (``Position.change``,
        the one definition of a position's P&L), at quantities ``sizes`` (P,; default the file's)."""
        assets, as_of = self.base.assets, self.problem.as_of
        sizes = self.sizes0 if sizes is None else sizes
        ids = self.problem.account_ids
        out = np.zeros(len(ids))
        for position, quantity in zip(self.problem.positions, sizes, strict=True):
            k, i = ids.index(position.account), assets.index(position.underlying)
            sized = position.model_copy(update={"quantity": float(quantity)})
            out[k] += sized.change(float(reference[k, i]), float(price[i]), as_of)
        return out

    def value(self, book: DayBook, price: np.ndarray) -> Valuation:
        """``revalue`` at every row of ``price`` (N, n), with requirements given with positions scaled with their
        notional (module docstring)."""
        valuation = revalue(book, price)
        if not self.scaled.any():
            return valuation
        factor = np.where(self.scaled, valuation.notional / np.where(self.notional0 > 0, self.notional0, 1.0), 1.0)
        return replace(valuation, requirement=valuation.requirement * factor,
                       requirement_m=valuation.requirement_m * factor)

    def volatility_haircuts(self, sigma: dict[str, float]) -> dict[int, dict[str, float]]:
        """The day's haircuts of the volatility-model accounts from each asset's annual volatility ``sigma``."""
        out: dict[int, dict[str, float]] = {}
        for k, table in self.volatility.items():
            out[k] = {}
            for asset, (model, floor) in table.items():
                s = sigma.get(asset, float("nan"))
                if not np.isfinite(s):
                    out[k][asset] = self.base.terms[k].eligible[asset]
                    continue
                z = _quantile(model.confidence)
                raw = z * s * np.sqrt(model.horizon_days / 365.0)
                out[k][asset] = float(np.clip(raw, floor, max(model.cap, floor)))
        return out


def _warning(rule: Rule) -> float:
    if rule.kind == "binance-unimmr" and isinstance(rule.rulebook, BinanceRulebook):
        levels = sorted(level.above for level in rule.rulebook.spec.unimmr_levels
                        if not level.status.startswith("liquidation"))
        above = [level for level in levels if level > rule.threshold]
        return above[0] if above else DEFAULT_WARNING * rule.threshold
    return DEFAULT_WARNING * rule.threshold


def _floor(problem: Problem, asset: str, model: VolatilityHaircut) -> float:
    """The model's floor, raised to its stressed-period haircut when it names one (as venues/terms.py does)."""
    floor = model.floor
    market: Any = problem.market
    if model.stressed_period is not None and market is not None and market.history and asset in market.history:
        closes = read_closes(market.history[asset])
        floor = max(floor, stressed_floor(closes, _quantile(model.confidence), model.horizon_days,
                                          period=(model.stressed_period[0], model.stressed_period[1]),
                                          share=model.floor_share))
    return floor


def _quantile(confidence: float) -> float:
    """The standard normal quantile of ``confidence`` (the standard library's; scipy.stats is not loaded for it)."""
    return NormalDist().inv_cdf(confidence)
