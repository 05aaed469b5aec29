"""Event lines built from bus items, each encoded once however many clients receive it.

With 1,000 subscribers a change must not be serialised 1,000 times: the patch line is
spliced from the ``patch_bytes`` the state encoded at commit, the snapshot line from the
snapshot's shared ``payload``, and the result is memoised per item. The cache holds the
item itself next to its line, so an identity check (not a seq, which a restarted state
could reuse) decides a hit.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from state import Change, Notice, Snapshot

__all__ = [
    "LineCache",
    "bye_line",
    "diff_patch_line",
    "heartbeat_line",
    "iso_time",
    "notice_line",
    "patch_line",
    "snapshot_line",
    "wall_time",
]

# Every subscriber handles a change within a few loop iterations of the others, so the
# cache only needs to span the changes in flight; misses just cost a re-encode.
_CACHE_ENTRIES: Final = 512


class LineCache:
    """Bounded memo ``(kind, item) -> encoded line``, keyed by item identity."""

    def __init__(self, size: int = _CACHE_ENTRIES) -> None:
        self._size = size
        self._lines: OrderedDict[tuple[str, int], tuple[object, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def patch(self, change: Change) -> bytes:
        key = ("patch", id(change))
        hit = self._lines.get(key)
        if hit is not None and hit[0] is change:
            self.hits += 1
            return hit[1]
        return self._store(key, change, patch_line(change))

    def snapshot(self, snapshot: Snapshot) -> bytes:
        key = ("snapshot", id(snapshot))
        hit = self._lines.get(key)
        if hit is not None and hit[0] is snapshot:
            self.hits += 1
            return hit[1]
        return self._store(key, snapshot, snapshot_line(snapshot, resync=False))

    def notice(self, notice: Notice) -> bytes:
        key = ("notice", id(notice))
        hit = self._lines.get(key)
        if hit is not None and hit[0] is notice:
            self.hits += 1
            return hit[1]
        return self._store(key, notice, notice_line(notice))

    def _store(self, key: tuple[str, int], item: object, line: bytes) -> bytes:
        self.misses += 1
        lines = self._lines
        lines[key] = (item, line)
        if len(lines) > self._size:
            lines.popitem(last=False)
        return line


def patch_line(change: Change) -> bytes:
    return b"".join(
        (
            b'{"type":"event","event":"patch","strategy":',
            orjson.dumps(change.strategy),
            b',"seq":%d,"prev":%d,"ts":' % (change.seq, change.prev),
            orjson.dumps(change.snapshot.doc["ts"]),
            b',"patch":',
            change.patch_bytes,
            b"}\n",
        )
    )


def diff_patch_line(strategy: str, prev: int, snapshot: Snapshot, patch: dict[str, Any]) -> bytes:
    """A patch spanning several changes (``prev < seq - 1``), for rate-limited feeds."""
    return b"".join(
        (
            b'{"type":"event","event":"patch","strategy":',
            orjson.dumps(strategy),
            b',"seq":%d,"prev":%d,"ts":' % (snapshot.seq, prev),
            orjson.dumps(snapshot.doc["ts"]),
            b',"patch":',
            orjson.dumps(patch),
            b"}\n",
        )
    )


def snapshot_line(snapshot: Snapshot, *, resync: bool) -> bytes:
    return b"".join(
        (
            b'{"type":"event","event":"snapshot","strategy":',
            orjson.dumps(snapshot.strategy),
            b',"seq":%d,"resync":%s,"snapshot":' % (snapshot.seq, b"true" if resync else b"false"),
            snapshot.payload,
            b"}\n",
        )
    )


def notice_line(notice: Notice) -> bytes:
    return (
        orjson.dumps(
            {
                "type": "event",
                "event": notice.kind,
                "strategy": notice.strategy,
                "ts": iso_time(notice.ts),
                "data": notice.data,
            }
        )
        + b"\n"
    )


def heartbeat_line(seqs: dict[str, int]) -> bytes:
    return (
        orjson.dumps({"type": "event", "event": "heartbeat", "time": wall_time(), "seq": seqs})
        + b"\n"
    )


def bye_line(reason: str, message: str) -> bytes:
    return (
        orjson.dumps({"type": "event", "event": "bye", "reason": reason, "message": message})
        + b"\n"
    )


def wall_time() -> str:
    return iso_time(datetime.now(UTC))


def iso_time(when: datetime) -> str:
    """``2023-06-01T08:00:00.000Z``, the documents' format.

    Not ``state.iso_utc``: that one is memoised for the document's repeating timestamps,
    and wall-clock stamps would only churn its cache.
    """
    when = when.astimezone(UTC)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"
