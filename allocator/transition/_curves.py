"""Collateral curves in the transition: chords in the program, the exact curve everywhere else.

A pair credited on a concave curve (collateral/curve.py: tiered, size-dependent, liquidity-adjusted) gets a credit
variable at every checkpoint where the program reads an account's collateral: after the departures and after the
trades of each period (the floors), and at the end (coverage, concentration, risk). Each is bounded above by the
pair's chords, ``credit <= c_j + s_j * value`` for every chord ``j``, as in the single-period program
(program/_coverage.py): the chords never lie above the curve, so the program never overstates collateral.

The chords are the single-period ones (program/_credit.py: the curve's own breakpoints up to the most that could be
posted) with today's posted value added as a breakpoint: at today's holdings the chords equal the curve, so an
account that does nothing sits exactly on its floor and doing nothing stays feasible. The most that could be
posted is the asset's whole inventory, or the whole book when a venue trades the asset (trades can buy more).

The replay (_replay.py), the floor repair (_floors.py) and every reported figure use :func:`exact_collateral`, the
curve itself.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from allocator.program._credit import CHORDS, credit, inventory, own_lines
from allocator.program._credit import chord_table as program_chords
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.venues.collateral.curve import Curve, chords_through


def exact_collateral(base: Layout, numbers: Numbers, holdings: np.ndarray) -> np.ndarray:
    """(K, T) collateral of every account in currency for cell values ``holdings`` (cells, T): ``(1 - h) v`` per
    flat pair, the curve's exact value per curved pair (a value below zero, floating-point residue, counts as 0)."""
    credited = credit(numbers, holdings[base.pair_cell])
    out = np.zeros((len(base.accounts), holdings.shape[1]))
    np.add.at(out, base.pair_account, credited)
    return out


def breakpoints_of(intercepts: np.ndarray, slopes: np.ndarray, upto: float) -> np.ndarray:
    """The breakpoints of a chord set in breakpoint order (curve.chords_through, or Tiered's one line per slice):
    where consecutive lines of different slopes meet, in ``(0, upto)``."""
    ds = slopes[:-1] - slopes[1:]
    meet = np.divide(intercepts[1:] - intercepts[:-1], ds, out=np.zeros_like(ds), where=ds != 0)
    return meet[(ds != 0) & (meet > 0) & (meet < upto)]


def chords(curve: Curve, upto: float, today: float) -> tuple[np.ndarray, np.ndarray]:
    """Intercepts (currency) and slopes of a curve's chords on ``[0, upto]`` with ``today`` (currency posted
    today) as an extra breakpoint (unpadded: program/_credit.chord_table pads them to ``CHORDS`` lines)."""
    if upto <= 0:
        return own_lines(0, curve, upto)
    own_c, own_s = curve.chords(upto)
    points = np.unique(np.concatenate(([0.0, upto], breakpoints_of(own_c, own_s, upto),
                                       [today] if 0 < today < upto else [])))
    return chords_through(curve, points)


def chord_table(base: Layout, numbers: Numbers, traded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Pc, CHORDS) intercepts (currency) and slopes of every curved pair (``base.curve_pairs``), program/_credit's
    table drawn through today's posted value, up to the asset's inventory or, for ``traded`` (the assets some venue
    trades), the whole book."""
    value = numbers.value(base)
    most = inventory(base, numbers)
    most[traded] = float(value.sum())

    def through_today(pair: int, curve: Curve, upto: float) -> tuple[np.ndarray, np.ndarray]:
        return chords(curve, upto, float(value[base.pair_cell[pair]]))

    intercepts, slopes = program_chords(base, numbers, most, through_today)
    return intercepts, np.maximum(slopes, 0.0)


def credit_sum(base: Layout) -> sp.csr_matrix:
    """(K, Pc) sums each curved pair's credit into its account."""
    curved = base.curve_pairs
    return sp.csr_matrix((np.ones(len(curved)), (base.pair_account[curved], np.arange(len(curved)))),
                         shape=(len(base.accounts), max(len(curved), 1)))


def flat_pairs(base: Layout) -> np.ndarray:
    """(P,) 1 for a pair credited at a flat haircut, 0 for a curved pair (its credit is a variable of its own)."""
    out = np.ones(len(base.pair_asset))
    out[base.curve_pairs] = 0.0
    return out


def chord_rows(credit: cp.Expression, value: cp.Expression, intercept: cp.Parameter, slope: cp.Parameter,
               n: int) -> cp.Constraint:
    """``credit[p, t] <= c[p, j] + s[p, j] * value[p, t]`` for every chord ``j``, stacked chord-major: row
    ``j * n + p`` (``credit``, ``value``: (n, T) in account units; ``intercept``, ``slope``: (n * CHORDS,))."""
    repeat = sp.vstack([sp.identity(max(n, 1), format="csr")] * CHORDS).tocsr()

    def column(p: cp.Parameter) -> cp.Expression:
        return cp.reshape(p, (p.shape[0], 1), order="F")

    return repeat @ credit <= column(intercept) + cp.multiply(column(slope), repeat @ value)
