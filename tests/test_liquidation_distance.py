"""The liquidation distance's closed form for accounts whose equity is linear in the move (solve/_liquidation.py)
lands where Brent's method does, inside the searched range and outside it."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.solve._liquidation import HIGHEST, LOWEST, _nearest_root


@pytest.mark.parametrize("seed", range(5))
def test_the_closed_form_root_is_brents(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for intercept, slope in zip(rng.uniform(-1e6, 1e7, 200), rng.uniform(-1e8, 1e8, 200), strict=True):
        def gap(move: float, intercept: float = intercept, slope: float = slope) -> float:
            return intercept + slope * move

        closed, brent = _nearest_root(gap, linear=True), _nearest_root(gap)
        if brent is None:
            assert closed is None
        else:
            assert closed == pytest.approx(brent, abs=1e-9)


def test_edges_of_the_range() -> None:
    assert _nearest_root(lambda m: -1.0 + 0.0 * m, linear=True) == 0.0  # already under: no move needed
    assert _nearest_root(lambda m: 1.0 + 0.0 * m, linear=True) is None  # a flat book is never liquidated
    assert _nearest_root(lambda m: 1.0 + m / -LOWEST, linear=True) == pytest.approx(LOWEST)
    assert _nearest_root(lambda m: 1.0 - m / (2 * HIGHEST), linear=True) is None  # beyond +1,000%
    assert _nearest_root(lambda m: 1.0 + 0.5 * m, linear=True) is None  # would need a move below -100%
