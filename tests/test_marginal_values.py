"""A result's marginal values kept as columns (results/marginal.py): the same rows, JSON and frames as a list of
MarginalValue rows, without making the rows until they are read."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import allocator
from allocator.results.marginal import MarginalValue, MarginalValues
from allocator.results.result import Diagnostics, Result


@pytest.fixture(scope="module")
def result(desk):
    return allocator.optimize(desk)


def table() -> MarginalValues:
    # cells of 2 assets x 3 locations: cell = asset * 3 + location
    return MarginalValues.of_cells(("BTC", "USDC"), ("a", "b", "c"), np.array([1, 3, 5]), np.array([0.5, -2.0, 7.25]))


def test_rows_are_the_cells_names_and_values():
    rows = list(table())
    assert rows == [MarginalValue(asset="BTC", location="b", value=0.5),
                    MarginalValue(asset="USDC", location="a", value=-2.0),
                    MarginalValue(asset="USDC", location="c", value=7.25)]
    t = table()
    assert len(t) == 3
    assert t[0] == rows[0] and t[-1] == rows[-1] and t[1:] == rows[1:]
    with pytest.raises(IndexError):
        t[3]
    assert t == rows and t == table() and t != rows[:2]


def test_columns_are_read_only():
    t = table()
    with pytest.raises(ValueError):
        t.value[0] = 1.0


def test_frame_matches_the_rows():
    frame = table().frame()
    expected = pd.DataFrame([row.model_dump() for row in table()], columns=["asset", "location", "value"])
    pd.testing.assert_frame_equal(frame, expected)
    assert list(MarginalValues.empty().frame().columns) == ["asset", "location", "value"]


def test_a_result_keeps_the_rows_and_their_json(result):
    assert isinstance(result.marginal_values, MarginalValues)
    assert len(result.marginal_values) > 0
    data = json.loads(result.to_json())
    assert data["marginal_values"] == [row.model_dump() for row in result.marginal_values]
    again = Result.from_json(result.to_json())
    assert again == result
    assert isinstance(again.marginal_values, MarginalValues)
    assert again.marginal_values == list(result.marginal_values)
    frame = result.to_frame("marginal_values")
    assert list(frame.columns) == ["asset", "location", "marginal_value"]
    assert frame["marginal_value"].tolist() == [m.value for m in result.marginal_values]
    assert "marginal_value" in frame.attrs["units"]
    pd.testing.assert_frame_equal(result.marginal_values_frame, result.marginal_values.frame())


def test_a_result_accepts_a_list_of_rows_and_names_a_bad_one():
    diagnostics = Diagnostics(solver="HIGHS", status="optimal", phases=["cost"])
    rows = [MarginalValue(asset="BTC", location="cold", value=1.0), {"asset": "ETH", "location": "hot", "value": 2}]
    result = Result(status="optimal", currency="USD", marginal_values=rows, diagnostics=diagnostics)
    assert [(m.asset, m.location, m.value) for m in result.marginal_values] == [("BTC", "cold", 1.0),
                                                                               ("ETH", "hot", 2.0)]
    with pytest.raises(ValidationError) as caught:
        Result(status="optimal", currency="USD", diagnostics=diagnostics,
               marginal_values=[{"asset": "BTC", "location": "cold", "value": "lots"}])
    assert "marginal_values" in str(caught.value) and "value" in str(caught.value)
