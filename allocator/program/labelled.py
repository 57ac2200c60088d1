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
        value = self.constraint.dual_value
        return np.zeros(len(self.labels)) if value is None else np.atleast_1d(np.asarray(value, dtype=float))
