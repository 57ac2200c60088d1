"""The multi-period transition on derisk.toml: trades, a bridge with delay and capacity, floors on the way."""

import allocator
from allocator.transition import plan_transition, validate_transition

problem = allocator.load_problem("fixtures/problems/derisk.toml")
result = plan_transition(problem)
print(result.costs)
print(f"{len(result.steps)} steps, complete after {result.completion_hours:g} h")
print(result.lowest_frame)
print(result.schedule_frame[["period", "kind", "asset", "from", "to", "asset_to", "value", "cost"]].head(12))
assert validate_transition(problem, result) == []
