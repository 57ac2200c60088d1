"""What both programs share, the cvxpy one (_model.py) and the linear one (_lp/, solve/_fast.py): the moves
phase's cost tolerance and face rule (_face.py), the margins a solver's profile gives them, and the signal that the
stress slots are full. Its own module so that the linear path imports no cvxpy (docs/cli.md, start-up)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

#: The moves phase may not raise the cost by more than 10 times this share of the cost scale (engine.py).
COST_TOLERANCE = 1e-9
#: A reduced cost or dual above this (in program units, costs of order one) counts as positive.
DUAL_TOLERANCE = 1e-9
#: A value or slack below this (scaled value units) counts as zero.
ZERO_TOLERANCE = 1e-9
#: The cap of a variable or slack left free (scaled values are at most of order one).
FREE = 1e3


def cap(value: np.ndarray, dual: np.ndarray) -> np.ndarray:
    """The face rule: 0 where the cost optimum is at zero (or tight) with a positive reduced cost (or dual), else
    free (``FREE``); the cvxpy program's moves phase (_face.py) and the linear path's (solve/_fast.py) both apply
    it."""
    return np.where((dual > DUAL_TOLERANCE) & (value <= ZERO_TOLERANCE), 0.0, FREE)


class Margins(Protocol):
    """What the program takes from a solver's profile (solve/_solvers.SolverProfile): the coverage margin (scaled
    value units) added to every requirement and the limit margin (relative) taken off every concentration share."""

    @property
    def coverage_margin(self) -> float: ...

    @property
    def limit_margin(self) -> float: ...


class SlotsFull(Exception):
    """Some risk account needs more stress slots than the program has (the engine rebuilds with more)."""

    def __init__(self, working: list[list[int]]) -> None:
        super().__init__("stress slots full")
        self.working = working
