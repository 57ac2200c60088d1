"""An account's haircuts, collateral curves and requirement from its ``haircut_models`` and its venue rulebook.

``haircut_models`` (haircut_models.py): a volatility model gives a flat haircut from the market; tiered,
size-dependent and liquidity-adjusted models give concave curves, credited through chords in the program.

For an account naming a rulebook (models/, see docs/rulebooks.md):

* haircuts: every rulebook collateral asset that the problem has gets the venue's haircut on the account's
  ``margin_basis`` (maintenance or initial); an asset in the account's own ``haircuts`` keeps the user's number
  (an override). A linear curve gives ``h = 1 - weight`` exactly; a tiered or size-dependent one is kept as a
  curve (chords in the program, the exact formula in the verification).
* requirement: when ``requirement`` is left out, the venue's margin of the account's positions at today's
  prices (``maintenance_margin`` or ``initial_margin``, by ``margin_basis``) in the account's margin mode
  (``Rulebook.mode_margin``; left out, the venue's own mode: today's figure). ``isolated`` and ``portfolio`` need a
  rulebook that offers them and a derived requirement (docs/margin-modes.md).
* hedges (docs/hedging.md): each ``[[hedges]]`` entry at the account gets a margin rate per unit of notional for a
  long and for a short: its ``margin_rate``, or the chords of the venue's margin of the account's positions with the
  hedge added at ``+max_notional`` and ``-max_notional`` (an upper bound of a margin convex in the hedge; negative
  where the hedge offsets the positions, floored at 0 when the requirement is given rather than derived).

Both are computed again whenever the problem is validated, so a what-if that moves prices moves them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

from allocator.errors import InputError, InputIssue
from allocator.venues.collateral.curve import Curve
from allocator.venues.collateral.volatility import stressed_floor, volatility_haircut
from allocator.venues.estimate import read_closes
from allocator.venues.haircut_models import VolatilityHaircut

if TYPE_CHECKING:
    from allocator.inputs.market import Position
    from allocator.inputs.problem import Problem
    from allocator.venues.rulebooks import Rulebook


@cache
def _rulebook(name: str) -> Rulebook:
    from allocator.venues.rulebooks import load_rulebook

    return load_rulebook(name)


def rulebook_issues(data: dict[str, object]) -> list[InputIssue]:
    """Unknown rulebook names, located at the account."""
    from allocator.inputs.raw import rows, text

    known: set[str] | None = None  # the rulebooks are listed (and their package loaded) only when one is named
    out = []
    for index, row in rows(data, "accounts"):
        name = text(row.get("rulebook"))
        if name is not None and known is None:
            from allocator.venues.rulebooks import available_rulebooks

            known = set(available_rulebooks())
        if name is not None and known is not None and name not in known:
            out.append(InputIssue(f"accounts[{index}].rulebook", f"unknown rulebook {name!r} (available: "
                                  f"{', '.join(sorted(known))})", "unknown_rulebook"))
        if row.get("requirement") is None and name is None:
            out.append(InputIssue(f"accounts[{index}].requirement", "is required (or name a rulebook to derive it "
                                  "from the account's positions)", "missing_field"))
    return out


@dataclass(frozen=True)
class AccountTerms:
    """What an account's collateral must cover and how each asset is credited there, resolved from its own
    haircuts, its haircut models and its venue rulebook (``Problem.terms[account_id]``)."""

    eligible: dict[str, float]  # haircut of every eligible asset; a curved one: of a small posting, 1 - slope at 0
    curves: dict[str, Curve]  # the non-linear collateral curves (tiered, size-dependent, liquidity-adjusted)
    requirement: float  # currency: given, or derived from the positions by the rulebook
    buffer: float
    mode: str = "cross"  # the margin mode in force: the account's margin_mode, else its rulebook's own
    hedge_rates: dict[str, tuple[float, float]] = field(default_factory=dict)  # instrument -> (long, short) rate

    @property
    def required(self) -> float:
        """Collateral the account must hold after the buffer, in currency."""
        return self.requirement * (1.0 + self.buffer)

    @cached_property
    def weights(self) -> dict[str, float]:
        """``1 - haircut`` of every eligible asset (a curved one: of a small posting), made once per problem for
        every ledger that replays a plan of it (plan/ledger.py); read-only by convention, like ``eligible``."""
        return {asset: 1.0 - haircut for asset, haircut in self.eligible.items()}


def venue_terms(problem: Problem) -> list[AccountTerms]:
    """Per account, its terms; raises InputError with every located issue. Curved assets get the haircut of a
    small posting, ``1 - curve.weight``."""
    prices = {asset.id: asset.price for asset in problem.assets}
    out, issues = [], []
    for index, account in enumerate(problem.accounts):
        haircuts, requirement = dict(account.haircuts), account.requirement
        curves: dict[str, Curve] = {}
        for asset in account.haircut_models:
            if asset in account.haircuts:
                issues.append(InputIssue(f"accounts[{index}].haircut_models.{asset}", f"{asset} has a haircut and "
                                         "a haircut model: give one of them", "conflicting_fields"))
        for asset, model in account.haircut_models.items():
            if asset not in prices:
                continue  # unknown asset: reported by the cross-field checks
            if isinstance(model, VolatilityHaircut):
                try:
                    haircuts[asset] = volatility_model_haircut(problem, asset, model)
                except ValueError as error:
                    issues.append(InputIssue(f"accounts[{index}].haircut_models.{asset}", str(error),
                                             "missing_volatility"))
            else:
                curves[asset] = model.curve(prices[asset])
        mode = "cross"
        if account.rulebook is None and account.margin_mode in ("isolated", "portfolio"):
            issues.append(InputIssue(f"accounts[{index}].margin_mode", f"{account.margin_mode} margin derives each "
                                     "requirement from a venue rulebook: name one in `rulebook` (and leave "
                                     "`requirement` out)", "mode_needs_rulebook"))
        if account.rulebook is not None:
            where = f"accounts[{index}].rulebook"
            book = _rulebook(account.rulebook)
            mode = account.margin_mode or book.native_mode
            issues += _mode_issues(index, account.margin_mode, account.requirement, book)
            try:
                venue = {asset: book.collateral_curve(asset, prices[asset], account.margin_basis, problem.as_of)
                         for asset in book.collateral_assets if asset in prices}
                for asset, curve in venue.items():
                    if asset in haircuts or asset in curves or curve.weight <= 0:
                        continue  # the account's own terms win; credited at nothing: not eligible
                    if curve.is_linear:
                        haircuts[asset] = 1.0 - min(curve.weight, 1.0)
                    else:
                        curves[asset] = curve
                if requirement is None and mode in book.modes:
                    mine = [p for p in problem.positions if p.account == account.id]
                    requirement = book.mode_margin(mine, prices, problem.as_of, account.margin_basis, mode) \
                        if mine else 0.0
            except InputError as error:
                issues += [InputIssue(where, f"{account.rulebook}: {issue.message}", issue.code)
                           for issue in error.issues]
        for asset, curve in curves.items():
            haircuts[asset] = 1.0 - min(curve.weight, 1.0)
        issues += [InputIssue(f"accounts[{index}].concentration.{asset}", f"{asset} has a concentration limit but "
                              "is not eligible at this account", "ineligible_limit")
                   for asset in account.concentration if asset not in haircuts and account.rulebook is not None]
        rates, found = hedge_rates(problem, index, mode, prices)
        issues += found
        out.append(AccountTerms(haircuts, curves, float(requirement or 0.0), account.buffer, mode, rates))
    if issues:
        raise InputError(issues)
    return out


def _mode_issues(index: int, mode: str | None, requirement: float | None, book: Rulebook) -> list[InputIssue]:
    where = f"accounts[{index}].margin_mode"
    if mode is None:
        return []
    if mode not in book.modes:
        return [InputIssue(where, f"{book.name} offers no {mode} margin (offered: {', '.join(sorted(book.modes))})",
                           "mode_not_offered")]
    if mode != "cross" and requirement is not None:
        return [InputIssue(where, f"{mode} margin derives the requirement from the positions by the rulebook; "
                           f"leave `requirement` out (it is {requirement:g})", "conflicting_fields")]
    return []


def hedge_rates(problem: Problem, index: int, mode: str, prices: dict[str, float]
                ) -> tuple[dict[str, tuple[float, float]], list[InputIssue]]:
    """(long, short) margin rate per unit of notional of each hedge at account ``index`` (module docstring), and the
    located issues of hedges that have none. ``prices``: the problem's, by asset id."""
    account = problem.accounts[index]
    if account.rulebook is not None and mode not in _rulebook(account.rulebook).modes:
        return {}, []  # the mode's own issue says why (accounts[i].margin_mode)
    mine = [p for p in problem.positions if p.account == account.id]
    rates: dict[str, tuple[float, float]] = {}
    issues: list[InputIssue] = []
    for j, hedge in enumerate(problem.hedges):
        if hedge.account != account.id or hedge.underlying not in prices:
            continue
        if hedge.margin_rate is not None:
            rates[hedge.instrument] = (hedge.margin_rate, hedge.margin_rate)
        elif hedge.max_notional == 0:
            rates[hedge.instrument] = (0.0, 0.0)
        elif account.rulebook is None:
            issues.append(InputIssue(f"hedges[{j}].margin_rate", f"account {account.id!r} has no rulebook to margin "
                                     "the hedge: give margin_rate (requirement per unit of notional)", "missing_field"))
        else:
            book, size, price = _rulebook(account.rulebook), hedge.max_notional, prices[hedge.underlying]
            try:
                def margin(extra: list[Position], book: Rulebook = book) -> float:
                    return book.mode_margin(mine + extra, prices, problem.as_of, account.margin_basis,
                                            mode)  # type: ignore[arg-type]
                base = margin([]) if mine else 0.0
                long, short = ((margin([hedge.position(sign * size, price)]) - base) / size for sign in (1.0, -1.0))
            except InputError as error:
                issues += [InputIssue(f"hedges[{j}].margin_rate", f"{account.rulebook}: {issue.message}; give "
                                      "margin_rate", issue.code) for issue in error.issues]
                continue
            if account.requirement is not None:  # a given requirement is never lowered by a hedge
                long, short = max(long, 0.0), max(short, 0.0)
            rates[hedge.instrument] = (long, short)
    return rates, issues


def volatility_model_haircut(problem: Problem, asset: str, model: VolatilityHaircut) -> float:
    """``clip(z sigma sqrt(tau/365), floor, cap)`` with sigma from the problem's market and the floor raised to
    the stressed-period haircut (times ``floor_share``) when ``stressed_period`` is given."""
    market = problem.market
    if market is None or asset not in market.assets:
        raise ValueError(f"a volatility haircut needs {asset} in [market]")
    sigma = float(market.moments[0][market.assets.index(asset)])
    from scipy.stats import norm  # deferred: only a volatility haircut model needs it

    z = float(norm.ppf(model.confidence))
    floor = model.floor
    if model.stressed_period is not None:
        if market.history is None or asset not in market.history:
            raise ValueError(f"stressed_period needs a price history of {asset} in market.history")
        closes = read_closes(market.history[asset])
        floor = max(floor, stressed_floor(closes, z, model.horizon_days,
                                          period=(model.stressed_period[0], model.stressed_period[1]),
                                          share=model.floor_share))
    return volatility_haircut(z, sigma, model.horizon_days, floor=floor, cap=max(model.cap, floor))
