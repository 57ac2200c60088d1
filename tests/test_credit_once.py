"""One collateral valuation and one chord table (issue 12): the transition prices postings and draws chords with
program/_credit.py, so a subset of pairs, a (P, T) block and the transition's chords agree with the program's own."""

from __future__ import annotations

import numpy as np
import pytest
from test_transition_curves import by_hand, curved_tiny

from allocator.program._credit import CHORDS, chord_table, credit, inventory
from allocator.program._layout import Layout
from allocator.program._numbers import Numbers
from allocator.transition import _curves as curves
from allocator.venues.collateral.curve import evaluate_chords


def arrays() -> tuple[Layout, Numbers]:
    problem = curved_tiny()
    layout = Layout.from_problem(problem)
    return layout, Numbers.from_problem(problem, layout)


def test_credit_of_some_pairs_and_of_a_block_is_the_credit_of_every_pair():
    """The floor repair prices one account's pairs, the replay a (P, T) block: each is the per-pair credit, the
    curve by hand for the curved pair and (1 - h) v for the flat ones."""
    layout, numbers = arrays()
    pairs = len(layout.pair_asset)
    value = np.linspace(1e6, 8e6, pairs)
    full = credit(numbers, value.copy())
    (curved,) = layout.curve_pairs
    assert full[curved] == pytest.approx(by_hand(value[curved]), rel=1e-12)
    flat = np.setdiff1d(np.arange(pairs), [curved])
    assert np.array_equal(full[flat], (1.0 - numbers.haircut[flat]) * value[flat])
    some = np.array([curved, *flat[:1]])
    assert np.array_equal(credit(numbers, value[some], some), full[some])
    block = np.stack([value, 0.5 * value, np.zeros(pairs)], axis=1)
    assert np.array_equal(credit(numbers, block), np.stack([credit(numbers, column.copy()) for column in block.T],
                                                           axis=1))


def test_the_transition_chords_are_the_program_chords_with_today_as_a_breakpoint():
    """Nothing is posted at the exchange today and no venue trades: the transition's chords credit what the
    program's credit, to rounding, on the whole inventory, and never more than the curve."""
    layout, numbers = arrays()
    own_c, own_s = chord_table(layout, numbers)
    c, s = curves.chord_table(layout, numbers, np.array([], dtype=int))
    assert c.shape == s.shape == own_c.shape == (1, CHORDS)
    upto = float(inventory(layout, numbers)[layout.pair_asset[layout.curve_pairs[0]]])
    grid = np.linspace(0.0, upto, 201)
    program = evaluate_chords(own_c[0], own_s[0], grid)
    transition = evaluate_chords(c[0], s[0], grid)
    assert transition == pytest.approx(program, rel=1e-9, abs=1e-6)
    assert np.all(transition <= by_hand(grid) + 1e-6)
