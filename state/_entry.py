"""Convert an entry and diff it against the committed one in a single pass.

A monitoring cycle re-puts every open position, so this is the hot path of a commit:
walking a ~20-field document once, converting Decimals/datetimes as it goes, comparing
each member with the committed value, and emitting the new frozen entry and its merge
patch together costs about half of converting first and diffing after. Members that did
not change keep the committed object, so unchanged nested objects are shared between
versions and the next comparison of them stops at an identity check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from state._json import _ATOMS, FrozenDict, _freeze_other, freeze_dict, iso_utc
from state._patch import merge_patch_diff

__all__ = ["merge_entry", "put_entry"]

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
        t = type(value)
        if t is Decimal:
            value = str(value)
        elif t is dict:
            before = get(key)
            if type(before) is FrozenDict:
                kept += 1
                value, sub = _put(before, value)
                new[key] = value
                if sub:
                    patch[key] = sub
                continue
            value = freeze_dict(value)
        elif t not in _ATOMS:
            if value is None:
                continue
            value = iso_utc(value) if t is datetime else _freeze_other(value)
        before = get(key, _MISSING)
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
    need not rebuild the rest of the entry. The patch is ``{}`` (and the entry ``old``)
    when nothing changed.
    """
    if old is None:
        created = freeze_dict(changes)
        return created, created
    get = old.get
    new = dict(old)
    patch: dict[str, Any] = {}
    for key, value in changes.items():
        t = type(value)
        if t is Decimal:
            value = str(value)
        elif t is dict or t is FrozenDict:
            before = get(key)
            if type(before) is FrozenDict:
                merged, sub = merge_entry(before, value)
                if sub:
                    new[key] = merged
                    patch[key] = sub
                continue
            value = freeze_dict(value)
        elif t not in _ATOMS:
            if value is None:
                if key in new:
                    del new[key]
                    patch[key] = None
                continue
            value = iso_utc(value) if t is datetime else _freeze_other(value)
        before = get(key, _MISSING)
        if before is _MISSING or before != value:
            new[key] = patch[key] = value
    if not patch:
        return old, patch
    return FrozenDict(new), patch
