"""Replay sources (``state.replay.SnapshotSource``) over a database and over an archive.

The database source reads in small chunks by row id, each chunk its own read: a replay of
a live database never holds a read transaction open (which would keep the WAL from being
checkpointed) and sees rows the strategy writes while it plays.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Final

from state.replay import StoredSnapshot
from strategy.store._archive import read_archive, read_headers
from strategy.store._codec import time_from_text, time_to_ms
from strategy.store._sqlite import MaintenanceError, connect

__all__ = ["ArchiveSnapshotSource", "DbSnapshotSource"]

# Rows per read: a few hundred documents of a few KiB, a fraction of a millisecond each.
_CHUNK: Final = 256
_COLUMNS: Final = "id, strategy, seq, taken_at, reason, payload"


def _stored(row: sqlite3.Row) -> StoredSnapshot:
    return StoredSnapshot(
        row["strategy"],
        int(row["seq"]),
        time_from_text(row["taken_at"]),
        row["reason"],
        bytes(row["payload"]),
        int(row["id"]),
    )


class DbSnapshotSource:
    """The ``dashboard_snapshots`` of one database file, opened read-only.

    Args:
        path: the database.
        strategy: only this strategy's rows. Defaults to every strategy.

    Raises:
        MaintenanceError: no such database, or no snapshots (of ``strategy``) in it.
    """

    def __init__(self, path: str | os.PathLike[str], strategy: str | None = None) -> None:
        self.path = Path(path)
        self.strategy = strategy
        self._strategies = self._read_strategies()
        if not self._strategies:
            of = f" of {strategy!r}" if strategy else ""
            raise MaintenanceError(f"{self.path} holds no snapshots{of}")

    def describe(self) -> str:
        return f"db {self.path}"

    def strategies(self) -> list[str]:
        return list(self._strategies)

    def _read_strategies(self) -> list[str]:
        conn = connect(self.path, readonly=True)
        try:
            if self.strategy is not None:
                found = conn.execute(
                    "SELECT 1 FROM dashboard_snapshots WHERE strategy = ? LIMIT 1",
                    (self.strategy,),
                ).fetchone()
                return [self.strategy] if found else []
            rows = conn.execute(
                "SELECT DISTINCT strategy FROM dashboard_snapshots ORDER BY strategy"
            ).fetchall()
            return [r["strategy"] for r in rows]
        finally:
            conn.close()

    def rows(self, since: datetime | None, until: datetime | None) -> Iterator[StoredSnapshot]:
        conn = connect(self.path, readonly=True)
        try:
            initial: list[sqlite3.Row] = []
            if since is not None:
                for strategy in self._strategies:
                    row = conn.execute(
                        f"SELECT {_COLUMNS} FROM dashboard_snapshots "
                        "WHERE strategy = ? AND taken_at_ms <= ? ORDER BY id DESC LIMIT 1",
                        (strategy, time_to_ms(since)),
                    ).fetchone()
                    if row is not None:
                        initial.append(row)
            for row in sorted(initial, key=lambda r: int(r["id"])):
                yield _stored(row)
            where = ["id > ?"]
            params: list[str | int] = []
            if self.strategy is not None:
                where.append("strategy = ?")
                params.append(self.strategy)
            if since is not None:
                where.append("taken_at_ms > ?")
                params.append(time_to_ms(since))
            if until is not None:
                where.append("taken_at_ms <= ?")
                params.append(time_to_ms(until))
            sql = (
                f"SELECT {_COLUMNS} FROM dashboard_snapshots WHERE {' AND '.join(where)} "
                f"ORDER BY id LIMIT {_CHUNK}"
            )
            last_id = -1
            while True:
                chunk = conn.execute(sql, (last_id, *params)).fetchall()
                for row in chunk:
                    yield _stored(row)
                if len(chunk) < _CHUNK:
                    return
                last_id = int(chunk[-1]["id"])
        finally:
            conn.close()


class ArchiveSnapshotSource:
    """The rows of one archive written by ``dash db prune --archive``.

    Args:
        path: the ``.ndjson.gz`` file.
        strategy: only this strategy's rows. Defaults to every strategy.

    Raises:
        MaintenanceError: unreadable, or no rows (of ``strategy``) in it.
    """

    def __init__(self, path: str | os.PathLike[str], strategy: str | None = None) -> None:
        self.path = Path(path)
        self.strategy = strategy
        seen: dict[str, None] = {}
        for name, _ in read_headers(self.path):
            if strategy is None or name == strategy:
                seen[name] = None
        self._strategies = list(seen)
        if not self._strategies:
            of = f" of {strategy!r}" if strategy else ""
            raise MaintenanceError(f"{self.path} holds no snapshots{of}")

    def describe(self) -> str:
        return f"archive {self.path}"

    def strategies(self) -> list[str]:
        return list(self._strategies)

    def rows(self, since: datetime | None, until: datetime | None) -> Iterator[StoredSnapshot]:
        since_ms = None if since is None else time_to_ms(since)
        until_ms = None if until is None else time_to_ms(until)
        latest: dict[str, StoredSnapshot] = {}
        started = since_ms is None
        for row in read_archive(self.path):
            if self.strategy is not None and row.strategy != self.strategy:
                continue
            if since_ms is not None and row.taken_at_ms <= since_ms:
                if not started:
                    latest[row.strategy] = row.stored()
                continue
            if until_ms is not None and row.taken_at_ms > until_ms:
                continue
            if not started:
                started = True
                yield from latest.values()
            yield row.stored()
        if not started:
            yield from latest.values()
