"""Optimise the bundled crypto desk: targets, coverage, the plan, and an independent replay of the plan."""

import allocator

problem = allocator.load_problem("fixtures/problems/desk.toml")
result = allocator.optimize(problem)

print(f"capital cost over {problem.horizon_days:g} days: {result.objective.total:,.2f} {result.currency}")
print(result.accounts_frame[["required", "initial_collateral", "collateral", "shadow_price"]])
print(result.plan_frame[["asset", "from", "to", "quantity", "value", "cost"]])
assert result.plan_safe and allocator.validate_plan(problem, result) == []
