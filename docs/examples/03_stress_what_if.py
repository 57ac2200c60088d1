"""Historical stress episodes on the desk, then a cost curve against the buffer."""

from pathlib import Path

from allocator import load_problem
from allocator.analysis.frontier import frontier
from allocator.analysis.whatif import what_if
from allocator.batch.spec import read_scenarios

problem = load_problem("fixtures/problems/desk.toml")
stress = read_scenarios(Path("fixtures/scenarios/desk-stress.toml"))
scenarios = [{"id": ident, **fields} for ident, fields in stress]
table = what_if(problem, scenarios)
print(table[["scenario", "status", "objective", "shadow_price.cex-perps"]])

curve = frontier(problem, "buffer", [0.0, 0.1, 0.2, 0.3, 0.5])
print(curve[["value", "status", "objective"]])
