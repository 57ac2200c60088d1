"""Collateral credit of posted value, pair by pair: ``(1 - h) v``, or the pair's exact concave curve.

The program credits a curved pair through ``CHORDS`` chord lines (never above the curve, collateral/curve.py);
everything that checks or replays an allocation (verification, ledger, liquidation distance) uses ``credit``,
the exact formula.
"""

from __future__ import annotations

import numpy as np

from allocator.program.layout import Layout
from allocator.program.numbers import Numbers

#: Chord lines per curved pair in the program (a curve's own lines are padded by repeating its last one).
CHORDS = 24


def credit(numbers: Numbers, value: np.ndarray) -> np.ndarray:
    """(P,) credit in currency of posted value ``value`` (P,) per eligible pair."""
    out = (1.0 - numbers.haircut) * value
    for pair, curve in numbers.curves.items():
        out[pair] = float(curve.value(max(float(value[pair]), 0.0)))
    return out


def chord_table(layout: Layout, numbers: Numbers) -> tuple[np.ndarray, np.ndarray]:
    """(Pc, CHORDS) intercepts (currency) and slopes of each curved pair's chords, up to the problem's whole
    inventory of the asset (the most that could ever be posted)."""
    inventory = np.bincount(np.arange(layout.n_cells) // layout.n_locations, weights=numbers.value(layout),
                            minlength=layout.n_assets)
    intercepts = np.zeros((len(layout.curve_pairs), CHORDS))
    slopes = np.zeros((len(layout.curve_pairs), CHORDS))
    for row, pair in enumerate(layout.curve_pairs):
        curve = numbers.curves[int(pair)]
        upto = float(inventory[layout.pair_asset[pair]])
        c, s = curve.chords(upto) if upto > 0 else (np.zeros(1), np.array([curve.weight]))
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
