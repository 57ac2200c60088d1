"""Historical stress episodes (close-to-close moves of the real daily history) applied to the desk as what-if
scenarios: the capital cost of staying covered in each, and what one more unit of requirement costs there."""

from pathlib import Path

from allocator import load_problem
from allocator.analysis.whatif import what_if
from allocator.batch.spec import read_scenarios

problem = load_problem("fixtures/problems/desk.toml")
stress = read_scenarios(Path("fixtures/scenarios/desk-stress.toml"))
table = what_if(problem, [{"id": ident, **fields} for ident, fields in stress])
table = table[["scenario", "status", "objective", "shadow_price.cex-perps"]]
print(table.to_string(index=False, formatters={"objective": "{:,.2f}".format,
                                               "shadow_price.cex-perps": "{:.4%}".format}))
