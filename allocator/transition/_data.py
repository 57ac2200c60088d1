"""The numbers of a transition, aligned with :class:`Periods`, in currency and as scaled program values.

Money enters the program divided by the money scale ``S`` (the single-period :class:`~allocator.program._scaling.Scale`:
``max(inventory value, buffered requirements)``), account rows further by each account's own scale, and the
objective by a rate scale ``r``: the program never sees raw dollars. Prices are today's throughout the transition.

The impact law ``k v^1.5`` with ``k = impact * sigma_daily / sqrt(adv)`` (currency) becomes
``k sqrt(S) u^1.5`` for a scaled value ``u = v / S``. ``sigma_daily`` is the annual volatility (the market's if the
asset is in ``[market]``, else the asset's ``volatility``) divided by ``sqrt(365)``: crypto trades every day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.inputs.problem import Problem
from allocator.plan.ledger import account_floor
from allocator.program._numbers import DAYS_PER_YEAR, Numbers
from allocator.program._scaling import Scale
from allocator.transition._curves import chord_table, exact_collateral
from allocator.transition._periods import Periods


@dataclass(frozen=True, eq=False)
class TransitionData:
    numbers: Numbers
    scale: Scale
    rate: float  # objective scale: currency cost per currency of value, per program cost unit
    x0: np.ndarray  # (cells,) value held today, scaled
    weight: np.ndarray  # (P,) (1 - haircut) / account scale, per eligible pair (a curved pair: its slope at 0,
    #                     used by the concentration rows only; its collateral is its credit, _curves.py)
    required: np.ndarray  # (K,) buffered requirement, in units of each account's scale
    floor: np.ndarray  # (K,) each account's floor (plan.ledger.account_floor, the one definition), in units of
    # each account's scale
    room: np.ndarray  # (K,) collateral today above the floor, same units (0 where today's collateral is the floor)
    limit: np.ndarray  # (C,) concentration shares
    income: np.ndarray  # (cells,) annual rate a cell's value earns: the asset's carry at a location that is not an
    #                     account, the account's yield on the asset at an account (0 where it pays none)
    time_weight: np.ndarray  # (T,) years each period-end holding is charged: P/24/365, the last + horizon/365
    move_unearned: np.ndarray  # (M,) income per value moved its destination does not pay in the period it lands:
    #                            income[to] * (delay - lag P)/24/365, the hours of that period before it lands
    buy_unearned: np.ndarray  # (N,) income per value bought its cell does not pay in the period of the trade:
    #                           income[leg cell] * P/24/365 (bought value lands at the period's end)
    move_rate: np.ndarray  # (M,) cost per value moved
    fee_rate: np.ndarray  # (N,) venue fee per value traded
    spread_rate: np.ndarray  # (N,) half spread per value traded
    impact: np.ndarray  # (N,) k of the impact law k v^1.5, currency
    participation: np.ndarray  # (A_t,) value of each traded asset that may trade per period, currency
    capacity: np.ndarray  # (R_c,) value per period, currency
    withdrawal: np.ndarray  # (L_w,) value per period, currency
    liquidation: np.ndarray  # (P_l,) value an account may hold of the pair's asset at the end, currency
    chord_intercept: np.ndarray  # (Pc, CHORDS) each curved pair's chords (_curves.py) in units of its account's
    chord_slope: np.ndarray  # scale: credit <= intercept + slope * value (value scaled by the money scale)

    @property
    def money(self) -> float:
        return self.scale.money

    @property
    def account_money(self) -> np.ndarray:
        return self.scale.account_money()

    def leg_cost(self, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fees, spread, impact) in currency of legs of the given values (currency), elementwise (N, ...)."""
        shape = (-1,) + (1,) * (np.ndim(value) - 1)
        value = np.maximum(value, 0.0)
        return (self.fee_rate.reshape(shape) * value, self.spread_rate.reshape(shape) * value,
                self.impact.reshape(shape) * value ** 1.5)

    @classmethod
    def from_problem(cls, problem: Problem, periods: Periods) -> TransitionData:
        assert problem.schedule is not None
        base = periods.base
        numbers = Numbers.from_problem(problem, base)
        scale = Scale.of(base, numbers)
        S = scale.money
        value = numbers.value(base)
        today = exact_collateral(base, numbers, value[:, None])[:, 0]  # curved pairs on their curve
        account_money = scale.account_money()
        intercept, slope = chord_table(base, numbers, periods.traded_assets)
        curve_scale = scale.accounts[base.pair_account[base.curve_pairs]][:, None]
        assets = problem.assets
        vol = {a.id: a.volatility for a in assets}
        if problem.market is not None:
            vol.update(zip(problem.market.assets, map(float, problem.market.moments[0]), strict=True))
        sigma = np.array([(vol[a.id] or 0.0) / np.sqrt(DAYS_PER_YEAR) for a in assets])
        adv = np.array([a.adv or 0.0 for a in assets])
        coef = np.array([a.impact for a in assets]) * sigma / np.sqrt(np.where(adv > 0, adv, 1.0))
        fee = np.array([problem.venues[v].fee_bps / 1e4 for v in periods.leg_venue])
        spread = np.array([assets[a].spread_bps / 2e4 for a in periods.leg_asset])
        schedule = problem.schedule
        share = schedule.participation * schedule.period_hours / 24.0
        income = np.repeat([a.carry for a in assets], base.n_locations).astype(float)
        income[base.account_cells] = [account.yields.get(a, 0.0) for account in problem.accounts for a in base.assets]
        weight = np.full(periods.periods, schedule.period_hours / 24.0 / DAYS_PER_YEAR)
        weight[-1] += problem.horizon_days / DAYS_PER_YEAR
        unearned = periods.landing_hours() / 24.0 / DAYS_PER_YEAR
        lands = periods.arrival_cell()
        move_unearned = np.where(lands >= 0, income[np.maximum(lands, 0)], 0.0) * unearned
        rates = np.concatenate([np.abs(income) * weight.sum(), numbers.move_rate,
                                fee + spread, [1e-6]])
        routes = problem.routes or []
        floor = account_floor(today, numbers.requirement, numbers.pnl)
        return cls(
            numbers=numbers, scale=scale, rate=float(rates.max()), x0=value / S,
            weight=(1.0 - numbers.haircut) / scale.accounts[base.pair_account],
            required=numbers.required / account_money,
            floor=floor / account_money, room=(today - floor) / account_money,
            limit=numbers.limit, income=income, time_weight=weight, move_unearned=move_unearned,
            buy_unearned=income[periods.leg_cell] * (schedule.period_hours / 24.0 / DAYS_PER_YEAR),
            move_rate=numbers.move_rate,
            fee_rate=fee, spread_rate=spread, impact=coef[periods.leg_asset],
            participation=share * adv[periods.traded_assets],
            capacity=np.array([routes[r].capacity or 0.0 for r in periods.capacity_routes]),
            withdrawal=np.array([schedule.withdrawal_limits[base.locations[loc]]
                                 for loc in periods.withdrawal_locations]),
            liquidation=schedule.participation * (schedule.liquidation_days or 0.0)
            * adv[base.pair_asset[periods.liquidation_pairs]],
            chord_intercept=intercept / (S * curve_scale), chord_slope=slope / curve_scale,
        )
