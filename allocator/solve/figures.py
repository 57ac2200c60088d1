"""Per-account and portfolio figures of a verified allocation, in currency, for the result and the diagnosis."""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.program.allocation import Allocation
from allocator.program.layout import Layout
from allocator.program.numbers import Numbers
from allocator.results.result import PortfolioCoverage


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


def portfolio(layout: Layout, numbers: Numbers, allocation: Allocation,
               collateral: np.ndarray) -> PortfolioCoverage | None:
    if not layout.portfolio:
        return None
    sigma, stressed = allocation.portfolio(layout, numbers)
    requirement, total = float(numbers.net_requirement.sum()), float(collateral.sum())
    worst = int(np.argmin(stressed)) if layout.portfolio_stress else None
    return PortfolioCoverage(requirement=float(numbers.requirement.sum()), pnl=float(numbers.pnl.sum()),
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
