"""Pre-trade: what does more margin at the perps venue cost? The exact re-solve beside the first-order estimate
from the shadow price (exact while the optimal basis holds; a large change moves past it)."""

from allocator import load_problem
from allocator.analysis.incremental import incremental_cost

problem = load_problem("fixtures/problems/desk.toml")
perps = next(a for a in problem.accounts if a.id == "cex-perps")
for extra in (10_000, 500_000):
    change = incremental_cost(problem, {"requirement": {"cex-perps": perps.requirement + extra}})
    print(f"+{extra:,} requirement: exact {change.exact:,.2f}, first-order estimate {change.estimate:,.2f}")
