"""The multi-period program: variables, parameters, constraint families and the objective, built once.

Three variants share every family: ``conic`` (the exact impact law through ``cp.power(., 1.5)``; Clarabel),
``pwl`` (the piecewise-linear outer approximation, optionally with binaries for the move limits; HiGHS) and
``elastic`` (coverage, concentration and risk limits relaxed, the total shortfall minimised; the infeasibility
diagnosis). The end-state risk limits (_risk.py) are in every variant, the parametric cones not in ``pwl``
(plan_transition refuses a parametric limit with move limits).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.transition._costs import PIECES, conic_impact, objective, outer_impact
from allocator.transition._data import TransitionData
from allocator.transition._families import TransitionFamily, families
from allocator.transition._flows import Flows
from allocator.transition._periods import Periods
from allocator.transition._risk import RiskParameters, risk_families
from allocator.transition._variables import TransitionParameters, TransitionVariables


@dataclass(frozen=True, eq=False)
class Binaries:
    move: cp.Variable
    sell: cp.Variable
    buy: cp.Variable
    min_value: cp.Parameter  # scaled minimum move value


@dataclass(frozen=True, eq=False)
class TransitionProgram:
    periods: Periods
    data: TransitionData
    variables: TransitionVariables
    parameters: TransitionParameters
    families: list[TransitionFamily]
    problem: cp.Problem
    binaries: Binaries | None = None
    risk: RiskParameters | None = None

    def family(self, name: str) -> list[TransitionFamily]:
        return [f for f in self.families if f.name == name]


def build(periods: Periods, data: TransitionData, *, coverage_margin: float, limit_margin: float,
          floor_margin: float | None = None, pwl: bool = False, elastic: bool = False, lower: bool = False,
          max_moves: int | None = None, max_moves_per_period: int | None = None,
          min_move_value: float = 0.0, pieces: int = PIECES) -> TransitionProgram:
    """Build a variant (see module docstring); binaries are added when any move limit is given with ``pwl``.
    ``floor_margin`` (default: the coverage margin) is what floors take where today's collateral has room;
    ``pieces`` the tangents per leg and period of ``pwl``'s outer approximation."""
    v = TransitionVariables.of(periods, pwl=pwl, elastic=elastic)
    p = TransitionParameters.of(periods)
    p.set(periods, data, coverage_margin=coverage_margin, limit_margin=limit_margin,
          floor_margin=coverage_margin if floor_margin is None else floor_margin)
    extra: list[cp.Constraint] = []
    if pwl:
        assert v.sell_impact is not None and v.buy_impact is not None
        impact: tuple[cp.Expression, cp.Expression] = (v.sell_impact, v.buy_impact)
        extra += outer_impact(periods, data, p, v.sell, v.sell_impact, pieces)
        extra += outer_impact(periods, data, p, v.buy, v.buy_impact, pieces)
    else:
        impact = (conic_impact(p, v.sell), conic_impact(p, v.buy))
    flows = Flows.of(periods, v, p)
    rows = families(periods, v, p, flows, impact, lower=lower)
    risk = RiskParameters.of(periods, data, coverage_margin)
    rows += risk_families(periods, v, risk, flows, cones=not pwl)
    binaries = None
    integer = pwl and (max_moves is not None or max_moves_per_period is not None or min_move_value > 0)
    if integer:
        binaries, more = _binaries(periods, v, p, max_moves, max_moves_per_period, min_move_value / data.money)
        extra += more
    if elastic:
        assert v.short is not None and v.excess is not None
        # both in money: a shortfall and an excess (account units) weighed by their account's scale, as the engine
        # does, so the diagnosis neither prefers leaving an account short nor breaking a limit
        base = periods.base
        weight = np.zeros(v.excess.shape[0])
        weight[:len(base.limit_pair)] = data.scale.accounts[base.pair_account[base.limit_pair]]
        goal = cp.Minimize(data.scale.accounts @ v.short + weight @ v.excess)
    else:
        goal = cp.Minimize(objective(periods, data, v, p, flows.hold))
    # DPP (tests/test_transition_program.py checks every variant): asserting it here took 40 ms per build at
    # 100 x 10 x 48, where the linear path builds two programs and compiles neither with cvxpy
    problem = cp.Problem(goal, [f.constraint for f in rows] + extra)
    return TransitionProgram(periods, data, v, p, rows, problem, binaries, risk)


def _binaries(periods: Periods, v: TransitionVariables, p: TransitionParameters, max_moves: int | None,
              per_period: int | None, min_value: float) -> tuple[Binaries, list[cp.Constraint]]:
    """A binary per move and leg per period: on iff it carries value, which is then at least ``min_value``."""
    z = Binaries(move=cp.Variable(v.move.shape, boolean=True, name="move_on"),
                 sell=cp.Variable(v.sell.shape, boolean=True, name="sell_on"),
                 buy=cp.Variable(v.buy.shape, boolean=True, name="buy_on"),
                 min_value=cp.Parameter(nonneg=True, name="min_value", value=min_value))
    out = [v.move <= cp.multiply(p.move_upper, z.move), v.sell <= cp.multiply(p.sell_upper, z.sell),
           v.buy <= cp.multiply(p.buy_upper, z.buy)]
    if min_value > 0:
        out += [v.move >= z.min_value * z.move, v.sell >= z.min_value * z.sell, v.buy >= z.min_value * z.buy]
    counted = cp.sum(z.move, axis=0) + cp.sum(z.sell, axis=0) + cp.sum(z.buy, axis=0)
    if per_period is not None:
        out.append(counted <= per_period)
    if max_moves is not None:
        out.append(cp.sum(counted) <= max_moves)
    # unused slots (padding, closed windows) stay off
    out += [z.move <= np.ceil(np.asarray(p.move_upper.value)), z.sell <= np.ceil(np.asarray(p.sell_upper.value)),
            z.buy <= np.ceil(np.asarray(p.buy_upper.value))]
    return z, out
