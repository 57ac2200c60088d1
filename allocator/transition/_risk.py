"""The problem's risk limits at the end state of the transition, with the single-period program's data.

For every account with ``risk`` settings (docs/risk.md), on the holdings at the end of the last period:

* stress (linear): after each named scenario's returns ``r_s`` the collateral plus the positions' P&L still
  covers the requirement, ``sum_a (1 - h) (1 + r_sa) x[(a,k),T] + P&L_sk >= R_k`` (label ``stress[cex,crash]``);
  a pair on a collateral curve counts ``min(1, 1 + r_sa)`` times its end credit (_curves.py), never more than the
  curve gives for the moved value, as in the single-period program;
* parametric (a second-order cone; conic programs only): ``collateral_k - z sqrt(tau/365) ||F' (v_k + e_k)||
  >= R_k`` with ``v_k`` the value at the account of each market asset and ``e_k`` its positions' exposure, written
  ``||F' (v_k + e_k / S)|| <= i_k (end_k - R_k / (S a_k))`` with ``i_k = a_k / (z sqrt(tau/365))`` (label
  ``risk[cex]``).

Rows are in the account's own scale ``a_k`` like coverage, with the same margin; the elastic program's shortfall
relaxes them too. CVaR limits and the portfolio limit are not applied: plan_transition refuses problems with them
(and the parametric limit together with move limits, whose MILP and heuristic are linear), located. Intermediate
periods are not risk-limited (the floors protect them). _verify.py checks both families in numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from allocator.errors import InputIssue
from allocator.inputs.problem import Problem
from allocator.program._parameters import MIN_RISK_SCALE
from allocator.program._scenarios import stressed_collateral
from allocator.transition._data import TransitionData
from allocator.transition._families import TransitionFamily
from allocator.transition._flows import Flows
from allocator.transition._periods import Periods
from allocator.transition._variables import TransitionVariables


@dataclass(frozen=True, eq=False)
class RiskParameters:
    """Per risk account ``j`` (layout.risk_accounts): stress weights and floors; per cone account: the cone."""

    stress_weight: list[cp.Parameter]  # (S, P_k) (1 - h) (1 + r) / a_k per pair of the account
    stress_floor: list[cp.Parameter]  # (S,) (R_k - P&L_s) / (S a_k) + margin
    factor: cp.Parameter | None  # (m, n) F'
    offset: list[cp.Parameter]  # per cone account: (m,) F' e_k / S
    inverse: cp.Parameter | None  # (K_c,) a_k / (z sqrt(tau/365))
    head: cp.Parameter | None  # (K_c,) inverse * (R_k / (S a_k) + margin)
    stress_credit: list[cp.Parameter | None]  # per risk account: (S, Pc_k) min(1, 1 + r) on its curved pairs' credit

    @classmethod
    def of(cls, periods: Periods, data: TransitionData, margin: float) -> RiskParameters:
        base, numbers, S = periods.base, data.numbers, data.money
        size = data.scale.accounts
        scenarios = len(base.stress)
        weights, floors = [], []
        credits: list[cp.Parameter | None] = []
        flat = np.ones(len(base.pair_asset))
        flat[base.curve_pairs] = 0.0  # a curved pair: its credit, below
        for k in base.risk_accounts if scenarios else []:
            mine = base.pair_account == k
            weight = cp.Parameter((scenarios, int(mine.sum())), name=f"stress_weight_{k}")
            weight.value = (flat[mine] * (1.0 - numbers.haircut[mine]))[None, :] \
                * (1.0 + numbers.stress_returns[:, base.pair_asset[mine]]) / size[k]
            curved = base.curve_rows(k)
            credit = cp.Parameter((scenarios, len(curved)), name=f"stress_credit_{k}") if len(curved) else None
            if credit is not None:  # f((1 + r) v) >= min(1, 1 + r) f(v) for a concave f with f(0) = 0
                credit.value = np.minimum(1.0 + numbers.stress_returns[:, base.pair_asset[base.curve_pairs[curved]]],
                                          1.0)
            credits.append(credit)
            floor = cp.Parameter(scenarios, name=f"stress_floor_{k}")
            floor.value = (numbers.net_requirement[k] - numbers.stress_pnl[:, k]) / (S * size[k]) + margin
            weights.append(weight)
            floors.append(floor)
        cones = cone_accounts(periods)
        if not len(cones):
            return cls(weights, floors, None, [], None, None, credits)
        factor = cp.Parameter(numbers.factor.T.shape, name="risk_factor")
        factor.value = numbers.factor.T
        market = base.market_assets
        offset = []
        for k in cones:
            parameter = cp.Parameter(factor.shape[0], name=f"risk_offset_{k}")
            parameter.value = numbers.factor.T @ numbers.exposure[k, market] / S
            offset.append(parameter)
        inverse = cp.Parameter(len(cones), nonneg=True, name="risk_inverse")
        inverse.value = size[cones] / np.maximum(numbers.risk_scale[cones], MIN_RISK_SCALE)
        head = cp.Parameter(len(cones), nonneg=True, name="risk_head")
        head.value = inverse.value * np.maximum(numbers.net_requirement[cones] / (S * size[cones]) + margin, 0.0)
        return cls(weights, floors, factor, offset, inverse, head, credits)


def cone_accounts(periods: Periods) -> np.ndarray:
    """Accounts with a parametric limit (``risk.parametric`` and a ``[market]``)."""
    base = periods.base
    if not len(base.market_assets):
        return np.zeros(0, dtype=int)
    return np.asarray(base.risk_accounts[base.cone], dtype=int)


def risk_families(periods: Periods, v: TransitionVariables, r: RiskParameters, f: Flows, *,
                  cones: bool) -> list[TransitionFamily]:
    """The stress rows and (``cones``) the parametric cones at the end state; relaxed by ``v.short`` if any."""
    base, T = periods.base, periods.periods
    end = f.hold[:, T - 1]
    out: list[TransitionFamily] = []
    def label(family: str, k: int, scenario: bool) -> Callable[[int, int], str]:
        name = base.accounts[k]
        return lambda row, t: f"{family}[{name},{base.stress[row]}]" if scenario else f"{family}[{name}]"

    stressed: list[int] = [int(k) for k in base.risk_accounts] if len(r.stress_weight) else []
    for j, k in enumerate(stressed):
        mine = base.pair_cell[base.pair_account == k]
        value = r.stress_weight[j] @ end[mine] + (0 if v.short is None else v.short[k])
        credit = r.stress_credit[j]
        if credit is not None and v.credit is not None:  # curved pairs at their end credit (_curves.py)
            value = value + credit @ v.credit[base.curve_rows(k), 2 * T]
        out.append(TransitionFamily("stress", value >= r.stress_floor[j], label("stress", k, True)))
    if cones and r.factor is not None:
        assert r.inverse is not None and r.head is not None
        for i, k in enumerate(cone_accounts(periods)):
            collateral = v.end[k] + (0 if v.short is None else v.short[k])
            bound = r.inverse[i] * collateral - r.head[i]
            rows = r.factor @ end[base.market_cells(k)] + r.offset[i]
            out.append(TransitionFamily("risk", cp.SOC(bound, rows), label("risk", int(k), False)))
    return out


def shortfalls(periods: Periods, data: TransitionData, value: np.ndarray, collateral: np.ndarray
               ) -> tuple[np.ndarray, list[tuple[str, int, float]]]:
    """The end state's risk limits in numpy, in currency: ``value`` (cells,) the holdings at the end, ``collateral``
    (K,) each account's. Returns each account's shortfall under its risk limits (K,; negative: room) and every
    (label, account, shortfall) row, e.g. ``("stress[cex,crash]", 0, 1.2e5)``."""
    base, numbers = periods.base, data.numbers
    short = np.full(len(base.accounts), -np.inf)
    rows: list[tuple[str, int, float]] = []
    if len(base.stress) and len(base.risk_accounts):
        stressed = stressed_collateral(base, numbers, value)
        for k in base.risk_accounts:
            for s in range(len(base.stress)):
                gap = float(numbers.net_requirement[k] - stressed[s, k])
                rows.append((f"stress[{base.accounts[k]},{base.stress[s]}]", int(k), gap))
                short[k] = max(short[k], gap)
    market = base.market_assets
    for k in cone_accounts(periods):
        sigma = float(np.linalg.norm(numbers.factor.T @ (value[base.market_cells(k)] + numbers.exposure[k, market])))
        risk = numbers.risk_z[k] * numbers.risk_root_horizon[k] * sigma
        gap = float(numbers.net_requirement[k] + risk - collateral[k])
        rows.append((f"risk[{base.accounts[k]}]", int(k), gap))
        short[k] = max(short[k], gap)
    return short, rows


def violations(periods: Periods, data: TransitionData, value: np.ndarray, collateral: np.ndarray,
               tolerance: float) -> list[str]:
    """The end state's risk limits checked in numpy: each row short by more than ``tolerance`` (currency)."""
    _, rows = shortfalls(periods, data, value, collateral)
    return [f"{label}: short by {gap:,.6g} of the requirement at the end" for label, _, gap in rows
            if gap > tolerance]


def has_limits(periods: Periods) -> bool:
    """Whether the program has end-state risk rows (stress scenarios of risk accounts, or parametric cones)."""
    base = periods.base
    return bool(len(base.risk_accounts) and len(base.stress)) or bool(len(cone_accounts(periods)))


def unapplied(problem: Problem) -> list[InputIssue]:
    """The risk limits the transition cannot apply at its end state (transition/_risk.py), located: CVaR limits,
    the portfolio limit, and a parametric limit together with move limits (the MILP and the heuristic are
    linear). Stress scenarios and the parametric limit alone are applied."""
    out = []
    market = problem.market is not None
    limited = problem.schedule is not None and problem.schedule.has_move_limits
    for k, account in enumerate(problem.accounts):
        risk = account.risk
        if risk is None:
            continue
        if market and risk.cvar_confidence is not None:
            out.append(InputIssue(f"accounts[{k}].risk.cvar_confidence", "the transition does not apply CVaR "
                                  "limits (it applies stress scenarios and the parametric limit at the end state); "
                                  "remove cvar_confidence, or check the end state with `optimize`",
                                  "not_supported"))
        if market and risk.parametric and limited:
            out.append(InputIssue(f"accounts[{k}].risk.parametric", "a parametric risk limit (a cone) cannot be "
                                  "met together with max_moves / max_moves_per_period / min_move_value, whose "
                                  "MILP and heuristic are linear; set parametric = false (stress scenarios stay "
                                  "applied) or drop the move limits", "not_supported"))
    if problem.portfolio is not None:
        out.append(InputIssue("portfolio", "the transition does not apply the portfolio-wide limit; remove "
                              "[portfolio], or check the end state with `optimize`", "not_supported"))
    return out
