"""BCBS-IOSCO margin for non-centrally cleared derivatives: the standardised haircut schedule (Appendix B) and the
standardised initial margin schedule (Appendix A).

Collateral: ``v (1 - H_class(maturity) - H_fx)``, with the 8% ``H_fx`` added where the asset's currency differs from
the settlement currency (the currency of the derivatives obligation; the file's default, or the caller's). Asset
metadata (class, currency, maturity) comes from the file's ``[assets]`` table; ``with_assets`` adds a caller's
securities. Residual maturity is counted from ``as_of`` in years of 365.25 days; a bound belongs to the shorter
bucket (``<= 1y``).

Positions: gross initial margin ``sum |notional| x rate(class, maturity)``, then netting
``0.4 gross + 0.6 NGR gross`` with ``NGR = net / gross replacement cost`` (1 when nothing has positive value).
Replacement cost is the Black-76 value of options held and 0 for linear positions (margined daily to market).
The schedule has no maintenance level: the initial margin must be held throughout, so both functions return it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError

from allocator.errors import InputError, InputIssue
from allocator.inputs.fields import Currency, Haircut, Id, StrictModel, interval
from allocator.inputs.issues import issues_from_pydantic
from allocator.inputs.market import Position
from allocator.venues.collateral import Flat
from allocator.venues.collateral.curve import Curve
from allocator.venues.rulebooks.base import Basis, Day, Header, IsoDate, Rulebook, check_options, day, price_of

Years = Annotated[float, AfterValidator(interval(0.0, 100.0, low_open=True))]
Rate = Annotated[float, AfterValidator(interval(0.0, 1.0))]
DAYS_PER_YEAR = 365.25


class Bucket(StrictModel):
    """Residual maturity up to ``upto_years`` (None: any longer), at ``rate``."""

    upto_years: Years | None = None
    rate: Rate


class HaircutSchedule(StrictModel):
    """One class's rates by residual maturity; ``fx_mismatch`` says whether the FX add-on applies to it."""

    buckets: list[Bucket] = Field(min_length=1)
    fx_mismatch: bool = True

    def rate(self, years: float | None) -> float:
        if len(self.buckets) == 1:
            return self.buckets[0].rate
        assert years is not None  # checked by the caller
        return next(b.rate for b in self.buckets if b.upto_years is None or years <= b.upto_years)


class Asset(StrictModel):
    asset_class: Id = Field(alias="class")
    currency: Currency | None = None
    maturity: IsoDate | None = None


class BcbsFile(Header):
    kind: Literal["bcbs-iosco"]
    settlement_currency: Currency
    fx_mismatch_haircut: Haircut
    haircuts: dict[Id, HaircutSchedule] = Field(min_length=1)
    assets: dict[Id, Asset] = {}
    initial_margin: dict[Id, HaircutSchedule] = Field(min_length=1)
    underlyings: dict[Id, Id] = {}
    netting_gross_weight: Rate = 0.4


def net_initial_margin(gross: float, net_to_gross: float, gross_weight: float = 0.4) -> float:
    """``w gross + (1 - w) NGR gross``: the schedule's netting of a gross initial margin."""
    return gross_weight * gross + (1.0 - gross_weight) * net_to_gross * gross


class BcbsRulebook(Rulebook):
    kind = "bcbs-iosco"
    spec_model = BcbsFile
    spec: BcbsFile
    modes = frozenset({"cross"})  # one netting set per account: the schedule has no isolated or portfolio mode

    @classmethod
    def cross_issues(cls, spec: BcbsFile) -> list[InputIssue]:
        issues = []
        for table, schedules in (("haircuts", spec.haircuts), ("initial_margin", spec.initial_margin)):
            for name, schedule in schedules.items():
                bounds = [b.upto_years for b in schedule.buckets]
                inner = [b for b in bounds[:-1] if b is not None]
                if len(inner) < len(bounds) - 1 or bounds[-1] is not None or inner != sorted(set(inner)):
                    issues.append(InputIssue(f"{table}.{name}.buckets", "bounds must rise, and only the last bucket "
                                             "may (and must) have no upto_years", "buckets_not_ordered"))
        for asset, meta in spec.assets.items():
            found = spec.haircuts.get(meta.asset_class)
            if found is None:
                issues.append(InputIssue(f"assets.{asset}.class", f"{meta.asset_class!r} has no haircut schedule",
                                         "unknown_class"))
                continue
            if len(found.buckets) > 1 and meta.maturity is None:
                issues.append(InputIssue(f"assets.{asset}.maturity", f"is required for class {meta.asset_class!r}",
                                         "missing_field"))
            if found.fx_mismatch and meta.currency is None:
                issues.append(InputIssue(f"assets.{asset}.currency", "is required (the FX add-on applies)",
                                         "missing_field"))
        issues += [InputIssue(f"underlyings.{u}", f"{c!r} has no initial margin schedule", "unknown_class")
                   for u, c in spec.underlyings.items() if c not in spec.initial_margin]
        return issues

    def with_assets(self, assets: Mapping[str, Mapping[str, Any]]) -> BcbsRulebook:
        """A copy that also knows the caller's securities (``{"UST-2030": {"class": "sovereign", ...}}``)."""
        data = self.spec.model_dump(by_alias=True)
        data["assets"] = {**data["assets"], **{k: dict(v) for k, v in assets.items()}}
        try:
            spec = BcbsFile.model_validate(data)
        except ValidationError as error:
            raise InputError(issues_from_pydantic(error)) from None
        issues = self.cross_issues(spec)
        if issues:
            raise InputError(issues)
        return BcbsRulebook(spec, self.path)

    @property
    def collateral_assets(self) -> tuple[str, ...]:
        return tuple(self.spec.assets)

    def haircut(self, asset: str, as_of: Day = None, settlement_currency: str | None = None) -> float:
        """HaircutSchedule haircut plus the FX add-on where the currencies differ."""
        meta = self.spec.assets.get(asset)
        if meta is None:
            raise self.unknown("collateral asset", asset, self.collateral_assets)
        schedule = self.spec.haircuts[meta.asset_class]
        haircut = schedule.rate(self._years(asset, meta.maturity, as_of) if len(schedule.buckets) > 1 else None)
        settlement = settlement_currency or self.spec.settlement_currency
        if schedule.fx_mismatch and meta.currency != settlement:
            haircut += self.spec.fx_mismatch_haircut
        return haircut

    def _years(self, what: str, maturity: date | None, as_of: Day) -> float:
        when = day(as_of)
        if maturity is None or when is None:
            raise InputError([InputIssue(f"rulebook {self.name}", f"{what}: the residual maturity needs a maturity "
                                         "and as_of", "missing_as_of")])
        years = (maturity - when).days / DAYS_PER_YEAR
        if years <= 0:
            raise InputError([InputIssue(f"rulebook {self.name}", f"{what} has matured by {when}", "matured")])
        return years

    def collateral_curve(self, asset: str, price: float, basis: Basis = "maintenance", as_of: Day = None,
                         settlement_currency: str | None = None) -> Curve:
        return Flat(haircut=self.haircut(asset, as_of, settlement_currency))

    def collateral_value(self, asset: str, quantity: float, price: float, basis: Basis = "maintenance",
                         as_of: Day = None, settlement_currency: str | None = None) -> float:
        if not (quantity >= 0 and 0 < price < float("inf")):
            raise InputError([InputIssue(f"rulebook {self.name}", f"{asset}: need quantity >= 0 and a positive "
                                         "price", "bad_amount")])
        return float(self.collateral_curve(asset, price, basis, as_of, settlement_currency).value(quantity * price))

    def gross_initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                             as_of: Day = None) -> float:
        total = 0.0
        for p in positions:
            asset_class = self.spec.underlyings.get(p.underlying)
            if asset_class is None:
                raise self.unknown("underlying", p.underlying, tuple(self.spec.underlyings), "unknown_market")
            schedule = self.spec.initial_margin[asset_class]
            years = None
            if len(schedule.buckets) > 1:
                expiry = date.fromisoformat(p.expiry) if p.expiry else None
                years = self._years(p.instrument, expiry, as_of)
            total += abs(p.quantity) * price_of(self.name, prices, p.underlying) * schedule.rate(years)
        return total

    def net_to_gross(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        """NGR: net over gross replacement cost of the netting set (1 when the gross is 0)."""
        when = check_options(self, positions, as_of)
        costs = [p.quantity * p.value(price_of(self.name, prices, p.underlying), when.isoformat() if when else None)
                 for p in positions]
        gross = sum(max(c, 0.0) for c in costs)
        return 1.0 if gross == 0 else max(sum(costs), 0.0) / gross

    def maintenance_margin(self, positions: Sequence[Position], prices: Mapping[str, float],
                           as_of: Day = None) -> float:
        gross = self.gross_initial_margin(positions, prices, as_of)
        return net_initial_margin(gross, self.net_to_gross(positions, prices, as_of), self.spec.netting_gross_weight)

    def initial_margin(self, positions: Sequence[Position], prices: Mapping[str, float], as_of: Day = None) -> float:
        return self.maintenance_margin(positions, prices, as_of)
