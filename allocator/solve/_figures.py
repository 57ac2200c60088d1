"""A verified allocation's result: targets, per-account and portfolio figures in currency (also for the diagnosis)."""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.inputs.problem import Problem
from allocator.plan.ordered import OrderedPlan
from allocator.program._allocation import Allocation
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.results.result import (
    AccountCoverage,
    Diagnostics,
    Objective,
    PortfolioCoverage,
    Result,
    Shortfall,
    Targets,
)
from allocator.solve._hedge_report import delta_rows, hedge_positions, hedge_trades
from allocator.solve._liquidation import liquidation_moves
from allocator.solve._sensitivity import Sensitivity


def shortfall(layout: Layout, numbers: Numbers, allocation: Allocation) -> np.ndarray:
    """(K,) collateral each account lacks: for coverage, and for its parametric and stress limits if it has them
    (every one net of the positions' P&L since their last mark, as the program's rows are)."""
    collateral = allocation.collateral(layout, numbers)
    short = numbers.required - collateral
    sigma, stressed = allocation.risk(layout, numbers)
    requirement = numbers.net_requirement
    risky = ~np.isnan(sigma)
    short[risky] = np.maximum(short[risky], requirement[risky] + numbers.risk_z[risky] * sigma[risky]
                              - collateral[risky])
    if len(layout.stress):
        worst = np.nanmin(np.where(np.isnan(stressed), np.inf, stressed), axis=0)
        short = np.maximum(short, np.where(np.isfinite(worst), requirement - worst, -np.inf))
    cvar = allocation.cvar(layout, numbers)
    tail = ~np.isnan(cvar)
    short[tail] = np.maximum(short[tail], requirement[tail] + cvar[tail] - collateral[tail])
    return short


def shortfalls(layout: Layout, hedged: Numbers, allocation: Allocation, floor: float) -> list[Shortfall]:
    """The elastic optimum's shortfall rows above ``floor``: each account's (numbers ``hedged`` with its hedges), then
    each delta band no hedge within its size can meet (docs/hedging.md)."""
    rows = [Shortfall(account=k, amount=float(short)) for k, short in
            zip(layout.accounts, shortfall(layout, hedged, allocation), strict=True) if short > floor]
    if len(layout.delta_owner):
        beyond = np.abs(allocation.deltas(layout, hedged)) - hedged.delta_limit
        rows += [Shortfall(account=layout.accounts[owner] if owner >= 0 else "treasury", amount=float(beyond[d]),
                           constraint=layout.delta_label(d))
                 for d in map(int, np.flatnonzero(beyond > floor)) for owner in [int(layout.delta_owner[d])]]
    return rows


def portfolio(layout: Layout, numbers: Numbers, allocation: Allocation,
               collateral: np.ndarray) -> PortfolioCoverage | None:
    if not layout.portfolio:
        return None
    sigma, stressed = allocation.portfolio(layout, numbers)
    requirement, total = float(numbers.net_requirement.sum()), float(collateral.sum())
    worst = int(np.argmin(stressed)) if layout.portfolio_stress else None
    return PortfolioCoverage(requirement=float(numbers.venue_requirement.sum()), pnl=float(numbers.pnl.sum()),
                             collateral=total, sigma=sigma,
                             risk_excess=total - numbers.portfolio_z * sigma - requirement,
                             worst_scenario=layout.stress[worst] if worst is not None else None,
                             worst_scenario_excess=float(stressed[worst] - requirement) if worst is not None else None)


def risk_fields(layout: Layout, numbers: Numbers, account: int, collateral: float, sigma: np.ndarray,
                 stressed: np.ndarray, cvar: np.ndarray) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    requirement = float(numbers.net_requirement[account])
    if account in layout.cvar_accounts:
        fields["cvar"] = float(cvar[account])
    if not np.isnan(sigma[account]):
        fields.update(sigma=float(sigma[account]),
                      risk_excess=float(collateral - numbers.risk_z[account] * sigma[account] - requirement))
    if len(layout.stress) and not np.isnan(stressed[0, account]):
        worst = int(np.argmin(stressed[:, account]))
        fields.update(worst_scenario=layout.stress[worst],
                      worst_scenario_excess=float(stressed[worst, account] - requirement))
    return fields


def cost(allocation: Allocation, layout: Layout, numbers: Numbers) -> tuple[float, float]:
    return allocation.carry_cost(layout, numbers), allocation.transfer_cost(layout, numbers)


def _held(layout: Layout, quantity: np.ndarray) -> dict[tuple[str, str], float]:
    """{(asset, location): quantity} of every cell held (> 0)."""
    cells = np.flatnonzero(quantity > 0)
    asset, location = np.divmod(cells, layout.n_locations)
    return {(layout.assets[a], layout.locations[at]): q
            for a, at, q in zip(asset.tolist(), location.tolist(), quantity[cells].tolist(), strict=True)}


def result_of(layout: Layout, problem: Problem, both: tuple[Numbers, Numbers], allocation: Allocation,
              sensitivity: Sensitivity, ordered: OrderedPlan, planned: bool, diagnostics: Diagnostics) -> Result:
    """The Result of a verified optimum and its ordered plan. ``both``: the problem's numbers as given and
    ``hedged`` with the allocation's hedges (docs/hedging.md; the same object without hedges): every figure but
    the delta rows reads the hedged ones."""
    unhedged, numbers = both
    carry, transfer = cost(allocation, layout, numbers)
    hedging = allocation.hedge_cost(numbers)
    cell_price = numbers.cell_price(layout)
    quantity = allocation.quantity
    cells = np.flatnonzero((quantity > 0) | (numbers.quantity > 0))
    targets = Targets.of_cells(layout.assets, layout.locations, cells, quantity=quantity[cells],
                               value=quantity[cells] * cell_price[cells], initial_quantity=numbers.quantity[cells])
    before = Allocation(numbers.quantity, np.zeros(0)).collateral(layout, numbers)
    after = allocation.collateral(layout, numbers)
    shadow = sensitivity.shadow_price
    sigma, stressed = allocation.risk(layout, numbers)
    cvar = allocation.cvar(layout, numbers)
    margin = numbers.venue_requirement - numbers.requirement  # the hedges' (docs/hedging.md)
    hedges = hedge_positions(problem, allocation)
    distance = liquidation_moves(problem, _held(layout, quantity), hedges,
                                 dict(zip(layout.accounts, margin, strict=True))) if problem.positions or hedges else {}
    venue, pnl, required = (x.tolist() for x in (numbers.venue_requirement, numbers.pnl, numbers.required))
    terms = problem.terms  # a property computed per read: once here, not per account
    accounts = [AccountCoverage(id=k, requirement=venue[i], pnl=pnl[i], required=required[i],
                                collateral=float(after[i]), initial_collateral=float(before[i]),
                                excess=float(after[i] - required[i]), shadow_price=float(shadow[i]),
                                margin_mode=terms[k].mode, parent=problem.accounts[i].parent,
                                hedge_margin=float(margin[i]),
                                **risk_fields(layout, numbers, i, after[i], sigma, stressed, cvar),
                                **distance.get(k, {}))
                for i, k in enumerate(layout.accounts)]
    return Result(status="optimal", currency=problem.currency,
                  objective=Objective(total=carry + transfer + hedging, carry=carry, transfer=transfer,
                                      hedging=hedging),
                  hedges=hedge_trades(problem, layout, numbers, allocation),
                  deltas=delta_rows(problem, layout, unhedged, allocation),
                  targets=targets, accounts=accounts, portfolio=portfolio(layout, numbers, allocation, after),
                  plan=ordered.steps, plan_safe=ordered.safe, funding=ordered.funding, planned=planned,
                  marginal_values=sensitivity.marginal_rows(layout), binding=sensitivity.binding,
                  diagnostics=diagnostics)
