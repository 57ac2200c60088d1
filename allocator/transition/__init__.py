"""The multi-period transition: trades, delays, capacities and move limits (docs/transition.md).

Data flow: _periods.py (structure) -> _data.py (numbers, scaled) -> _variables.py, _flows.py, _families.py, _costs.py
-> _program.py -> _solve.py (status, cleaning) -> _replay.py + _verify.py (numpy) -> _steps.py (the plan) ->
_outcome.py (_result.py) -> _validate.py (independent replay of the plan); _limits.py adds the move limits (MILP and
heuristic), _diagnose.py the infeasibility diagnosis. The entry point is :func:`plan_transition`.
"""

from allocator.transition._api import plan_transition
from allocator.transition._diagnose import TransitionDiagnosis, TransitionInfeasibleError
from allocator.transition._result import TransitionResult, TransitionStep
from allocator.transition._validate import TransitionViolation, validate_transition

__all__ = ["TransitionDiagnosis", "TransitionInfeasibleError", "TransitionResult", "TransitionStep",
           "TransitionViolation", "plan_transition", "validate_transition"]
