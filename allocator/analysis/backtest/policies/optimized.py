"""``optimized`` and ``optimized_predictive``: the allocator re-solving one compiled program.

The policy compiles the problem's program once (``allocator.Allocator``) and, when it acts, re-solves it with
the day's numbers: prices, holdings, requirements, haircuts, and a buffer of ``target - 1`` for every account, so
the optimum brings every account to the band's target at the least income forgone and transfer cost, in a safe
order (the single-period plan). Only parameter values change; ``engine.compilations`` never grows after the first
solve (a test checks it).

It acts on the first day (setting up its allocation), every ``every_days`` days when given (a schedule), and
whenever an account's coverage leaves the band: below it, or above it while holding collateral that costs income
there (carry above the account's yield; above the band at no cost, releasing would gain nothing but transfer
costs, and the optimum itself keeps it). Coverage is read in the policy's own view of haircuts:

* ``haircuts="venue"``: the venues' (the default of ``optimized``);
* ``"trailing"``: reactive, ``max(venue, volatility haircut from the trailing volatility)``;
* ``"ewma"`` or ``"garch"``: predictive (the default of ``optimized_predictive``: GARCH(1,1)-t), the same with a
  forecast of tomorrow's volatility from the prices up to today (``venues.forecast``), with a stressed floor.

The volatility haircut is ``clip(z sigma sqrt(horizon / 365), floor, cap)`` (the volatility model's formula) with
``confidence`` 0.99, ``horizon_days`` 10 (BCBS-IOSCO's margin period of risk for uncleared margin; the venues'
2 days proved too short for March 2020, docs/backtest.md), ``floor_share`` 0.25 of the haircut at the worst past
year's volatility (EMIR's 25% weight on stressed observations) and ``cap`` 0.95. The view's haircuts also go into
the solve, so the policy posts more where it expects more volatility. Assets on a collateral curve keep the venue's
curve.

When the target cannot be met (infeasible: the inventory lacks what some account accepts, a USDC-only venue after
the treasury's USDC is spent), the policy buys what the elastic diagnosis says each account is short (its
settlement asset, selling free holdings with the lowest carry first, as the waterfall does; 1% more) and solves
again on the same compiled program; failing that (or on a solver failure) it acts as the waterfall would, and
``fallbacks`` counts such days.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.analysis.backtest.moves import NONE, Moves
from allocator.analysis.backtest.policies.band import Band, Bands
from allocator.analysis.backtest.policies.fill import buy_for
from allocator.analysis.backtest.policies.waterfall import Waterfall
from allocator.analysis.backtest.state import DayState
from allocator.errors import InfeasibleError, InputError, InputIssue, SolverError
from allocator.inputs.problem import Problem
from allocator.plan.transfers import Transfer
from allocator.results.result import Result
from allocator.solve._engine import Allocator
from allocator.venues.haircut_models import VolatilityHaircut

VIEWS = ("venue", "trailing", "ewma", "garch")
#: What the policy buys beyond a diagnosed shortfall (haircuts and trading costs are estimated at the margin).
BUY_MARGIN = 0.01
#: Holdings worth less than this share of the inventory are floating-point residue of earlier moves (a problem file
#: refuses amounts below 1e-12 of its money scale): the day's problem leaves them out.
RESIDUE = 1e-10


class Optimized:
    """The compiled program re-solved when an account leaves the band or on a schedule (module docstring)."""

    name = "optimized"
    default_view = "venue"

    def __init__(self, band: Band | str | None = None, every_days: int | None = None, haircuts: str | None = None,
                 solver: str | None = None, label: str | None = None, bands: dict[str, Band | str] | None = None,
                 confidence: float = 0.99, horizon_days: float = 10.0, floor_share: float = 0.25, cap: float = 0.95,
                 window_days: int = 90, half_life_days: float = 30.0, refit_days: int = 21) -> None:
        self.band = Bands(band, bands)
        self.view = haircuts or self.default_view
        if self.view not in VIEWS:
            raise InputError([InputIssue("haircuts", f"{self.view!r} is not one of {', '.join(VIEWS)}",
                                         "bad_parameter")])
        if every_days is not None and (isinstance(every_days, bool) or not isinstance(every_days, int)
                                       or every_days < 0):
            raise InputError([InputIssue("every_days", f"{every_days!r} is not a whole number of days >= 0",
                                         "bad_parameter")])
        self.every_days = every_days or None
        self.solver = solver
        self.name = label or type(self).name
        self.forecast = {"confidence": confidence, "horizon_days": horizon_days, "floor_share": floor_share,
                         "cap": cap, "window_days": window_days}
        if self.view == "ewma":
            self.forecast["half_life_days"] = half_life_days
        if self.view == "garch":
            self.forecast["refit_days"] = refit_days
        self.engine: Allocator | None = None
        self.fallbacks = 0
        self.solves = 0

    # -- the view -----------------------------------------------------------------------------------------------

    def haircuts(self, state: DayState) -> dict[int, dict[str, float]]:
        """Per account, the haircuts of the policy's view (empty for the venues' own)."""
        if self.view == "venue":
            return {}
        model = state.forecast_haircuts(self.view, **self.forecast)  # type: ignore[arg-type]
        out = {}
        for account in state.accounts:
            terms = account.terms
            out[account.index] = {a: max(h, model[a]) for a, h in terms.eligible.items()
                                  if a not in terms.curves and np.isfinite(model.get(a, np.nan))}
        return out

    def triggered(self, state: DayState, view: dict[int, dict[str, float]]) -> list[str]:
        """Why the policy acts today (empty: it does not)."""
        if state.first:
            return ["first day"]
        if self.every_days and (state.days_since_action is None or state.days_since_action >= self.every_days):
            return [f"schedule ({self.every_days} days)"]
        out = []
        for account in state.accounts:
            coverage = state.coverage(account.index, view.get(account.index))
            if account.requirement <= 0:
                continue
            band = self.band[account.id]
            if coverage < band.low or (coverage > band.high and costly(state, account.index)):
                out.append(f"{account.id} at {coverage:.3f}")
        return out

    # -- the decision -------------------------------------------------------------------------------------------

    def decide(self, state: DayState) -> Moves:
        view = self.haircuts(state)
        why = self.triggered(state, view)
        if not why:
            return NONE
        bands = [self.band[a.id] for a in state.accounts]
        aims = [b.aim for b in bands]
        draft = state.draft()
        try:
            try:
                result = self.solve(day_problem(state, aims, view))
            except InfeasibleError as error:  # buy what the diagnosis says is missing, and solve again
                for account, short in error.diagnosis.by_account().items():
                    k = state.problem.account_ids.index(account)
                    buy_for(state, draft, k, short * (1.0 + BUY_MARGIN))
                result = self.solve(day_problem(state, aims, view, draft.quantity))
                why.append(f"bought {', '.join(sorted(error.diagnosis.by_account()))}'s shortfall")
        except InfeasibleError:
            return self._fallback(state, why, "infeasible even after buying the shortfall")
        except SolverError as error:
            return self._fallback(state, why, f"solver failed ({error})")
        steps = tuple(Transfer(s.asset, s.from_, s.to, s.quantity) for s in result.plan)
        return Moves((*draft.steps, *steps), "; ".join(why))

    def solve(self, problem: Problem) -> Result:
        """Solve ``problem`` on the compiled program (compiled at the first call)."""
        if self.engine is None:
            self.engine = Allocator(problem, self.solver)
            self.solves += 1
            return self.engine.solve()
        self.solves += 1
        return self.engine.solve(problem)

    def _fallback(self, state: DayState, why: list[str], reason: str) -> Moves:
        self.fallbacks += 1
        moves = Waterfall(self.band.default, dict(self.band.overrides)).decide(state)
        return Moves(moves.steps, f"{'; '.join(why)}; {reason}: acted as the waterfall")


class OptimizedPredictive(Optimized):
    """``optimized`` reading coverage and solving with predictive haircuts (GARCH(1,1)-t by default)."""

    name = "optimized_predictive"
    default_view = "garch"


def costly(state: DayState, k: int) -> bool:
    """Whether account ``k`` holds collateral that costs income to keep there (carry above the account's yield):
    only then is releasing its excess worth a solve. An account above the band whose collateral costs nothing to
    hold (Aave paying the asset's own rate) stays as it is."""
    where = state.locations.index(state.accounts[k].location)
    account = state.problem.accounts[k]
    return any(state.quantity[i, where] > 0 and asset.carry - account.yields.get(asset.id, 0.0) > 0
               for i, asset in enumerate(state.problem.assets))


def day_problem(state: DayState, aims: list[float], view: dict[int, dict[str, float]],
                quantity: np.ndarray | None = None) -> Problem:
    """The problem of the day, of the same structure as the first day's: the day's prices and holdings (every
    location in the problem's order; ``quantity`` instead of the state's, e.g. after buying), requirements given in
    the file as the venues see them today, account ``k``'s buffer ``aims[k] - 1``, volatility-model haircuts as
    today's flat haircuts, and ``view``'s haircuts over the venues' where given."""
    base = state.problem
    data: dict[str, Any] = base.model_dump(by_alias=True, exclude_none=True)
    data["assets"] = [{**asset, "price": float(p)} for asset, p in zip(data["assets"], state.price, strict=True)]
    holdings = []
    units = state.quantity if quantity is None else quantity
    dust = RESIDUE * float(state.price @ units.sum(axis=1))
    for j, location in enumerate(state.locations):
        cells = [(a, float(q)) for a, p, q in zip(state.assets, state.price, units[:, j], strict=True)
                 if q * p > dust]
        holdings += [{"asset": a, "location": location, "quantity": q} for a, q in cells] or [
            {"asset": state.assets[0], "location": location, "quantity": 0.0}]  # keeps the locations' order
    data["holdings"] = holdings
    accounts = []
    for k, account in enumerate(data["accounts"]):
        terms = state.accounts[k].terms
        models = {a: m for a, m in account.get("haircut_models", {}).items() if m.get("model") != "volatility"}
        haircuts = {**account.get("haircuts", {}),
                    **{a: terms.eligible[a] for a, m in base.accounts[k].haircut_models.items()
                       if isinstance(m, VolatilityHaircut)},
                    **view.get(k, {})}
        changed = {**account, "buffer": max(aims[k] - 1.0, 0.0), "haircut_models": models, "haircuts": haircuts}
        if account.get("requirement") is not None:
            changed["requirement"] = float(state.accounts[k].requirement)
        accounts.append(changed)
    data["accounts"] = accounts
    data["positions"] = [{**{key: value for key, value in p.items() if key != "reference_price"},
                          "quantity": held.quantity} for p, held in zip(data.get("positions", []), state.positions,
                                                                         strict=True)]
    return Problem.model_validate(data)
