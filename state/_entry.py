"""Convert an entry and diff it against the committed one in a single pass.

Every monitoring cycle writes every open position and market, so this is the hot path
of a commit. One pass per touched object converts each member (Decimal -> str, datetime
-> ISO ``Z``, ``None`` -> absent), compares it with the committed value and emits the new
frozen entry and its merge patch together. Strings are tested first: the strategy hands
over JSON-ready documents, so for nearly every member the conversion is one type check.
Members that did not change keep the committed object, so unchanged nested objects are
shared between versions and the next comparison of them stops at an identity check.
A member equal (``==``) to the committed one after conversion is unchanged, and the
committed value stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from state._json import _ATOMS, FrozenDict, _freeze_other, freeze_dict
from state._patch import merge_patch_diff

__all__ = ["apply_moved", "merge_entry", "put_entry"]

_MISSING: Any = object()


def put_entry(old: FrozenDict | None, raw: Mapping[str, Any]) -> tuple[FrozenDict, dict[str, Any]]:
    """``raw`` replaces ``old`` whole: the new frozen entry and the patch ``old -> new``.

    The patch is ``{}`` when nothing changed, and then the entry returned is ``old``.
    With no ``old`` the patch is the new entry itself.
    """
    if old is None:
        new = raw if type(raw) is FrozenDict else freeze_dict(raw)
        return new, new
    if type(raw) is FrozenDict:
        patch = merge_patch_diff(old, raw)
        return (raw if patch else old), patch
    return _put(old, raw)


def _put(old: FrozenDict, raw: Mapping[str, Any]) -> tuple[FrozenDict, dict[str, Any]]:
    get = old.get
    new: dict[str, Any] = {}
    patch: dict[str, Any] = {}
    kept = 0
    for key, value in raw.items():
        before = get(key, _MISSING)
        t = type(value)
        if t is not str:
            if t is dict:
                if type(before) is FrozenDict:
                    kept += 1
                    value, sub = _put(before, value)
                    new[key] = value
                    if sub:
                        patch[key] = sub
                    continue
                value = freeze_dict(value)
            elif t is Decimal:
                value = str(value)
            elif t not in _ATOMS:
                if value is None:
                    continue
                value = _freeze_other(value)
        if before is _MISSING:
            new[key] = patch[key] = value
            continue
        kept += 1
        if before == value:
            new[key] = before
        else:
            new[key] = patch[key] = value
    if kept != len(old):
        for key in old:
            if key not in new:
                patch[key] = None
    if not patch:
        return old, patch
    return FrozenDict(new), patch


def merge_entry(
    old: FrozenDict | None, changes: Mapping[str, Any]
) -> tuple[FrozenDict, dict[str, Any]]:
    """Apply ``changes`` to ``old`` with merge-patch rules (nested dicts merge, ``None``
    deletes, anything else replaces): the new frozen entry and the effective patch.

    Costs only what ``changes`` holds, so a monitor refresh that touches marks and PnL
    need not rebuild the rest of the entry. The patch is gathered first and the new entry
    is then made in one C-level merge (``old``, the patch, the merged nested objects);
    the patch is ``{}`` (and the entry ``old``) when nothing changed.
    """
    if old is None:
        created = freeze_dict(changes)
        return created, created
    get = old.get
    patch: dict[str, Any] = {}
    nested: dict[str, FrozenDict] | None = None
    removed = False
    for key, value in changes.items():
        t = type(value)
        if t is str:
            if get(key) != value:
                patch[key] = value
            continue
        if t is dict or t is FrozenDict:
            before = get(key)
            if type(before) is FrozenDict:
                # Inline the usual nested object (a leg, the PnL split: strings only);
                # anything else takes the general path.
                inner = before.get
                sub: dict[str, Any] = {}
                for k, v in value.items():
                    if type(v) is not str:
                        entry, sub = merge_entry(before, value)
                        break
                    if inner(k) != v:
                        sub[k] = v
                else:
                    if sub:
                        entry = FrozenDict({**before, **sub})
                if sub:
                    patch[key] = sub
                    if nested is None:
                        nested = {}
                    nested[key] = entry
                continue
            value = freeze_dict(value)
        elif value is None:
            if key in old:
                patch[key] = None
                removed = True
            continue
        else:
            if t is Decimal:
                value = str(value)
            elif t not in _ATOMS:
                value = _freeze_other(value)
            before = get(key, _MISSING)
            if before is not _MISSING and before == value:
                continue
        patch[key] = value
    if not patch:
        return old, patch
    if removed:
        new = dict(old)
        for key, value in patch.items():
            if value is None:
                del new[key]
            else:
                new[key] = value
        if nested is not None:
            new.update(nested)
        return FrozenDict(new), patch
    if nested is None:
        return FrozenDict({**old, **patch}), patch
    return FrozenDict({**old, **patch, **nested}), patch


def apply_moved(
    old: FrozenDict | None, changes: dict[str, Any]
) -> tuple[FrozenDict, dict[str, Any]]:
    """:func:`merge_entry` for ``changes`` the caller built from what moved.

    The strategy's document builder compares its *inputs* (marks, funding, fees) with
    the last committed ones and sends only the members they feed, as JSON-ready strings
    and string-valued objects. Comparing each of those with the committed string again
    is half the cost of a monitoring cycle's commit, so this applies them unchecked:
    ``changes`` is the patch (the state takes ownership of it). A member that renders
    the same as before (a mark that moved less than its last printed digit cannot; a
    rounded PnL can) is then a no-op member of the patch, which merge-patch semantics
    allow: applied, it leaves the document as the diff would have.

    Anything else (a deletion, a non-string, an object the entry does not hold yet, or
    no entry at all) takes :func:`merge_entry`.
    """
    if old is None:
        return merge_entry(old, changes)
    nested: dict[str, FrozenDict] | None = None
    for key, value in changes.items():
        t = type(value)
        if t is str:
            continue
        if t is dict:
            before = old.get(key)
            if type(before) is FrozenDict:
                for inner in value.values():
                    if type(inner) is not str:
                        return merge_entry(old, changes)
                if nested is None:
                    nested = {}
                nested[key] = FrozenDict({**before, **value})
                continue
        return merge_entry(old, changes)
    if not changes:
        return old, changes
    if nested is None:
        return FrozenDict({**old, **changes}), changes
    return FrozenDict({**old, **changes, **nested}), changes
