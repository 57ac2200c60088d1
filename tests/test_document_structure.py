"""The structure check of a parsed file (io/documents.py: too deep, repeated JSON keys) against the walk over every
value it replaced, on random documents."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.errors import InputIssue
from allocator.io import documents
from allocator.io.documents import _Object, format_location

DEPTH = 3


def reference(data: Any, where: str) -> list[InputIssue]:
    """Every value visited, depth-first from the last member; the first one deeper than DEPTH ends the walk."""
    issues: list[InputIssue] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > DEPTH:
            return [InputIssue(where, f"is nested too deeply (more than {DEPTH} levels, at "
                               f"{format_location(path[:4])}...)", "too_deep")]
        if isinstance(value, dict):
            for key in getattr(value, "repeated", ()):
                issues.append(InputIssue(format_location((*path, key)), f"the key {key!r} is given twice in one "
                                         "object; keep one (a JSON reader would silently use the last)",
                                         "duplicate_key"))
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return sorted(issues, key=lambda issue: issue.location)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return _Object.of(pairs)  # repeated keys recorded as the JSON reader records them


documents_ = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=2)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), inner), max_size=4).map(_object)),
    max_leaves=25)


@settings(max_examples=2_000, deadline=None)
@given(documents_)
def test_the_structure_check_is_the_walk_over_every_value(data):
    with patch.object(documents, "MAX_DEPTH", DEPTH):
        assert documents._structure_issues(data, "file") == reference(data, "file")


def test_the_documents_drawn_can_be_too_deep_or_repeat_keys():
    """What the property compares is there to compare: both issues, from both walks."""
    deep = {"a": [[{"b": 1}]]}
    repeated = {"x": [_object([("a", 1), ("a", 2)])]}
    with patch.object(documents, "MAX_DEPTH", DEPTH):
        for data, code in ((deep, "too_deep"), (repeated, "duplicate_key")):
            assert [i.code for i in documents._structure_issues(data, "f")] == [code]
            assert documents._structure_issues(data, "f") == reference(data, "f")
