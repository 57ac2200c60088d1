"""Survey (not a test): how often a single-period plan takes a risk limit below its floor on random risk problems.

    .venv/bin/python tests/plan_risk_survey.py [N] [SEED] [JSON of generate_problem overrides]

Draws N problems from the distribution of ``random_problems(max_assets=8, max_accounts=4, risk=True)``
(tests/helpers.py) with a numpy generator seeded by SEED, solves each, replays its plan and evaluates every risk
margin (left side minus requirement: parametric, each stress scenario, CVaR, the portfolio limit) after every
step with the verification's numpy code, independently of the plan's ledger. A margin breaks its floor when it
ends a step below ``min(margin today, 0)`` by more than the coverage floor's tolerance; it is *made worse* by a
step when it also ends below where the step found it. Prints one line per problem with a broken floor and the
totals: problems with a broken floor, with a step that made one worse without being flagged ``needs_funding``,
and with a plan flagged unsafe. Figures are recorded in docs/transition-plan.md.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import allocator
from allocator.io.generate import generate_problem
from allocator.program._allocation import ROUNDING, TOLERANCE, Allocation
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers


def margins(layout: Layout, numbers: Numbers, quantity: np.ndarray) -> tuple[dict[tuple[str, str], float], np.ndarray]:
    """(owner, label) -> margin of every risk limit, and each account's collateral, for cell quantities."""
    allocation = Allocation(quantity, np.zeros(0))
    collateral = allocation.collateral(layout, numbers)
    sigma, stressed = allocation.risk(layout, numbers)
    cvar = allocation.cvar(layout, numbers)
    out = {}
    for k in layout.risk_accounts:
        name, requirement = layout.accounts[k], numbers.requirement[k]
        if not np.isnan(sigma[k]):
            out[(name, "parametric")] = collateral[k] - numbers.risk_z[k] * sigma[k] - requirement
        for s, scenario in enumerate(layout.stress):
            out[(name, f"stress[{scenario}]")] = stressed[s, k] - requirement
    for k in layout.cvar_accounts:
        out[(layout.accounts[k], "cvar")] = collateral[k] - cvar[k] - numbers.requirement[k]
    if layout.portfolio:
        book, requirement = allocation.portfolio(layout, numbers), numbers.requirement.sum()
        out[("book", "portfolio[parametric]")] = collateral.sum() - numbers.portfolio_z * book[0] - requirement
        if layout.portfolio_stress:
            for s, scenario in enumerate(layout.stress):
                out[("book", f"portfolio[stress,{scenario}]")] = book[1][s] - requirement
    return out, collateral


def draw(rng: np.random.Generator, overrides: dict[str, object]) -> dict[str, object]:
    """Arguments of generate_problem, as random_problems(max_assets=8, max_accounts=4, risk=True) draws them."""
    return {"n_assets": int(rng.integers(2, 9)), "n_wallets": int(rng.integers(1, 4)),
            "n_accounts": int(rng.integers(1, 5)), "seed": int(rng.integers(0, 2**32 - 1)),
            "topology": str(rng.choice(["hub", "none", "complete"])), "route_density": float(rng.uniform(0.3, 1.0)),
            "tightness": float(rng.uniform(0.1, 0.99)), "eligible_share": float(rng.uniform(0.2, 0.9)),
            "limits": bool(rng.integers(0, 2)), "posted_share": float(rng.uniform(0.0, 1.0)), "risk": True,
            **overrides}


def survey(n: int, seed: int, overrides: dict[str, object]) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    totals = {"solved": 0, "broken": 0, "unflagged": 0, "unsafe": 0, "worst": 0.0}
    for i in range(n):
        arguments = draw(rng, overrides)
        problem = generate_problem(**arguments)  # type: ignore[arg-type]
        try:
            result = allocator.optimize(problem)
        except allocator.AllocatorError as error:
            print(i, arguments, type(error).__name__)
            continue
        totals["solved"] += 1
        totals["unsafe"] += not result.plan_safe
        layout = Layout.from_problem(problem)
        numbers = Numbers.from_problem(problem, layout)
        quantity = numbers.quantity.copy()
        today, collateral = margins(layout, numbers, quantity)
        scale = result.diagnostics.money_scale
        size = {a: max(numbers.required[k], collateral[k]) for k, a in enumerate(layout.accounts)}
        size["book"] = max(numbers.required.sum(), collateral.sum())
        tolerance = {key: TOLERANCE * min(size[key[0]], scale) + ROUNDING * scale for key in today}
        asset = {a: j for j, a in enumerate(layout.assets)}
        location = {name: j for j, name in enumerate(layout.locations)}
        before, worst, unflagged = dict(today), 0.0, False
        for step in result.plan:
            quantity[layout.cell(asset[step.asset], location[step.from_])] -= step.quantity
            quantity[layout.cell(asset[step.asset], location[step.to])] += step.quantity
            after, _ = margins(layout, numbers, quantity)
            for key, margin in after.items():
                floor = min(today[key], 0.0)
                if margin < floor - tolerance[key]:
                    worst = max(worst, floor - margin)
                if margin < min(floor, before[key]) - tolerance[key] and not step.needs_funding:
                    unflagged = True
            before = after
        if worst:
            totals["broken"] += 1
            totals["unflagged"] += unflagged
            print(i, arguments, f"{worst:,.0f} below a floor", "(unflagged)" if unflagged else "(flagged)",
                  flush=True)
        totals["worst"] = max(totals["worst"], worst)
    return totals


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    figures = survey(count, start, extra)
    print(f"{figures['broken']} of {figures['solved']} plans take a risk limit below its floor "
          f"(worst {figures['worst']:,.0f}); {figures['unflagged']} of them on a step not flagged needs_funding; "
          f"{figures['unsafe']} plans flagged unsafe")
