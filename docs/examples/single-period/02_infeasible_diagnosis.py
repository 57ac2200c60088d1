"""An account that cannot be covered: the least shortfall any allocation leaves, per account."""

import allocator

problem = allocator.load_problem("fixtures/problems/infeasible.toml")
try:
    allocator.optimize(problem)
except allocator.InfeasibleError as error:
    print(error)
    print(error.diagnosis.by_account())
    print(error.result.shortfalls_frame.to_string(index=False))
