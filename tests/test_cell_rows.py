"""A result's targets kept as columns (results/cell_rows.py, as the marginal values are): the same rows, JSON and
frames as a list of Target rows, and far fewer objects for Python's garbage collector to traverse."""

from __future__ import annotations

import gc
import json

import numpy as np
import pandas as pd
import pytest

import allocator
from allocator.results.result import Diagnostics, Result, Target, Targets


@pytest.fixture(scope="module")
def result(desk):
    return allocator.optimize(desk)


def test_the_targets_are_the_held_cells_by_hand(result, desk):
    assert isinstance(result.targets, Targets)
    price = {a.id: a.price for a in desk.assets}
    today = {(h.asset, h.location): h.quantity for h in desk.holdings}
    rows = list(result.targets)
    assert all(isinstance(row, Target) for row in rows)
    for row in rows:
        assert row.value == pytest.approx(row.quantity * price[row.asset], rel=1e-12)
        assert row.initial_quantity == today.get((row.asset, row.location), 0.0)
        assert row.quantity > 0 or row.initial_quantity > 0
    held = {(r.asset, r.location) for r in rows}
    assert {cell for cell, q in today.items() if q > 0} <= held
    assert result.targets[0] == rows[0] and result.targets[-1] == rows[-1] and result.targets[1:] == rows[1:]
    assert result.targets == rows and result.targets != rows[:-1]


def test_json_and_frames_are_those_of_the_rows(result):
    data = json.loads(result.to_json())
    assert data["targets"] == [row.model_dump() for row in result.targets]
    again = Result.from_json(result.to_json())
    assert again == result and isinstance(again.targets, Targets)
    expected = pd.DataFrame([row.model_dump() for row in result.targets], columns=list(Target.model_fields))
    pd.testing.assert_frame_equal(result.targets_frame, expected)
    flat = result.to_frame("targets")
    pd.testing.assert_frame_equal(flat, expected, check_like=False)
    assert flat.attrs["units"]["quantity"] == "asset units"
    assert list(Targets.empty().frame().columns) == list(Target.model_fields)


def test_columns_are_read_only_and_complete():
    targets = Targets.of_cells(("BTC", "USDC"), ("a", "b"), np.array([1, 2]), quantity=np.array([1.0, 2.0]),
                               value=np.array([3.0, 2.0]), initial_quantity=np.array([0.0, 1.0]))
    assert [(t.asset, t.location) for t in targets] == [("BTC", "b"), ("USDC", "a")]
    with pytest.raises(ValueError):
        targets.columns["quantity"][0] = 5.0
    with pytest.raises(ValueError, match="initial_quantity"):
        Targets.of_cells(("BTC",), ("a",), np.array([0]), quantity=np.array([1.0]), value=np.array([1.0]))


def test_a_result_accepts_a_list_of_rows():
    diagnostics = Diagnostics(solver="HIGHS", status="optimal", phases=["cost"])
    rows = [Target(asset="BTC", location="cold", quantity=1.0, value=2.0, initial_quantity=0.0),
            {"asset": "ETH", "location": "hot", "quantity": 3, "value": 4, "initial_quantity": 1}]
    made = Result(status="optimal", currency="USD", targets=rows, diagnostics=diagnostics)
    assert [(t.asset, t.quantity) for t in made.targets] == [("BTC", 1.0), ("ETH", 3.0)]


def test_a_result_holds_few_objects(result):
    # before: two tracked objects per target row (the model and its fields-set), nine tenths of a result's objects
    gc.collect()
    held = len(gc.get_referents(result.targets))
    assert held < 10 and len(result.targets) > 10
