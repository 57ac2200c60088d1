"""A vectorised cvxpy constraint with one business label per row (``coverage[cex-perps]``)."""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np


@dataclass(frozen=True, eq=False)
class Labelled:
    family: str
    constraint: cp.Constraint
    labels: tuple[str, ...]

    def dual(self) -> np.ndarray:
        """One dual per label (for a cone block: the multiplier of each cone's scalar part)."""
        value = self.constraint.dual_value
        if value is None:
            return np.zeros(len(self.labels))
        if isinstance(value, list):  # cvxpy gives a second-order cone's dual as [scalar parts, vector parts]
            value = value[0]
        return np.atleast_1d(np.asarray(value, dtype=float))
