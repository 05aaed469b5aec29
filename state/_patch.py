"""RFC 7396 JSON merge patches: the diff between two documents and its application.

A merge patch is an object mirroring the document: a key holding an object recurses, any
other value replaces, and ``null`` deletes. Arrays are replaced whole. Because ``null``
means "delete", a member whose value is JSON ``null`` cannot be expressed; the snapshot
document therefore never holds one (an unknown value is an absent key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["apply_merge_patch", "merge_patch_diff"]


_MISSING: Any = object()


def merge_patch_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest merge patch turning ``old`` into ``new`` (``{}`` when they are equal).

    Members are compared by identity, then by (C-level, deep) equality, so only changed
    nested objects are walked; nested objects must be dicts (or dict subclasses) to be
    diffed member by member, any other value is replaced whole. Values from ``new`` go
    into the patch by reference. ``new`` must not hold ``None`` (it would read as delete).
    """
    get = old.get
    patch = {k: v for k, v in new.items() if (b := get(k, _MISSING)) is not v and b != v}
    added = 0
    for key, value in patch.items():
        before = get(key, _MISSING)
        if before is _MISSING:
            added += 1
        elif isinstance(value, dict) and isinstance(before, dict):
            patch[key] = merge_patch_diff(before, value)
    if len(old) != len(new) - added:
        for key in old:
            if key not in new:
                patch[key] = None
    return patch


def apply_merge_patch(doc: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``doc`` and return the result; ``doc`` itself is not modified.

    Follows the algorithm of RFC 7396 section 2: a non-object patch replaces the target,
    an object patch merges member by member, ``null`` removes a member.
    """
    if not isinstance(patch, Mapping):
        return patch
    result: dict[str, Any] = dict(doc) if isinstance(doc, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result
