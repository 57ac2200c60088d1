"""A cost curve: the desk's capital cost as every account's buffer grows (one solve per point, compiled once)."""

from allocator import load_problem
from allocator.analysis.frontier import frontier

problem = load_problem("fixtures/problems/desk.toml")
curve = frontier(problem, "buffer", [0.0, 0.1, 0.2, 0.3, 0.5])
print(curve[["value", "status", "objective"]].to_string(index=False, formatters={"objective": "{:,.2f}".format}))
