"""Safe reads of the snapshot document: a missing or malformed part reads as empty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tui.view._format import parse_time

__all__ = ["market_time", "section"]

_EMPTY: Mapping[str, Any] = {}


def section(doc: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    """``doc[key]`` when it is an object, else an empty mapping."""
    if doc is None:
        return _EMPTY
    value = doc.get(key)
    return value if isinstance(value, Mapping) else _EMPTY


def market_time(doc: Mapping[str, Any]) -> datetime | None:
    """The strategy's market clock (``clock``, else the commit time ``ts``): countdowns
    count from it, not from the wall clock, so a replay at 3600x reads right."""
    clock = doc.get("clock") or doc.get("ts")
    return parse_time(clock if isinstance(clock, str) else None)
