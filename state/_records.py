"""What travels on the event bus: snapshots, changes, notices and resync markers.

All of them are shared between every subscriber without copying; treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from state._json import FrozenDict, jsonable

__all__ = ["BusItem", "Change", "Notice", "Resync", "Snapshot"]


def _wall_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """One committed version of a strategy's document.

    ``doc`` is deeply read-only (``FrozenDict``/``FrozenList``, which compare equal to
    plain dicts and lists); ``to_dict()`` gives a plain mutable copy. ``payload`` is the
    orjson encoding of ``doc``, computed on first use and then shared by every consumer.
    ``ts`` is the commit time (the state's ``now``), ``doc["ts"]`` its ISO string.
    """

    strategy: str
    seq: int
    ts: datetime
    doc: FrozenDict
    _payload: bytes | None = field(default=None, repr=False)

    @property
    def payload(self) -> bytes:
        payload = self._payload
        if payload is None:
            payload = orjson.dumps(self.doc)
            object.__setattr__(self, "_payload", payload)
        return payload

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable deep copy of the document (decoded from ``payload``)."""
        result: dict[str, Any] = orjson.loads(self.payload)
        return result


@dataclass(frozen=True, slots=True, eq=False)
class Change:
    """One committed change: the merge patch from ``prev`` (= seq - 1) to ``seq``.

    ``patch`` is shared by all subscribers and may hold parts of the document: do not
    mutate it. ``patch_bytes`` is its orjson encoding, made once at commit.
    ``significant`` lists the reasons the transaction flagged (for the flusher);
    ``reason`` is the label the transaction was opened with.
    """

    strategy: str
    seq: int
    prev: int
    ts: datetime
    patch: dict[str, Any]
    patch_bytes: bytes
    snapshot: Snapshot
    significant: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Notice:
    """A non-state event (command result, alert, strategy started, feed lost...).

    ``data`` is normalised at construction (Decimal -> str, datetime -> ISO ``Z``), so it
    is JSON-ready; unlike the document it may hold ``None``. ``ts`` defaults to wall time;
    the strategy passes its clock's market time.
    """

    strategy: str
    kind: str
    data: dict[str, Any]
    ts: datetime = field(default_factory=_wall_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", jsonable(self.data))


@dataclass(slots=True, eq=False)
class Resync:
    """Told to a subscriber whose queue overflowed: its pending changes for ``strategy``
    were dropped; start again from ``snapshot``.

    While a resync is still queued, later changes of the same strategy are folded into it
    (the bus swaps in the newer snapshot), so a slow reader catches up in one step. Once
    it has been handed out it no longer changes.
    """

    strategy: str
    snapshot: Snapshot

    @property
    def seq(self) -> int:
        return self.snapshot.seq


BusItem = Change | Notice | Resync
