"""The multi-period transition on derisk.toml: trades, a bridge with delay and capacity, floors on the way, and an
independent replay of the schedule."""

import allocator
from allocator.transition import plan_transition, validate_transition

problem = allocator.load_problem("fixtures/problems/derisk.toml")
result = plan_transition(problem)
c = result.costs
print(f"cost {c.total:,.2f} {result.currency}: income forgone {c.carry:,.2f}, transfers {c.transfer:,.2f}, "
      f"fees {c.fees:,.2f}, spread {c.spread:,.2f}, impact {c.impact:,.2f}")
print(f"complete after {result.completion_hours:g} h of {result.periods} x {result.period_hours:g} h periods")
print(result.lowest_frame.to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
trades = result.schedule_frame.query("kind == 'trade'").groupby(["asset", "asset_to"])["value"].sum()
print("sold over the transition (value at today's prices):")
print(trades.to_string(float_format=lambda x: f"{x:,.0f}"))
assert validate_transition(problem, result) == []
print("schedule replayed: every floor, capacity and delay holds")
