"""``dash db prune`` and ``dash db restore``: move old snapshot rows out, and back.

Only ``dashboard_snapshots`` is ever touched: positions, funding payments, alerts and
commands are the points of record and are never pruned.

Pruning is safe next to a running strategy:

* the rows to go are fixed first, as a set of ids in a temporary table: ``taken_at``
  before the cutoff, minus the rows a ``keep_every`` rule keeps, and ``id`` at most the
  largest id at that moment, so rows the strategy writes meanwhile (always a higher id)
  are never selected;
* they are archived (when asked) from that set, to a file that appears only once
  complete and fsynced, before anything is deleted;
* exactly that set is deleted, in ONE ``BEGIN IMMEDIATE`` transaction when it has at
  most ``transaction_rows`` rows (a month of one-a-minute snapshots does). Deleting costs
  about a page write per row, so a larger set (a million rows hold the write lock for
  ~30 s) goes in consecutive transactions of that many rows, with a pause between them
  in which the strategy's writer takes the lock: it waits at most one transaction
  (about a second), far inside its ``BUSY_TIMEOUT_MS``, and never loses a write. Each
  transaction is rolled back unless it deleted exactly its share of the set, so what is
  deleted is always what was archived. An interrupted prune leaves the rest in place;
  running it again finishes (``restore`` skips rows it already has).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from strategy.store._archive import ArchivedRow, read_archive, write_archive
from strategy.store._codec import ms_to_time, time_to_ms, time_to_text
from strategy.store._sqlite import MaintenanceError, connect, create_or_migrate

__all__ = [
    "TRANSACTION_ROWS",
    "PruneResult",
    "RestoreResult",
    "StrategyPrune",
    "prune",
    "restore",
]

TRANSACTION_ROWS: Final = 50_000
"""Rows deleted per transaction: a month of one-a-minute snapshots (43,200) goes in one,
and the write lock is held about a second for 3.5 KB documents on the 2-core CI machine
(0.39 s per 20,000 rows in tests/benchmarks/test_snapshot_storage.py), well inside the
writer's 5 s busy timeout."""
# Between two delete transactions: SQLite's busy handler polls every 25-100 ms, so a
# writer that waited for the last transaction gets the lock in this gap.
_PAUSE_S: Final = 0.2
# Restored rows per transaction: each commit releases the write lock for the strategy.
_RESTORE_BATCH: Final = 2_000
_SELECTED: Final = "strategy = ? AND taken_at_ms < ? AND id <= ?"


@dataclass(frozen=True, slots=True)
class StrategyPrune:
    """One strategy's share: rows older than ``cutoff``, of which ``kept`` stay."""

    strategy: str
    cutoff: datetime
    selected: int
    kept: int
    payload_bytes: int


@dataclass(slots=True)
class PruneResult:
    """What a prune did (or, with ``dry_run``, would do)."""

    path: str
    dry_run: bool
    strategies: list[StrategyPrune] = field(default_factory=list)
    archive: str | None = None
    archived: int = 0
    deleted: int = 0
    transactions: int = 0
    longest_transaction_s: float = 0.0
    vacuumed: bool = False
    bytes_before: int = 0
    bytes_after: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def to_delete(self) -> int:
        return sum(s.selected - s.kept for s in self.strategies)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "dry_run": self.dry_run,
            "strategies": [
                {
                    "strategy": s.strategy,
                    "cutoff": time_to_text(s.cutoff),
                    "older": s.selected,
                    "kept": s.kept,
                    "to_delete": s.selected - s.kept,
                    "payload_bytes": s.payload_bytes,
                }
                for s in self.strategies
            ],
            "archive": self.archive,
            "archived": self.archived,
            "deleted": self.deleted,
            "transactions": self.transactions,
            "longest_transaction_s": round(self.longest_transaction_s, 3),
            "vacuumed": self.vacuumed,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


@dataclass(slots=True)
class RestoreResult:
    path: str
    archive: str
    restored: int = 0
    skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "archive": self.archive,
            "restored": self.restored,
            "skipped": self.skipped,
        }


def _size(file: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += file.with_name(file.name + suffix).stat().st_size
    return total


def _ms(span: timedelta) -> int:
    return span // timedelta(milliseconds=1)


def prune(
    path: str | os.PathLike[str],
    *,
    older_than: timedelta | datetime,
    keep_every: timedelta | None = None,
    archive: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    vacuum: bool = False,
    strategy: str | None = None,
    transaction_rows: int | None = TRANSACTION_ROWS,
) -> PruneResult:
    """Archive and delete old snapshot rows of ``path``.

    Args:
        path: the database.
        older_than: a span, measured back from each strategy's newest snapshot (market
            time, so a backtest's history is pruned like a live one), or an absolute
            cutoff time. Rows taken strictly before the cutoff are selected.
        keep_every: keep the first selected row of every such interval (aligned to the
            epoch: ``1h`` keeps one per clock hour). Defaults to keeping none.
        archive: write the rows to delete to this new ``.ndjson.gz`` file first.
            Defaults to no archive.
        dry_run: count only; change nothing. Defaults to False.
        vacuum: rebuild the file afterwards to give the freed space back to the file
            system (holds the write lock for the whole rewrite). Defaults to False.
        strategy: only this strategy's rows. Defaults to every strategy.
        transaction_rows: the most rows one delete transaction removes; ``None``
            deletes everything in one transaction whatever its size. Defaults to
            ``TRANSACTION_ROWS``.

    Raises:
        MaintenanceError: the database cannot be opened, the archive exists or cannot be
            written, or the rows changed under the prune (the transaction in progress
            is rolled back; rows deleted before it were archived).
    """
    if keep_every is not None and keep_every <= timedelta(0):
        raise MaintenanceError("keep_every must be a positive interval")
    if isinstance(older_than, timedelta) and older_than < timedelta(0):
        raise MaintenanceError("older_than must not be negative")
    if transaction_rows is not None and transaction_rows < 1:
        raise MaintenanceError("transaction_rows must be at least 1")
    file = Path(path)
    archive_file = None if archive is None else Path(archive)
    if archive_file is not None and not dry_run and archive_file.exists():
        raise MaintenanceError(f"{archive_file} exists; an archive is never overwritten")
    result = PruneResult(
        str(file), dry_run, archive=None if archive_file is None else str(archive_file)
    )
    result.bytes_before = _size(file)
    conn = connect(file, readonly=dry_run)
    try:
        started = time.perf_counter()
        doomed = _select(conn, result, older_than, keep_every, strategy)
        result.timings["select_s"] = time.perf_counter() - started
        if dry_run or doomed == 0:
            result.bytes_after = result.bytes_before
            return result
        if archive_file is not None:
            started = time.perf_counter()
            result.archived = write_archive(archive_file, _doomed_rows(conn))
            result.timings["archive_s"] = time.perf_counter() - started
            if result.archived != doomed:
                raise MaintenanceError(
                    f"the rows changed while archiving (another prune?): archived "
                    f"{result.archived} of {doomed}; nothing was deleted"
                )
        started = time.perf_counter()
        _delete(conn, result, transaction_rows or doomed)
        result.timings["delete_s"] = time.perf_counter() - started
        if vacuum:
            started = time.perf_counter()
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            result.vacuumed = True
            result.timings["vacuum_s"] = time.perf_counter() - started
    finally:
        conn.close()
    result.bytes_after = _size(file)
    return result


def _select(
    conn: sqlite3.Connection,
    result: PruneResult,
    older_than: timedelta | datetime,
    keep_every: timedelta | None,
    strategy: str | None,
) -> int:
    """Fill ``temp.prune_doomed`` with the ids to delete; returns how many."""
    conn.execute("PRAGMA temp_store = MEMORY")
    for table in ("prune_keep", "prune_doomed"):
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY)")
        conn.execute(f"DELETE FROM temp.{table}")
    max_id = conn.execute("SELECT MAX(id) FROM dashboard_snapshots").fetchone()[0]
    if max_id is None:
        return 0
    newest = conn.execute(
        "SELECT strategy, MAX(taken_at_ms) FROM dashboard_snapshots WHERE id <= ? "
        + ("AND strategy = ? " if strategy is not None else "")
        + "GROUP BY strategy ORDER BY strategy",
        (max_id,) if strategy is None else (max_id, strategy),
    ).fetchall()
    total = 0
    for name, newest_ms in newest:
        if isinstance(older_than, datetime):
            cutoff_ms = time_to_ms(older_than)
        else:
            cutoff_ms = int(newest_ms) - _ms(older_than)
        params = (name, cutoff_ms, max_id)
        kept = 0
        if keep_every is not None:
            kept = conn.execute(
                "INSERT INTO temp.prune_keep SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
                "(PARTITION BY taken_at_ms / ? ORDER BY taken_at_ms, id) AS nth "
                f"FROM dashboard_snapshots WHERE {_SELECTED}) WHERE nth = 1",
                (_ms(keep_every), *params),
            ).rowcount
        doomed = conn.execute(
            f"INSERT INTO temp.prune_doomed SELECT id FROM dashboard_snapshots WHERE {_SELECTED} "
            "AND id NOT IN (SELECT id FROM temp.prune_keep)",
            params,
        ).rowcount
        size = conn.execute(
            "SELECT COALESCE(SUM(LENGTH(s.payload)), 0) FROM temp.prune_doomed AS d "
            "JOIN dashboard_snapshots AS s ON s.id = d.id WHERE s.strategy = ?",
            (name,),
        ).fetchone()[0]
        result.strategies.append(
            StrategyPrune(name, ms_to_time(cutoff_ms), doomed + kept, kept, int(size))
        )
        total += doomed
    return total


def _doomed_rows(conn: sqlite3.Connection) -> Iterator[ArchivedRow]:
    """The rows the prune will delete, in write order."""
    for row in conn.execute(
        "SELECT s.id, s.strategy, s.seq, s.taken_at, s.taken_at_ms, s.reason, s.payload "
        "FROM temp.prune_doomed AS d JOIN dashboard_snapshots AS s ON s.id = d.id "
        "ORDER BY d.id"
    ):
        yield ArchivedRow(
            int(row["id"]),
            row["strategy"],
            int(row["seq"]),
            row["taken_at"],
            int(row["taken_at_ms"]),
            row["reason"],
            bytes(row["payload"]),
        )


def _delete(conn: sqlite3.Connection, result: PruneResult, rows_per_transaction: int) -> None:
    """Delete the doomed set, ``rows_per_transaction`` ids (in id order) at a time."""
    low = -1
    while True:
        if result.transactions:
            time.sleep(_PAUSE_S)  # the strategy's writer's turn
        bound = conn.execute(
            "SELECT id FROM temp.prune_doomed WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
            (low, rows_per_transaction - 1),
        ).fetchone()
        high = int(bound[0]) if bound is not None else None
        share = "id > ?" + (" AND id <= ?" if high is not None else "")
        params: tuple[int, ...] = (low,) if high is None else (low, high)
        expected = conn.execute(
            f"SELECT COUNT(*) FROM temp.prune_doomed WHERE {share}", params
        ).fetchone()[0]
        if not expected:
            return
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        try:
            deleted = conn.execute(
                "DELETE FROM dashboard_snapshots WHERE id IN "
                f"(SELECT id FROM temp.prune_doomed WHERE {share})",
                params,
            ).rowcount
            if deleted != expected:
                done = (
                    f"; {result.deleted} deleted before it, all in the archive"
                    if result.deleted
                    else "; nothing was deleted"
                )
                raise MaintenanceError(
                    f"the rows changed while pruning (another prune?): a transaction would "
                    f"delete {deleted} of its {expected} rows and was rolled back{done}"
                )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        result.longest_transaction_s = max(
            result.longest_transaction_s, time.perf_counter() - started
        )
        result.deleted += deleted
        result.transactions += 1
        if high is None:
            return
        low = high


def restore(path: str | os.PathLike[str], archive: str | os.PathLike[str]) -> RestoreResult:
    """Put the rows of ``archive`` back into ``path`` (created if missing), byte for byte.

    A row already present (same strategy, seq, times, reason and payload) is skipped, so
    restoring twice changes nothing. A row goes back under its original id when that id
    is free, so the write order a replay follows is the original one.

    Raises:
        MaintenanceError: unreadable archive (nothing after the bad line is restored;
            what was before it is, and a second run skips it).
    """
    file = Path(path)
    result = RestoreResult(str(file), str(Path(archive)))
    rows = read_archive(archive)  # fail on a missing archive before creating any DB
    first = next(rows, None)
    create_or_migrate(file)
    conn = connect(file, readonly=False)
    try:
        batch = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            pending = [first] if first is not None else []
            for row in _chain(pending, rows):
                if _present(conn, row):
                    result.skipped += 1
                    continue
                taken = conn.execute(
                    "SELECT 1 FROM dashboard_snapshots WHERE id = ?", (row.id,)
                ).fetchone() if row.id is not None else True
                values = (row.strategy, row.seq, row.taken_at, row.taken_at_ms, row.reason,
                          row.payload)
                if taken:
                    conn.execute(
                        "INSERT INTO dashboard_snapshots "
                        "(strategy, seq, taken_at, taken_at_ms, reason, payload) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        values,
                    )
                else:
                    conn.execute(
                        "INSERT INTO dashboard_snapshots "
                        "(id, strategy, seq, taken_at, taken_at_ms, reason, payload) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (row.id, *values),
                    )
                result.restored += 1
                batch += 1
                if batch >= _RESTORE_BATCH:
                    conn.execute("COMMIT")
                    conn.execute("BEGIN IMMEDIATE")
                    batch = 0
            conn.execute("COMMIT")
        except MaintenanceError:
            conn.execute("COMMIT")  # keep every good row before the bad line
            raise
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return result


def _chain(first: list[ArchivedRow], rest: Iterator[ArchivedRow]) -> Iterator[ArchivedRow]:
    yield from first
    yield from rest


def _present(conn: sqlite3.Connection, row: ArchivedRow) -> bool:
    for found in conn.execute(
        "SELECT seq, taken_at, reason, payload FROM dashboard_snapshots "
        "WHERE strategy = ? AND taken_at_ms = ?",
        (row.strategy, row.taken_at_ms),
    ):
        if (
            int(found["seq"]) == row.seq
            and found["taken_at"] == row.taken_at
            and found["reason"] == row.reason
            and bytes(found["payload"]) == row.payload
        ):
            return True
    return False
