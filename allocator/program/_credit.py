"""Collateral credit of posted value, pair by pair: ``(1 - h) v``, or the pair's exact concave curve.

The program credits a curved pair through ``CHORDS`` chord lines (never above the curve, collateral/curve.py);
everything that checks or replays an allocation (verification, ledger, liquidation distance) uses ``credit``,
the exact formula.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.venues.collateral.curve import Curve

#: Chord lines per curved pair in the program (a curve's own lines are padded by repeating its last one).
CHORDS = 24


def credit(numbers: Numbers, value: np.ndarray, pairs: np.ndarray | None = None) -> np.ndarray:
    """Credit in currency of posted value ``value`` (P,) or (P, T) per eligible pair (a value below zero,
    floating-point residue, counts as 0 on a curve); with ``pairs``, only those pairs (``value`` then holds their
    posted values, row by row in the same order)."""
    index = np.arange(len(value)) if pairs is None else pairs
    weight = 1.0 - numbers.haircut[index]
    out = weight.reshape(weight.shape + (1,) * (value.ndim - 1)) * value
    curved = (list(numbers.curves.items()) if pairs is None else
              [(row, numbers.curves[pair]) for row, pair in enumerate(pairs.tolist()) if pair in numbers.curves])
    for row, curve in curved:  # row: the pair's row in ``value``
        out[row] = curve.value(np.maximum(value[row], 0.0))
    return out


#: A curved pair's chord lines before padding: ``lines(pair, curve, upto)`` -> intercepts (currency), slopes.
Lines = Callable[[int, Curve, float], tuple[np.ndarray, np.ndarray]]


def own_lines(pair: int, curve: Curve, upto: float) -> tuple[np.ndarray, np.ndarray]:
    """The curve's own chords on ``[0, upto]`` (its slope at zero, from the origin, where nothing can be posted)."""
    return curve.chords(upto) if upto > 0 else (np.zeros(1), np.array([curve.weight]))


def inventory(layout: Layout, numbers: Numbers) -> np.ndarray:
    """(A,) the value in currency of the problem's whole holding of each asset."""
    return np.bincount(np.arange(layout.n_cells) // layout.n_locations, weights=numbers.value(layout),
                       minlength=layout.n_assets)


def chord_table(layout: Layout, numbers: Numbers, most: np.ndarray | None = None,
                lines: Lines = own_lines) -> tuple[np.ndarray, np.ndarray]:
    """(Pc, CHORDS) intercepts (currency) and slopes of each curved pair's chords, up to ``most`` (A,) of its asset:
    by default the problem's whole inventory of the asset (the most that could ever be posted). ``lines`` draws a
    pair's chords (the curve's own by default); a curve's lines are padded to ``CHORDS`` by repeating the last."""
    most = inventory(layout, numbers) if most is None else most
    intercepts = np.zeros((len(layout.curve_pairs), CHORDS))
    slopes = np.zeros((len(layout.curve_pairs), CHORDS))
    for row, pair in enumerate(layout.curve_pairs):
        c, s = lines(int(pair), numbers.curves[int(pair)], float(most[layout.pair_asset[pair]]))
        if len(c) > CHORDS:
            raise ValueError(f"a collateral curve with {len(c)} chord lines; at most {CHORDS} are supported")
        intercepts[row] = np.concatenate([c, np.full(CHORDS - len(c), c[-1])])
        slopes[row] = np.concatenate([s, np.full(CHORDS - len(s), s[-1])])
    return intercepts, slopes


def stressed_credit(layout: Layout, numbers: Numbers, value: np.ndarray, account: int,
                    returns: np.ndarray) -> np.ndarray:
    """(S,) an account's exact credit after each row of ``returns`` (S, A) moves prices, for the cell values
    ``value`` (currency)."""
    mine = np.flatnonzero(layout.pair_account == account)
    posted = value[layout.pair_cell[mine]]
    moved = 1.0 + returns[:, layout.pair_asset[mine]]
    linear = np.array([pair not in numbers.curves for pair in mine], dtype=bool)
    out = moved[:, linear] @ ((1.0 - numbers.haircut[mine[linear]]) * posted[linear])
    for column in np.flatnonzero(~linear):
        out += numbers.curves[int(mine[column])].value(np.maximum(moved[:, column] * posted[column], 0.0))
    return out
