"""The layout's (asset, account) pairs, concentration limits and curved pairs, built account by account with
arrays (program/_layout.py), name the same pairs as the problem's resolved terms, on every fixture and on a
generated book with thousands of limits."""

from __future__ import annotations

import pytest
from helpers import PROBLEM_FILES, PROBLEMS

from allocator.io.generate import generate_problem
from allocator.io.loading import load_problem
from allocator.program._layout import Layout

BOOKS = PROBLEM_FILES


def expected_pairs(problem):
    return [(a, k.id) for k in problem.accounts for a in problem.terms[k.id].eligible]


def check(problem) -> None:
    layout = Layout.from_problem(problem)
    pairs = [(layout.assets[a], layout.accounts[k]) for a, k in zip(layout.pair_asset, layout.pair_account,
                                                                      strict=True)]
    assert pairs == expected_pairs(problem)
    limits = [pairs[p] for p in layout.limit_pair]
    assert limits == [(a, k.id) for k in problem.accounts for a in k.concentration]
    curved = [pairs[p] for p in layout.curve_pairs]
    assert curved == [(a, k) for a, k in pairs if a in problem.terms[k].curves]


@pytest.mark.parametrize("name", BOOKS)
def test_fixture_pairs(name):
    check(load_problem(PROBLEMS / name))


def test_generated_book_with_limits():
    problem = generate_problem(60, 2, 8, seed=3, topology="hub")
    assert sum(len(k.concentration) for k in problem.accounts) > 50
    check(problem)
