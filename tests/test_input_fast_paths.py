"""The input checks' faster paths: the route-overlap check (inputs/checks.py) against the per-asset loop it
replaced, and ``Problem.model_validate`` through ``__init__``, which runs the cross-field checks once."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import PROBLEMS
from hypothesis import given, settings
from hypothesis import strategies as st

import allocator
from allocator.errors import InputError, InputIssue
from allocator.inputs import checks
from allocator.inputs.problem import Problem

ASSETS = ["A", "B", "C", "D", "E"]


def reference(routes: list[tuple[int, dict[str, Any]]], every_asset: list[str]) -> list[InputIssue]:
    """Each route claims its assets one by one (every asset when it lists none), in order; the first asset
    another route claimed before is reported and the route stops there."""
    issues = []
    owner: dict[tuple[str, str, str], int] = {}
    for index, row in routes:
        source, destination, listed = row.get("from"), row.get("to"), row.get("assets")
        if source is None or destination is None:
            continue
        for asset in listed if isinstance(listed, list) else every_asset:
            other = owner.setdefault((source, destination, str(asset)), index)
            if other != index:
                issues.append(InputIssue(f"routes[{index}]", f"overlaps routes[{other}] for {asset} "
                                         f"({source} -> {destination}); give each asset one route per direction",
                                         "duplicate_route"))
                break
    return issues


route = st.fixed_dictionaries({"from": st.sampled_from(["w", "x", None]), "to": st.sampled_from(["a", "b"]),
                               "assets": st.one_of(st.none(), st.lists(st.sampled_from(ASSETS + ["Z"]),
                                                                       max_size=4))})


@settings(max_examples=1_500, deadline=None)
@given(st.lists(route, max_size=8), st.integers(0, len(ASSETS)))
def test_overlapping_routes_are_the_per_asset_loops(rows, known):
    routes = list(enumerate(rows))
    every_asset = ASSETS[:known]
    assert checks._overlapping_routes(routes, every_asset) == reference(routes, every_asset)


def test_a_problem_is_cross_checked_once(monkeypatch):
    """pydantic runs a model's after-validators twice through ``model_validate`` when the model has its own
    ``__init__``; Problem.model_validate goes through ``__init__`` once."""
    data = allocator.load_problem(PROBLEMS / "desk.toml").model_dump(by_alias=True)
    calls = []
    original = checks.cross_field_issues
    monkeypatch.setattr("allocator.inputs.problem.cross_field_issues", lambda d: calls.append(1) or original(d))
    problem = Problem.model_validate(data)
    assert len(calls) == 1 and problem.model_dump(by_alias=True) == data


def test_a_key_named_like_init_arguments_is_an_unknown_field():
    """The data goes to ``__init__`` as keywords: a top-level ``self`` is an unknown field, not a TypeError."""
    data = allocator.load_problem(PROBLEMS / "desk.toml").model_dump(by_alias=True)
    with pytest.raises(InputError) as caught:
        Problem.model_validate({**data, "self": 1})
    assert [(issue.location, issue.code) for issue in caught.value.issues] == [("self", "unknown_field")]
