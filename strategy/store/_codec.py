"""Text forms of Decimals and times as the database stores them.

Money goes in as ``str(Decimal)`` so it comes back bit-for-bit (exponent included), and
times go in as fixed-width ISO-8601 UTC text with milliseconds and ``Z``, so that text
order is time order and ``MAX(funding_time)`` means "latest". An integer millisecond twin
column carries the same instant for range queries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

__all__ = [
    "dec_from_text",
    "dec_to_text",
    "ms_to_time",
    "opt_dec_from_text",
    "opt_dec_to_text",
    "opt_time_from_text",
    "opt_time_to_ms",
    "opt_time_to_text",
    "time_from_text",
    "time_to_ms",
    "time_to_text",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def dec_to_text(value: Decimal) -> str:
    return str(value)


def dec_from_text(text: str) -> Decimal:
    return Decimal(text)


def opt_dec_to_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def opt_dec_from_text(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def time_to_text(value: datetime) -> str:
    """``2023-06-01T08:00:00.000Z``; sub-millisecond digits are dropped (floor)."""
    d = value.astimezone(UTC)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T"
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}.{d.microsecond // 1000:03d}Z"
    )


def time_from_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def opt_time_to_text(value: datetime | None) -> str | None:
    return None if value is None else time_to_text(value)


def opt_time_from_text(text: str | None) -> datetime | None:
    return None if text is None else time_from_text(text)


def time_to_ms(value: datetime) -> int:
    """Exact integer milliseconds since the epoch (floor, like :func:`time_to_text`)."""
    return (value - _EPOCH) // _ONE_MS


def opt_time_to_ms(value: datetime | None) -> int | None:
    return None if value is None else time_to_ms(value)


def ms_to_time(ms: int) -> datetime:
    return _EPOCH + ms * _ONE_MS
