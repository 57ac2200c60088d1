"""The collateral curve protocol and the chords that let a linear program use a concave curve.

A collateral curve maps the market value ``v >= 0`` (currency) of one asset posted at a venue to the margin
credit the venue gives for it. Every curve here is concave and non-decreasing, so it is the minimum of lines:
``g(v) = min_j (c_j + s_j v)``. A program writes ``credit <= c_j + s_j * posted`` for every ``j`` and stays linear.

Chords of a concave curve lie below it between their two breakpoints, and the minimum of all chords is the
piecewise-linear interpolation of the curve at the breakpoints: never above the curve on ``[0, upto]``, equal
to it at the breakpoints, exact where the curve itself is linear between them. Beyond ``upto`` the last chord
would rise above a curve that bends; a flat line at ``value(upto)`` caps it there, which is safe because every
curve is non-decreasing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from allocator.lazy import np

#: Smallest breakpoint of a smooth curve, as a share of ``upto`` (geometric spacing makes small postings exact).
SMALLEST_BREAKPOINT = 1e-4


@runtime_checkable
class Curve(Protocol):
    """What every collateral curve offers (see the module docstring)."""

    @property
    def weight(self) -> float:
        """Credit per unit of value for a small posting: the slope at zero, ``1 - haircut``."""
        ...

    @property
    def is_linear(self) -> bool:
        """True when ``value(v) = weight * v`` for every ``v``."""
        ...

    def value(self, v: float | np.ndarray) -> np.ndarray:
        """Exact credit (currency) for posted market value ``v >= 0`` (currency)."""
        ...

    def chords(self, upto: float, pieces: int = 12) -> tuple[np.ndarray, np.ndarray]:
        """Intercepts ``c`` and slopes ``s`` with ``min_j (c_j + s_j v) <= value(v)`` on ``[0, upto]``."""
        ...


def as_values(v: float | np.ndarray) -> np.ndarray:
    """Posted values as a float array; negative or non-finite values are a caller's error."""
    values = np.asarray(v, dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("posted values must be finite and >= 0")
    return values


def breakpoints(upto: float, pieces: int, kinks: tuple[float, ...] = ()) -> np.ndarray:
    """0, then ``pieces`` points spaced geometrically from ``upto * 1e-4`` to ``upto``, plus known kinks below upto."""
    if not (np.isfinite(upto) and upto > 0):
        raise ValueError(f"upto must be a positive finite value, not {upto!r}")
    if pieces < 1:
        raise ValueError(f"pieces must be at least 1, not {pieces!r}")
    points = np.geomspace(upto * SMALLEST_BREAKPOINT, upto, pieces) if pieces > 1 else np.array([upto])
    inside = [k for k in kinks if 0 < k < upto]
    return np.unique(np.concatenate(([0.0], points, inside)))


def chords_through(curve: Curve, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chords between consecutive breakpoints, and a flat cap at the last one."""
    values = curve.value(points)
    slopes = np.diff(values) / np.diff(points)
    intercepts = values[:-1] - slopes * points[:-1]
    return np.append(intercepts, values[-1]), np.append(slopes, 0.0)


def line(weight: float) -> tuple[np.ndarray, np.ndarray]:
    """The single chord of a linear curve."""
    return np.zeros(1), np.array([weight])


def evaluate_chords(intercepts: np.ndarray, slopes: np.ndarray, v: float | np.ndarray) -> np.ndarray:
    """``min_j (c_j + s_j v)``: what a program credits for ``v`` (for checks and tests)."""
    values = np.asarray(v, dtype=float)
    return np.min(intercepts[:, None] + slopes[:, None] * values.reshape(1, -1), axis=0).reshape(values.shape)
