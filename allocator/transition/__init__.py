"""The multi-period transition: trades, delays, capacities and move limits (docs/transition.md).

Data flow: _periods.py (structure) -> _data.py (numbers, scaled) -> _variables.py, _flows.py, _families.py, _costs.py
-> _program.py -> _solve.py (status, cleaning) -> _replay.py + _verify.py (numpy) -> _steps.py (the plan) ->
_outcome.py (_result.py) -> _validate.py (independent replay of the plan); _limits.py adds the move limits (MILP and
heuristic), _diagnose.py the infeasibility diagnosis. The entry point is :func:`plan_transition`.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:  # the names as type checkers see them (re-exported); at run time each is imported on first
    # use (PEP 562, lazy_loader.attach)
    from allocator.transition._api import plan_transition as plan_transition
    from allocator.transition._diagnose import TransitionDiagnosis as TransitionDiagnosis
    from allocator.transition._diagnose import TransitionInfeasibleError as TransitionInfeasibleError
    from allocator.transition._result import TransitionResult as TransitionResult
    from allocator.transition._result import TransitionStep as TransitionStep
    from allocator.transition._validate import TransitionViolation as TransitionViolation
    from allocator.transition._validate import validate_transition as validate_transition

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "_api": ["plan_transition"],
    "_diagnose": ["TransitionDiagnosis", "TransitionInfeasibleError"],
    "_result": ["TransitionResult", "TransitionStep"],
    "_validate": ["TransitionViolation", "validate_transition"],
})
