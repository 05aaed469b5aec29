"""RFC 7396 merge patches: the appendix examples, and diff/apply round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from state import FrozenDict, apply_merge_patch, freeze, merge_patch_diff

# RFC 7396, Appendix A: (original, patch, result).
RFC_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_EXAMPLES)
def test_apply_matches_rfc_appendix(original: Any, patch: Any, result: Any) -> None:
    before = repr(original)
    assert apply_merge_patch(original, patch) == result
    assert repr(original) == before, "apply_merge_patch must not modify its input"


def test_diff_emits_only_changed_members_and_nulls_for_removed() -> None:
    old = {"a": 1, "b": {"x": "1", "y": "2"}, "c": [1, 2], "gone": "x"}
    new = {"a": 1, "b": {"x": "1", "y": "3", "z": "4"}, "c": [1, 2, 3], "added": {"k": "v"}}
    assert merge_patch_diff(old, new) == {
        "b": {"y": "3", "z": "4"},
        "c": [1, 2, 3],
        "added": {"k": "v"},
        "gone": None,
    }
    assert merge_patch_diff(new, new) == {}


def test_diff_replaces_when_the_member_changes_type() -> None:
    assert merge_patch_diff({"a": {"x": 1}}, {"a": "flat"}) == {"a": "flat"}
    assert merge_patch_diff({"a": "flat"}, {"a": {"x": 1}}) == {"a": {"x": 1}}
    assert merge_patch_diff({"a": {"x": 1}}, {"a": {}}) == {"a": {"x": None}}


def test_diff_works_on_frozen_documents() -> None:
    old = freeze({"p": {"mark": "1", "risk": {"level": "ok", "reasons": []}}})
    new = freeze({"p": {"mark": "2", "risk": {"level": "ok", "reasons": ["x"]}}})
    assert isinstance(old, FrozenDict)
    assert merge_patch_diff(old, new) == {"p": {"mark": "2", "risk": {"reasons": ["x"]}}}


# JSON documents without nulls: the only kind the snapshot holds.
_leaf = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(max_size=5),
)
_keys = st.text(alphabet="abcdef", min_size=1, max_size=2)
_json = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=12,
)
_docs = st.dictionaries(_keys, _json, max_size=5)


@settings(max_examples=200, deadline=None)
@given(old=_docs, new=_docs)
def test_apply_of_diff_reproduces_the_target(old: dict[str, Any], new: dict[str, Any]) -> None:
    patch = merge_patch_diff(old, new)
    assert apply_merge_patch(old, patch) == new
    assert (patch == {}) == (old == new)
