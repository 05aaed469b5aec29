"""Read-only JSON values for the snapshot document, and the conversions into them.

The document is shared by every reader and every subscriber without copying, so it has to
be immutable all the way down. ``FrozenDict``/``FrozenList`` subclass ``dict``/``list``
so orjson serialises them natively and ``==`` against plain dicts and lists still works;
every mutating method raises. Conversion happens once, when a value enters the document:
``Decimal`` becomes its string, ``datetime`` an ISO-8601 UTC string with milliseconds and
a ``Z`` suffix, and ``None`` inside a mapping means "absent" (RFC 7396 reserves ``null``
for deletion, so the document never holds one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, NoReturn, SupportsIndex

__all__ = [
    "FrozenDict",
    "FrozenList",
    "freeze",
    "freeze_dict",
    "iso_utc",
    "jsonable",
    "parse_utc",
]

_READ_ONLY = "snapshot documents are read-only; use Snapshot.to_dict() for a mutable copy"


def _refuse(*_args: object, **_kwargs: object) -> NoReturn:
    raise TypeError(_READ_ONLY)


class FrozenDict(dict[str, Any]):
    """A ``dict`` that refuses every mutation after construction."""

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> NoReturn:
        _refuse()

    def __delitem__(self, key: str) -> NoReturn:
        _refuse()

    def __ior__(self, other: object) -> NoReturn:  # type: ignore[misc]
        _refuse()

    def clear(self) -> NoReturn:
        _refuse()

    def pop(self, *args: object) -> NoReturn:
        _refuse()

    def popitem(self) -> NoReturn:
        _refuse()

    def setdefault(self, *args: object) -> NoReturn:
        _refuse()

    def update(self, *args: object, **kwargs: object) -> NoReturn:
        _refuse()

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        # The default dict-subclass pickling refills the object item by item; rebuild
        # it whole instead so copy/pickle work.
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A ``list`` that refuses every mutation after construction."""

    __slots__ = ()

    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        _refuse()

    def __delitem__(self, index: Any) -> NoReturn:
        _refuse()

    def __iadd__(self, other: Iterable[Any]) -> NoReturn:  # type: ignore[misc]
        _refuse()

    def __imul__(self, n: SupportsIndex) -> NoReturn:
        _refuse()

    def append(self, value: Any) -> NoReturn:
        _refuse()

    def extend(self, values: Iterable[Any]) -> NoReturn:
        _refuse()

    def insert(self, index: SupportsIndex, value: Any) -> NoReturn:
        _refuse()

    def pop(self, index: SupportsIndex = -1) -> NoReturn:
        _refuse()

    def remove(self, value: Any) -> NoReturn:
        _refuse()

    def clear(self) -> NoReturn:
        _refuse()

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()

    def reverse(self) -> NoReturn:
        _refuse()

    def __reduce__(self) -> tuple[type[FrozenList], tuple[list[Any]]]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


EMPTY = FrozenDict()

_ATOMS: frozenset[type] = frozenset({str, int, bool, FrozenDict, FrozenList})
"""Types stored as they are (frozen containers are already converted and immutable)."""


def _iso_format(when: datetime) -> str:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: documents carry aware UTC times only")
    if when.utcoffset():
        when = when.astimezone(UTC)
    return (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:"
        f"{when.second:02d}.{when.microsecond // 1000:03d}Z"
    )


# Cached: every cycle re-puts the same opened_at / next_funding times; a hit costs a
# C-level dict lookup instead of a format.
iso_utc = lru_cache(maxsize=4096)(_iso_format)
iso_utc.__doc__ = "``2023-06-01T08:00:00.000Z``: the one timestamp format of every document."


def parse_utc(text: str) -> datetime | None:
    """An ISO-8601 time read back as an aware UTC datetime (no offset means UTC), or
    ``None`` when ``text`` is not one: callers say what they expected in their own
    words (a stored ``ts``, a seek's ``to``)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def freeze(value: object) -> Any:
    """Convert ``value`` into a read-only, JSON-safe document value.

    Already-frozen containers are returned as they are, so re-putting a value read from a
    snapshot costs nothing. Mapping keys must be strings; that is checked when the value
    is first encoded (every value enters the document through a patch that is encoded at
    commit), not here, to keep this hot path to one comprehension per object.
    """
    t = type(value)
    if t in _ATOMS:
        return value
    if t is dict:
        return freeze_dict(value)  # type: ignore[arg-type]
    if t is Decimal:
        return str(value)
    return _freeze_other(value)


def freeze_dict(d: Mapping[str, Any]) -> FrozenDict:
    """:func:`freeze` for a mapping, dispatching the common member types inline."""
    return FrozenDict(
        {
            k: v
            if (t := type(v)) in _ATOMS
            else str(v)
            if t is Decimal
            else freeze_dict(v)
            if t is dict
            else iso_utc(v)
            if t is datetime
            else _freeze_other(v)
            for k, v in d.items()
            if v is not None
        }
    )


def _freeze_other(value: object) -> Any:
    t = type(value)
    if t is datetime:
        return iso_utc(value)
    if t is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(f"non-finite float {value!r} has no JSON form")
        return value
    if t is list or t is tuple:
        return FrozenList(
            [v if type(v) in _ATOMS else freeze(v) for v in value]  # type: ignore[attr-defined]
        )
    if isinstance(value, Mapping):
        return freeze_dict(value)
    if isinstance(value, list | tuple):
        return FrozenList([freeze(v) for v in value])
    return _scalar(value)


def jsonable(value: object) -> Any:
    """Like :func:`freeze` but plain and mutable, keeping ``None``: for notice payloads."""
    t = type(value)
    if value is None or t is str or t is int or t is bool:
        return value
    if t is Decimal:
        return str(value)
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if t is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(f"non-finite float {value!r} has no JSON form")
        return value
    return _scalar(value)


def _key(key: object) -> str:
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str(key)
    raise TypeError(f"document keys must be strings, got {key!r}")


def _scalar(value: object) -> Any:
    if isinstance(value, Enum):
        return freeze(value.value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, float):
        return freeze(float(value))
    raise TypeError(f"{type(value).__name__} {value!r} cannot go into a snapshot document")
