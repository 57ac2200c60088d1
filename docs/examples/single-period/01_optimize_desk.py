"""Optimise the bundled crypto desk: the capital cost, coverage per account, the plan, and an independent replay
of the plan from today's holdings."""

import allocator

problem = allocator.load_problem("fixtures/problems/desk.toml")
result = allocator.optimize(problem)

print(f"capital cost over {problem.horizon_days:g} days: {result.objective.total:,.2f} {result.currency}")
money = "{:,.2f}".format
accounts = result.accounts_frame[["required", "initial_collateral", "collateral", "shadow_price"]]
print(accounts.to_string(formatters={"required": money, "initial_collateral": money, "collateral": money,
                                     "shadow_price": "{:.4%}".format}))
plan = result.plan_frame[["asset", "from", "to", "quantity", "value", "cost"]]
print(plan.to_string(formatters={"quantity": "{:,.4f}".format, "value": money, "cost": money}))
assert result.plan_safe and allocator.validate_plan(problem, result) == []
print("plan replayed from today's holdings: safe, ends at the targets")
