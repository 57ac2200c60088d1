"""The multi-period transition: trades, delays, capacities and move limits (docs/transition.md).

Data flow: periods.py (structure) -> data.py (numbers, scaled) -> variables.py, flows.py, families.py, costs.py
-> program.py -> solve.py (status, cleaning) -> replay.py + verify.py (numpy) -> steps.py (the plan) ->
outcome.py (result.py) -> validate.py (independent replay of the plan); limits.py adds the move limits (MILP and
heuristic), diagnose.py the infeasibility diagnosis. The entry point is :func:`plan_transition`.
"""

from allocator.transition.api import plan_transition
from allocator.transition.diagnose import TransitionDiagnosis, TransitionInfeasibleError
from allocator.transition.result import TransitionResult, TransitionStep
from allocator.transition.validate import TransitionViolation, validate_transition

__all__ = ["TransitionDiagnosis", "TransitionInfeasibleError", "TransitionResult", "TransitionStep",
           "TransitionViolation", "plan_transition", "validate_transition"]
