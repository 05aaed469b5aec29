"""The single-pass put/merge of an entry equals "convert, then apply, then diff".

``put_entry``/``merge_entry`` convert, compare and build the patch in one pass with fast
paths for JSON-ready strings; these properties hold them to the plain definition:
``put`` = ``freeze`` the new entry and ``merge_patch_diff`` against the old one, ``merge``
= ``apply_merge_patch`` of the converted changes and the diff of that.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from state import FrozenDict, apply_merge_patch, freeze, jsonable, merge_patch_diff
from state._entry import apply_moved, merge_entry, put_entry

_KEYS = st.sampled_from(["a", "b", "c", "mark", "pnl"])
_T0 = datetime(2024, 3, 1, tzinfo=UTC)
_LEAF = st.one_of(
    st.sampled_from(["", "x", "1", "1.0", "60000.5"]),
    st.integers(-2, 2),
    st.booleans(),
    st.floats(-2, 2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-2, max_value=2, places=1, allow_nan=False, allow_infinity=False),
    st.integers(0, 3).map(lambda n: _T0 + timedelta(milliseconds=n)),
    st.lists(st.sampled_from(["x", "y"]), max_size=2),
    st.tuples(st.sampled_from(["x", "y"])),
)
_VALUE = st.recursive(
    st.one_of(_LEAF, st.none()),
    lambda inner: st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=8,
)
_DOC = st.dictionaries(_KEYS, _VALUE, max_size=5)


def _frozen(doc: dict[str, Any]) -> FrozenDict:
    entry = freeze(doc)
    assert isinstance(entry, FrozenDict)
    return entry


@settings(max_examples=400, deadline=None)
@given(old=_DOC, raw=_DOC, frozen_input=st.booleans())
def test_put_is_freeze_then_diff(old: dict[str, Any], raw: dict[str, Any],
                                 frozen_input: bool) -> None:
    committed = _frozen(old)
    expected = _frozen(raw)
    new, patch = put_entry(committed, expected if frozen_input else raw)
    assert new == expected
    assert patch == merge_patch_diff(committed, expected)
    if not patch:
        assert new is committed
    assert put_entry(None, raw) == (expected, expected)


@settings(max_examples=400, deadline=None)
@given(old=_DOC, changes=_DOC)
def test_merge_is_apply_then_diff(old: dict[str, Any], changes: dict[str, Any]) -> None:
    committed = _frozen(old)
    expected = apply_merge_patch(committed, jsonable(changes))
    new, patch = merge_entry(committed, changes)
    assert isinstance(new, FrozenDict)
    assert new == expected
    assert patch == merge_patch_diff(committed, expected)
    if not patch:
        assert new is committed
    # unchanged nested objects are shared with the committed entry, not copied
    for key, value in new.items():
        if isinstance(value, dict) and key not in patch:
            assert value is committed[key]


def test_json_ready_members_take_the_fast_path_with_the_same_result() -> None:
    committed = _frozen({"long": {"venue": "binance", "mark": "60000", "pnl": "1.00"},
                         "qty": "0.1", "n": 1})
    changes = {"long": {"mark": "60001", "pnl": "1.00"}, "qty": "0.1", "n": 1}
    new, patch = merge_entry(committed, changes)
    assert patch == {"long": {"mark": "60001"}}
    assert new == {"long": {"venue": "binance", "mark": "60001", "pnl": "1.00"},
                   "qty": "0.1", "n": 1}
    # a nested change that is not all strings takes the general path
    new, patch = merge_entry(committed, {"long": {"mark": Decimal("60001.0"), "pnl": None}})
    assert patch == {"long": {"mark": "60001.0", "pnl": None}}
    assert new["long"] == {"venue": "binance", "mark": "60001.0"}


_TEXT = st.sampled_from(["", "x", "1", "1.0", "60000.5"])
_MOVED = st.dictionaries(
    _KEYS, st.one_of(_TEXT, st.dictionaries(_KEYS, _TEXT, max_size=3), _LEAF, st.none()),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(old=_DOC, changes=_MOVED)
def test_applying_moved_members_lands_where_the_merge_does(
    old: dict[str, Any], changes: dict[str, Any]
) -> None:
    """Unchecked or not, the entry is the merge's; the patch may name members that did
    not change, but applied to the committed entry it gives exactly the new one."""
    committed = _frozen(old)
    expected, _ = merge_entry(committed, dict(changes))
    new, patch = apply_moved(committed, dict(changes))
    assert isinstance(new, FrozenDict)
    assert new == expected
    assert apply_merge_patch(committed, patch) == new
    assert all(isinstance(v, FrozenDict) for v in new.values() if isinstance(v, dict))


def test_moved_strings_are_applied_unchecked_and_the_rest_takes_the_merge() -> None:
    committed = _frozen({"long": {"venue": "binance", "mark": "60000", "pnl": "1.00"},
                         "qty": "0.1"})
    changes = {"long": {"mark": "60001", "pnl": "1.00"}, "qty": "0.1"}
    new, patch = apply_moved(committed, changes)
    assert patch is changes  # the caller's patch, no-op members and all
    assert new == {"long": {"venue": "binance", "mark": "60001", "pnl": "1.00"}, "qty": "0.1"}
    # a deletion is not a plain string: the checked merge drops what did not change
    new, patch = apply_moved(committed, {"qty": "0.1", "long": {"pnl": None}})
    assert patch == {"long": {"pnl": None}}
    assert new["long"] == {"venue": "binance", "mark": "60000"}
