"""``dash db stats``: what takes room in the database, and how fast snapshots arrive."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from strategy.store._codec import ms_to_time, time_to_text
from strategy.store._sqlite import connect
from strategy.store.schema import TABLES

__all__ = ["DbStats", "TableStats", "db_stats"]

_HOUR_MS: Final = 3_600_000


@dataclass(frozen=True, slots=True)
class TableStats:
    """Rows, and bytes on disk including the table's indexes (``None`` when SQLite was
    built without the ``dbstat`` table)."""

    name: str
    rows: int
    bytes: int | None


@dataclass(slots=True)
class DbStats:
    """Sizes of one database file; ``hourly`` counts snapshot rows per hour over the day
    ending with the newest snapshot (market time), oldest hour first."""

    path: str
    file_bytes: int = 0
    wal_bytes: int = 0
    page_size: int = 0
    pages: int = 0
    free_pages: int = 0
    tables: list[TableStats] = field(default_factory=list)
    snapshots_by_strategy: dict[str, int] = field(default_factory=dict)
    snapshots_by_reason: dict[str, int] = field(default_factory=dict)
    oldest_snapshot: datetime | None = None
    newest_snapshot: datetime | None = None
    hourly: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return self.file_bytes + self.wal_bytes

    @property
    def free_bytes(self) -> int:
        """Space inside the file that ``VACUUM`` would give back."""
        return self.free_pages * self.page_size

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "file_bytes": self.file_bytes,
            "wal_bytes": self.wal_bytes,
            "total_bytes": self.total_bytes,
            "page_size": self.page_size,
            "pages": self.pages,
            "free_bytes": self.free_bytes,
            "tables": {t.name: {"rows": t.rows, "bytes": t.bytes} for t in self.tables},
            "snapshots_by_strategy": self.snapshots_by_strategy,
            "snapshots_by_reason": self.snapshots_by_reason,
            "oldest_snapshot": _text(self.oldest_snapshot),
            "newest_snapshot": _text(self.newest_snapshot),
            "hourly": [{"hour": time_to_text(h), "rows": n} for h, n in self.hourly],
        }


def _text(when: datetime | None) -> str | None:
    return None if when is None else time_to_text(when)


def _table_bytes(conn: sqlite3.Connection) -> dict[str, int] | None:
    try:
        rows = conn.execute(
            "SELECT s.tbl_name AS name, SUM(d.pgsize) AS bytes "
            "FROM dbstat AS d JOIN sqlite_schema AS s ON d.name = s.name GROUP BY s.tbl_name"
        ).fetchall()
    except sqlite3.OperationalError:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
        return None
    return {r["name"]: int(r["bytes"]) for r in rows}


def db_stats(path: str | os.PathLike[str], *, strategy: str | None = None) -> DbStats:
    """Measure ``path`` (read-only). ``strategy`` narrows the snapshot figures only."""
    file = Path(path)
    conn = connect(file, readonly=True)
    stats = DbStats(str(file))
    try:
        stats.file_bytes = file.stat().st_size
        wal = file.with_name(file.name + "-wal")
        stats.wal_bytes = wal.stat().st_size if wal.exists() else 0
        stats.page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        stats.pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        stats.free_pages = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        sizes = _table_bytes(conn)
        for table in TABLES:
            rows = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            size = None if sizes is None else sizes.get(table, 0)
            stats.tables.append(TableStats(table, rows, size))
        where, params = ("WHERE strategy = ?", (strategy,)) if strategy else ("", ())
        for row in conn.execute(
            f"SELECT strategy, COUNT(*) FROM dashboard_snapshots {where} GROUP BY strategy",
            params,
        ):
            stats.snapshots_by_strategy[row[0]] = int(row[1])
        for row in conn.execute(
            f"SELECT reason, COUNT(*) FROM dashboard_snapshots {where} GROUP BY reason "
            "ORDER BY COUNT(*) DESC",
            params,
        ):
            stats.snapshots_by_reason[row[0]] = int(row[1])
        span = conn.execute(
            f"SELECT MIN(taken_at_ms), MAX(taken_at_ms) FROM dashboard_snapshots {where}", params
        ).fetchone()
        if span[1] is not None:
            stats.oldest_snapshot = ms_to_time(int(span[0]))
            stats.newest_snapshot = ms_to_time(int(span[1]))
            last_hour = int(span[1]) // _HOUR_MS
            first_hour = last_hour - 23
            counts = dict.fromkeys(range(first_hour, last_hour + 1), 0)
            and_where = "AND strategy = ?" if strategy else ""
            for row in conn.execute(
                "SELECT taken_at_ms / ? AS hour, COUNT(*) FROM dashboard_snapshots "
                f"WHERE taken_at_ms >= ? {and_where} GROUP BY hour",
                (_HOUR_MS, first_hour * _HOUR_MS, *params),
            ):
                hour = int(row[0])
                if hour in counts:
                    counts[hour] = int(row[1])
            stats.hourly = [(ms_to_time(h * _HOUR_MS), n) for h, n in counts.items()]
    finally:
        conn.close()
    return stats
