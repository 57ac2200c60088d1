"""Flat haircut: ``value(v) = (1 - haircut) v``."""

from __future__ import annotations

from allocator.inputs.fields import Haircut, StrictModel
from allocator.lazy import np
from allocator.venues.collateral.curve import as_values, line


class Flat(StrictModel):
    """The same haircut on every unit posted."""

    haircut: Haircut

    @property
    def weight(self) -> float:
        return 1.0 - self.haircut

    @property
    def is_linear(self) -> bool:
        return True

    def value(self, v: float | np.ndarray) -> np.ndarray:
        return self.weight * as_values(v)

    def chords(self, upto: float, pieces: int = 12) -> tuple[np.ndarray, np.ndarray]:
        return line(self.weight)
