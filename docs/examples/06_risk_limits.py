"""Correlation-aware limits: the perps desk with positions, a market risk model and historical stress scenarios."""

import allocator

problem = allocator.load_problem("fixtures/problems/perps-risk.toml")
result = allocator.optimize(problem)  # second-order cones: solved with Clarabel
print(result.accounts_frame[["required", "collateral", "sigma", "risk_excess", "worst_scenario",
                             "worst_scenario_excess"]])
print([b.label for b in result.binding])
