"""The transition program's variables and parameters (scaled values), created once per structure.

TransitionVariables, all in units of the money scale: ``hold`` (live cells, T) holdings at every period end (the other
cells never change: Flows.hold adds them as today's holdings); ``move``
(move slots, T) value departing along each move in each period; ``sell`` and ``buy`` (leg slots, T) value of each
trade leg. ``sell_impact``/``buy_impact`` are the epigraph variables of the impact term in the piecewise-linear
(MILP) variant; ``short``/``excess`` the elastic variables of the infeasibility diagnosis.

Every number is a :class:`cvxpy.Parameter` (DPP): a re-solve (the heuristic's fixing steps) only sets values.
Upper and lower bounds per move and leg carry the departure window (a move that could not arrive in time is
bounded by zero) and, for the heuristic, the fixed support and the minimum move value.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.program._credit import CHORDS
from allocator.transition._data import TransitionData
from allocator.transition._periods import Periods

#: Upper bound of any scaled value: nothing is worth more than the whole book (value only shrinks in trades).
BOUND = 1.0


@dataclass(frozen=True, eq=False)
class TransitionVariables:
    hold: cp.Variable
    start: cp.Variable  # (cells,) today's holdings (fixed by a row, so that weight * holdings stays DPP)
    move: cp.Variable
    sell: cp.Variable
    buy: cp.Variable
    end: cp.Variable  # (K,) end-state collateral (an auxiliary, so that limit * collateral stays DPP)
    sell_impact: cp.Variable | None = None
    buy_impact: cp.Variable | None = None
    short: cp.Variable | None = None
    excess: cp.Variable | None = None
    credit: cp.Variable | None = None  # (Pc, 2T + 1) credit of each curved pair (_curves.py), account units: after
    #                                    the departures (columns 0..T-1), after the trades (T..2T-1), at the end (2T)

    @classmethod
    def of(cls, periods: Periods, *, pwl: bool = False, elastic: bool = False) -> TransitionVariables:
        base, T = periods.base, periods.periods
        legs = (periods.n_leg_slots, T)
        return cls(
            hold=cp.Variable((max(len(periods.live_cells), 1), T), name="hold"),
            start=cp.Variable(base.n_cells, name="start"),
            move=cp.Variable((base.n_move_slots, T), nonneg=True, name="move"),
            sell=cp.Variable(legs, nonneg=True, name="sell"),
            buy=cp.Variable(legs, nonneg=True, name="buy"),
            end=cp.Variable(len(base.accounts), name="end_collateral"),
            sell_impact=cp.Variable(legs, nonneg=True, name="sell_impact") if pwl else None,
            buy_impact=cp.Variable(legs, nonneg=True, name="buy_impact") if pwl else None,
            short=cp.Variable(len(base.accounts), nonneg=True, name="short") if elastic else None,
            excess=cp.Variable(max(len(base.limit_pair), 1), nonneg=True, name="excess") if elastic else None,
            credit=cp.Variable((len(base.curve_pairs), 2 * T + 1), name="credit") if len(base.curve_pairs) else None,
        )


@dataclass(frozen=True, eq=False)
class TransitionParameters:
    x0: cp.Parameter  # (cells,)
    weight: cp.Parameter  # (P,)
    required: cp.Parameter  # (K,) with the solver's margin
    floor: cp.Parameter  # (K,)
    limit: cp.Parameter  # (C,) with the solver's margin
    income: cp.Parameter  # (cells,) annual income rate of each cell over the rate scale (_costs.py)
    move_rate: cp.Parameter  # (M,)
    move_unearned: cp.Parameter  # (M,) income a move does not earn in the period it lands, over the rate scale
    buy_unearned: cp.Parameter  # (N,) income a purchase does not earn in its period, over the rate scale
    trade_rate: cp.Parameter  # (N,) fee + half spread
    impact: cp.Parameter  # (N,) scaled coefficient of u^1.5 (program value units)
    participation: cp.Parameter  # (A_t,)
    capacity: cp.Parameter  # (R_c,)
    withdrawal: cp.Parameter  # (L_w,)
    liquidation: cp.Parameter  # (P_l,)
    move_upper: cp.Parameter  # (M, T)
    sell_upper: cp.Parameter  # (N, T)
    buy_upper: cp.Parameter
    move_lower: cp.Parameter
    sell_lower: cp.Parameter
    buy_lower: cp.Parameter
    chord_intercept: cp.Parameter  # (max(Pc, 1) * CHORDS,) chord-major (row j * Pc + p), curves.chord_rows
    chord_slope: cp.Parameter

    @classmethod
    def of(cls, periods: Periods) -> TransitionParameters:
        base, T = periods.base, periods.periods

        def param(shape: int | tuple[int, ...], name: str) -> cp.Parameter:
            return cp.Parameter(shape, nonneg=True, name=name)

        moves, legs = (base.n_move_slots, T), (periods.n_leg_slots, T)
        return cls(
            x0=param(base.n_cells, "x0"), weight=param(max(len(base.pair_asset), 1), "weight"),
            required=param(len(base.accounts), "required"), floor=param(len(base.accounts), "floor"),
            limit=param(max(len(base.limit_pair), 1), "limit"),
            income=cp.Parameter(base.n_cells, name="income"),
            move_rate=param(base.n_move_slots, "move_rate"),
            move_unearned=cp.Parameter(base.n_move_slots, name="move_unearned"),
            buy_unearned=cp.Parameter(periods.n_leg_slots, name="buy_unearned"),
            trade_rate=param(periods.n_leg_slots, "trade_rate"),
            impact=param(periods.n_leg_slots, "impact"),
            participation=param(max(len(periods.traded_assets), 1), "participation"),
            capacity=param(max(len(periods.capacity_routes), 1), "capacity"),
            withdrawal=param(max(len(periods.withdrawal_locations), 1), "withdrawal"),
            liquidation=param(max(len(periods.liquidation_pairs), 1), "liquidation"),
            move_upper=param(moves, "move_upper"), sell_upper=param(legs, "sell_upper"),
            buy_upper=param(legs, "buy_upper"), move_lower=param(moves, "move_lower"),
            sell_lower=param(legs, "sell_lower"), buy_lower=param(legs, "buy_lower"),
            chord_intercept=cp.Parameter(max(len(base.curve_pairs), 1) * CHORDS, name="chord_intercept"),
            chord_slope=param(max(len(base.curve_pairs), 1) * CHORDS, "chord_slope"),
        )

    def set(self, periods: Periods, data: TransitionData, *, coverage_margin: float, limit_margin: float,
            floor_margin: float) -> None:
        """Set every value from the data; bounds open every move in its departure window and every leg."""
        base, T = periods.base, periods.periods

        def padded(values: np.ndarray, length: int) -> np.ndarray:
            out = np.zeros(length)
            out[:len(values)] = values
            return out

        self.x0.value = data.x0
        self.weight.value = padded(data.weight, self.weight.shape[0])
        self.required.value = np.where(data.required > 0, data.required + coverage_margin, 0.0)
        # a floor takes the margin where today's collateral leaves room for it (never above today's collateral,
        # so doing nothing stays feasible); an account at or below its requirement keeps its exact floor
        self.floor.value = data.floor + np.minimum(floor_margin, data.room)
        self.limit.value = padded(np.maximum(data.limit - limit_margin, 0.0), self.limit.shape[0])
        self.income.value = data.income / data.rate
        self.move_rate.value = padded(data.move_rate / data.rate, base.n_move_slots)
        self.move_unearned.value = padded(data.move_unearned / data.rate, base.n_move_slots)
        self.buy_unearned.value = padded(data.buy_unearned / data.rate, periods.n_leg_slots)
        self.trade_rate.value = padded(data.fee_rate + data.spread_rate, periods.n_leg_slots)
        self.impact.value = padded(data.impact * np.sqrt(data.money), periods.n_leg_slots)
        self.participation.value = padded(data.participation / data.money, self.participation.shape[0])
        self.capacity.value = padded(data.capacity / data.money, self.capacity.shape[0])
        self.withdrawal.value = padded(data.withdrawal / data.money, self.withdrawal.shape[0])
        self.liquidation.value = padded(data.liquidation / data.money, self.liquidation.shape[0])
        window = np.zeros((base.n_move_slots, T))
        window[:periods.n_moves] = np.where(periods.open, BOUND, 0.0)
        legs = np.zeros((periods.n_leg_slots, T))
        legs[:periods.n_legs] = BOUND
        self.move_upper.value = window
        self.sell_upper.value, self.buy_upper.value = legs, legs.copy()
        self.move_lower.value = np.zeros_like(window)
        self.sell_lower.value, self.buy_lower.value = np.zeros_like(legs), np.zeros_like(legs)
        self.chord_intercept.value = padded(data.chord_intercept.T.ravel(), self.chord_intercept.shape[0])
        self.chord_slope.value = padded(data.chord_slope.T.ravel(), self.chord_slope.shape[0])
