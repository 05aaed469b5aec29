"""Times and spans on the command line: ISO-8601 times and durations like ``30d``, ``1h30m``.

Standard library only, so the commands that use it stay quick to start.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["parse_age", "parse_duration", "parse_time"]

_UNITS: Final = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|[wdhms])")
_WHOLE: Final = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|[wdhms]))+")


def parse_duration(text: str) -> timedelta:
    """``30d``, ``1h``, ``15m``, ``90s``, ``1h30m``, ``2w``, ``1.5h``.

    Raises:
        ValueError: anything else, or a zero span.
    """
    word = text.strip().lower()
    if not _WHOLE.fullmatch(word):
        raise ValueError(
            f"{text!r} is not a duration (a number and a unit: w, d, h, m, s, ms; e.g. 30d, 1h30m)"
        )
    span = sum(
        (float(number) * _UNITS[unit] for number, unit in _PART.findall(word)), timedelta()
    )
    if span <= timedelta(0):
        raise ValueError(f"{text!r} is an empty duration")
    return span


def parse_time(text: str) -> datetime:
    """An ISO-8601 date or time; ``Z`` or an offset, or none for UTC.

    Raises:
        ValueError: not an ISO-8601 time.
    """
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 time (e.g. 2024-03-01 or 2024-03-01T08:00:00Z)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_age(text: str) -> timedelta | datetime:
    """A duration (``30d``: older than that) or an ISO time (older than that instant)."""
    try:
        return parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (30d, 12h) nor an ISO-8601 time"
        ) from None
