"""What a replay reads: stored snapshot rows, from wherever they are kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["SnapshotSource", "StoredSnapshot"]


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """One ``dashboard_snapshots`` row: ``payload`` is the document as it was stored.

    ``row_id`` is the row's id in its database (write order), when known.
    """

    strategy: str
    seq: int
    taken_at: datetime
    reason: str
    payload: bytes
    row_id: int | None = None


class SnapshotSource(Protocol):
    """Stored snapshots of one database or archive, possibly narrowed to one strategy."""

    def describe(self) -> str:
        """A short label for logs and ``ping`` (``db /path/x.db``)."""
        ...

    def strategies(self) -> list[str]:
        """The strategies that have rows, in a stable order."""
        ...

    def rows(self, since: datetime | None, until: datetime | None) -> Iterator[StoredSnapshot]:
        """The replay of ``[since, until]``, in write order.

        First, per strategy, the newest row taken at or before ``since`` (the state at
        that instant), then every row with ``since < taken_at <= until``. Without
        ``since`` it is simply every row up to ``until``. Each call starts over.
        """
        ...
