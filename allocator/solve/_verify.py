"""The independent check of a returned allocation, in plain numpy and in currency.

Nothing the solver says is trusted. The moves it returned are turned into units: moves within the tolerance
are set to zero (negatives beyond it are a violation; positive dust is kept when dropping it would leave a
constraint unmet, see ``check``), hub traffic is balanced exactly and cycles are
cancelled (solve/_cycles.py). The holdings are then re-derived from today's holdings and the moves, and every
constraint is re-checked on them:

* balance: the solver's holdings equal the re-derived ones, and the hub (if any) neither creates nor keeps value,
  to ``10 * tolerance`` of the money scale (the solver's own absolute tolerance);
* non-negativity: no location ends more negative than ``tolerance`` of the money scale; such crumbs are repaired
  by moving a little less out of that location (never by clipping, which would create value), and coverage is
  then checked exactly on the repaired allocation;
* coverage: each account's collateral is at least ``requirement * (1 + buffer)`` to within floating-point
  rounding (``ROUNDING``); the program asks for a margin (``SolverProfile.coverage_margin``) so that this holds
  whenever the problem is not covered exactly;
* concentration: within ``TOLERANCE`` of the account's own scale (scaling.py);
* hedges (docs/hedging.md): within their size and every delta band, each row above with their margin, exposure
  and P&L.
"""

from __future__ import annotations

import numpy as np

from allocator.program._allocation import ROUNDING, TOLERANCE, Allocation
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.program._scaling import Scale
from allocator.solve._cycles import cancel_cycles


def check(layout: Layout, numbers: Numbers, scale: Scale, holding: np.ndarray, move: np.ndarray,
          *, elastic: bool = False, tolerance: float = TOLERANCE,
          hedge: np.ndarray | None = None) -> tuple[Allocation, list[str]]:
    """Turn the solver's scaled values into a checked allocation; return it with every violation found.

    ``elastic=True`` skips coverage and concentration (the elastic diagnosis relaxes them on purpose);
    ``tolerance`` is the solver profile's (1e-9 for HiGHS, 1e-6 for Clarabel). Moves below it are solver dust,
    dropped only where the allocation then meets every constraint as an exact solver's must (concentration
    to ``TOLERANCE`` of the account; coverage is always exact): a move of a few dollars can be what covers an
    account or keeps a share under its limit. Otherwise only moves below ``TOLERANCE`` are dropped, and the
    limits are checked to ``tolerance``; failing that too, the dust is dropped and checked to ``tolerance``.

    ``hedge`` (H,): the hedges' signed notional (currency) the solver chose (docs/hedging.md); hedges within the
    dust are dropped like moves. Every row is then checked with their margin, exposure and P&L
    (``Numbers.hedged``), and each hedge within its size and each delta band within its bound.
    """
    hedge = np.zeros(layout.n_hedges) if hedge is None else hedge
    if tolerance <= TOLERANCE:
        return _check(layout, numbers, scale, holding, move, elastic, tolerance, tolerance, tolerance, hedge)
    for dust, limits in ((tolerance, TOLERANCE), (TOLERANCE, tolerance)):
        allocation, violations = _check(layout, numbers, scale, holding, move, elastic, tolerance, dust, limits,
                                        hedge)
        if not violations:
            return allocation, violations
    return _check(layout, numbers, scale, holding, move, elastic, tolerance, tolerance, tolerance, hedge)


def _check(layout: Layout, numbers: Numbers, scale: Scale, holding: np.ndarray, move: np.ndarray,
           elastic: bool, tolerance: float, dust: float, limits: float,
           hedge: np.ndarray) -> tuple[Allocation, list[str]]:
    violations: list[str] = []
    hedge = np.where(np.abs(hedge) > dust * scale.money, hedge, 0.0)
    violations += _hedge_violations(layout, numbers, scale, hedge, tolerance)
    numbers = numbers.hedged(layout, hedge)
    # in scaled value units: the solver's own absolute tolerance. Crumbs within it are repaired, never clipped,
    # so conservation stays exact and coverage (checked exactly below) cannot be flattered by them.
    tol = tolerance
    move = move[: layout.n_moves]
    if np.any(move < -tol):
        worst = int(np.argmin(move))
        violations.append(f"move[{layout.move_label(worst)}] is negative: {move[worst] * scale.money:.6g}")
    move = np.where(move > dust, move, 0.0)
    if layout.has_hub:
        left = layout.hub_balance[:, : layout.n_moves] @ move
        if np.any(np.abs(left) > 10 * tol):
            violations.append(f"hub balance: {np.abs(left).max() * scale.money:.6g} of value created or kept at "
                              f"the hub ({layout.assets[int(np.argmax(np.abs(left)))]})")
        move = _balance_hub(layout, move)
    move = cancel_cycles(layout, move)
    if layout.has_hub:  # cancelling large free loops through the hub leaves float residue: balance again, exactly
        move = _balance_hub(layout, move)
    moved = move * scale.money / numbers.price[layout.move_asset]

    derived = numbers.quantity + _incidence_times(layout, moved)
    cell_price = numbers.cell_price(layout)
    if np.any(derived * cell_price < -tol * scale.money):
        worst = int(np.argmin(derived * cell_price))
        violations.append(f"non-negativity[{layout.cell_label(worst)}]: ends at {derived[worst]:.6g} units")
    elif np.any(derived < 0):  # crumbs within the tolerance: send a little less rather than overdraw
        moved, derived = _repair_overdrafts(layout, numbers.quantity, moved, derived,
                                            ROUNDING * scale.money / cell_price)
        left = derived * cell_price < -ROUNDING * scale.money  # beyond float rounding: not repaired
        if np.any(left):
            worst = int(np.argmin(np.where(left, derived, 0.0)))
            violations.append(f"non-negativity[{layout.cell_label(worst)}]: still {derived[worst]:.6g} units "
                              "after repairing crumbs")
        derived = np.maximum(derived, 0.0)  # float rounding only
    gap = np.abs(derived * cell_price / scale.money - holding)
    if np.any(gap > 10 * tol):
        worst = int(np.argmax(gap))
        violations.append(f"balance[{layout.cell_label(worst)}]: solver holds {holding[worst] * scale.money:.6g}, "
                          f"moves give {derived[worst] * cell_price[worst]:.6g}")

    allocation = Allocation(quantity=derived, moved=moved, hedge=hedge)
    if not elastic:
        collateral = allocation.collateral(layout, numbers)
        for k in np.flatnonzero(collateral < numbers.required - ROUNDING * scale.money):
            violations.append(f"coverage[{layout.accounts[k]}]: collateral {collateral[k]:.10g} "
                              f"< required {numbers.required[k]:.10g}")
        violations += _risk_violations(layout, numbers, scale, allocation, collateral)
        violations += _portfolio_violations(layout, numbers, scale, allocation, collateral)
        excess = allocation.limit_excess(layout, numbers)
        limit_tolerance = limits * scale.account_money()[layout.pair_account[layout.limit_pair]]
        for i in np.flatnonzero(excess > limit_tolerance):
            violations.append(f"{layout.limit_label(int(i))}: {excess[i]:.6g} over its limit")
        deltas = allocation.deltas(layout, numbers)
        for d in np.flatnonzero(np.abs(deltas) > numbers.delta_limit + limits * scale.money):
            violations.append(f"{layout.delta_label(int(d))}: delta {deltas[d]:.10g} beyond "
                              f"+/-{numbers.delta_limit[d]:.10g}")
    return allocation, violations


def _hedge_violations(layout: Layout, numbers: Numbers, scale: Scale, hedge: np.ndarray,
                      tolerance: float) -> list[str]:
    """Each hedge's |notional| within its max_notional (to the solver's tolerance of the money scale)."""
    over = np.abs(hedge) - numbers.hedge_max
    return [f"{layout.hedge_label(int(j))}: |notional| {abs(hedge[j]):.10g} > max {numbers.hedge_max[j]:.10g}"
            for j in np.flatnonzero(over > 10 * tolerance * scale.money)]


def _risk_violations(layout: Layout, numbers: Numbers, scale: Scale, allocation: Allocation,
                     collateral: np.ndarray) -> list[str]:
    """The parametric limit (collateral - z sigma >= requirement) and every stress scenario, checked in currency."""
    if not len(layout.risk_accounts):
        return []
    out = []
    sigma, stressed = allocation.risk(layout, numbers)
    requirement = numbers.net_requirement  # net of the positions' P&L since their last mark (arrays.py)
    floor = requirement - ROUNDING * scale.money
    cvar = allocation.cvar(layout, numbers)
    for k in layout.cvar_accounts:
        if collateral[k] - cvar[k] < floor[k]:
            out.append(f"cvar[{layout.accounts[k]}]: collateral {collateral[k]:.10g} - CVaR {cvar[k]:.10g} "
                       f"< requirement {requirement[k]:.10g}")
    for k in layout.risk_accounts:
        if not np.isnan(sigma[k]) and collateral[k] - numbers.risk_z[k] * sigma[k] < floor[k]:
            out.append(f"risk[{layout.accounts[k]}]: collateral {collateral[k]:.10g} - z * sigma "
                       f"{numbers.risk_z[k] * sigma[k]:.10g} < requirement {requirement[k]:.10g}")
        for s, name in enumerate(layout.stress):
            if stressed[s, k] < floor[k]:
                out.append(f"stress[{layout.accounts[k]},{name}]: {stressed[s, k]:.10g} "
                           f"< requirement {requirement[k]:.10g}")
    return out


def _repair_overdrafts(layout: Layout, quantity: np.ndarray, moved: np.ndarray, derived: np.ndarray,
                       rounding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduce the moves out of each cell that would end (by a crumb) below zero, largest move first, so that
    conservation stays exact and nothing is overdrawn; rebalance the hub after each round. Stops once no cell
    ends below ``-rounding`` (cells,), float rounding in units, which the caller treats as zero: chasing the last
    ulp of a cell emptied by several moves took up to ten rounds of the whole incidence product. ``derived``: the
    holdings ``moved`` leaves (the caller's); returns the repaired moves and the holdings they leave."""
    moved = moved.copy()
    from_cell = layout.move_cells(layout.edge_from)
    for _ in range(10):
        short = np.flatnonzero(derived < -rounding)
        if not len(short):
            return moved, derived
        out_of = np.flatnonzero(np.isin(from_cell, short) & (moved > 0))  # the short cells' moves out
        out_of = out_of[np.argsort(from_cell[out_of], kind="stable")]  # grouped by cell, in move order within one
        first = np.searchsorted(from_cell[out_of], short)
        last = np.searchsorted(from_cell[out_of], short, side="right")
        for cell, lo, hi in zip(short.tolist(), first.tolist(), last.tolist(), strict=True):
            deficit = -derived[cell]
            for move in sorted(out_of[lo:hi].tolist(), key=lambda m: -moved[m]):
                take = min(moved[move], deficit)
                moved[move] -= take
                deficit -= take
                if deficit <= 0:
                    break
        if layout.has_hub:
            moved = _balance_hub(layout, moved)
        derived = quantity + _incidence_times(layout, moved)
    return moved, derived


def _balance_hub(layout: Layout, move: np.ndarray) -> np.ndarray:
    """Scale down the larger side of each asset's hub traffic so that what enters the hub leaves it exactly."""
    hub = layout.n_locations
    into = layout.edge_to[layout.move_edge] == hub
    out_of = layout.edge_from[layout.move_edge] == hub
    inflow = np.bincount(layout.move_asset[into], weights=move[into], minlength=layout.n_assets)
    outflow = np.bincount(layout.move_asset[out_of], weights=move[out_of], minlength=layout.n_assets)
    keep = np.minimum(inflow, outflow)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor_in = np.where(inflow > 0, keep / inflow, 0.0)
        factor_out = np.where(outflow > 0, keep / outflow, 0.0)
    move = move.copy()
    move[into] *= factor_in[layout.move_asset[into]]
    move[out_of] *= factor_out[layout.move_asset[out_of]]
    return move


def _incidence_times(layout: Layout, moved: np.ndarray) -> np.ndarray:
    if layout.n_moves == 0:
        return np.zeros(layout.n_cells)
    return layout.incidence @ moved  # one column per move: the move slots are the moves when there are any


def _portfolio_violations(layout: Layout, numbers: Numbers, scale: Scale, allocation: Allocation,
                          collateral: np.ndarray) -> list[str]:
    """The treasury-wide limit: total collateral - z sigma_P, and the total after each scenario, cover the sum
    of the requirements."""
    if not layout.portfolio:
        return []
    sigma, stressed = allocation.portfolio(layout, numbers)
    floor = float(numbers.net_requirement.sum()) - ROUNDING * scale.money
    total = float(collateral.sum())
    out = []
    if total - numbers.portfolio_z * sigma < floor:
        out.append(f"portfolio[risk]: collateral {total:.10g} - z * sigma < requirements {floor:.10g}")
    if layout.portfolio_stress:
        for s in np.flatnonzero(stressed < floor):
            out.append(f"portfolio[stress,{layout.stress[s]}]: {stressed[s]:.10g} < requirements {floor:.10g}")
    return out
