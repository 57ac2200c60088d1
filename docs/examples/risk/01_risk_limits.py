"""Correlation-aware limits: the perps desk with positions, a market risk model and historical stress scenarios.
The binding limits are named by account and scenario, each with its shadow price (docs/cli.md)."""

import allocator

problem = allocator.load_problem("fixtures/problems/perps-risk.toml")
result = allocator.optimize(problem)  # second-order cones: solved with Clarabel
frame = result.accounts_frame[["required", "collateral", "sigma", "risk_excess", "worst_scenario"]]
print(frame.to_string(float_format=lambda x: f"{x:,.0f}"))
for row in result.binding:
    print(f"{row.label}: shadow price {row.shadow_price:.4%}")
