"""The strategy's SQLite store: migrations on open, batched writes, separate reads.

The strategy loop must never wait for the disk, so every write method is a plain ``def``
that encodes the record and queues it for the :class:`BatchWriter` task. ``await flush()``
is the only way to wait for durability.

Reads go through a second, read-only connection. In WAL mode it sees every committed
transaction without waiting behind the write queue, and never sees queued-but-uncommitted
ops: call ``flush()`` first when a read must include your own recent writes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType

import aiosqlite

from strategy.store import ops as _ops
from strategy.store._codec import time_from_text, time_to_ms
from strategy.store._rows import (
    SnapshotRow,
    alert_from_row,
    command_from_row,
    funding_from_row,
    position_from_row,
    snapshot_from_row,
)
from strategy.store._writer import (
    DEFAULT_LINGER_S,
    DEFAULT_MAX_BATCH,
    QUEUE_WARN_AT,
    BatchWriter,
    StoreStats,
)
from strategy.store.errors import StoreClosedError
from strategy.store.ops import SqlValue, WriteOp
from strategy.store.records import (
    AlertRecord,
    CommandRecord,
    FundingPaymentRecord,
    PositionRecord,
)
from strategy.store.schema import BUSY_TIMEOUT_MS, TABLES, configure, migrate

__all__ = ["Store"]


class Store:
    """One SQLite file. Create with ``await Store.open(path)``; close with ``await close()``.

    Write methods must be called from the event loop that opened the store.
    """

    def __init__(
        self,
        path: str,
        writer: BatchWriter,
        write_conn: aiosqlite.Connection,
        reader: aiosqlite.Connection,
    ) -> None:
        self.path = path
        self._writer = writer
        self._write_conn = write_conn
        self._reader = reader
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        linger: float = DEFAULT_LINGER_S,
        queue_warn_at: int = QUEUE_WARN_AT,
    ) -> Store:
        """Open (creating it and its directory if needed) and migrate the database.

        Raises ``SchemaVersionError`` for a file from a newer dash and ``MigrationError`` if
        a migration fails; the file is left unchanged in both cases.
        """
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        name = str(file)
        write_conn = await aiosqlite.connect(name, isolation_level=None)
        try:
            await configure(write_conn)
            await migrate(write_conn, name)
            reader = await aiosqlite.connect(name, isolation_level=None)
            try:
                await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await reader.execute("PRAGMA query_only = ON")
                reader.row_factory = sqlite3.Row
                writer = BatchWriter(
                    write_conn,
                    name,
                    max_batch=max_batch,
                    linger=linger,
                    queue_warn_at=queue_warn_at,
                )
            except BaseException:
                await reader.close()
                raise
        except BaseException:
            await write_conn.close()
            raise
        return cls(name, writer, write_conn, reader)

    async def flush(self) -> None:
        """Wait until every op queued before this call is committed (or logged as failed)."""
        await self._writer.flush()

    async def close(self) -> None:
        """Commit everything queued, then close both connections. Safe to call twice."""
        if self._closed:
            return
        try:
            await self._writer.close()
        finally:
            if not self._closed:
                self._closed = True
                await self._write_conn.close()
                await self._reader.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def stats(self) -> StoreStats:
        """Writer counters; ``ops`` and ``commits`` show how well writes are batched."""
        return self._writer.stats

    # ------------------------------------------------------------------ writes (never await)

    def submit(self, op: WriteOp) -> None:
        """Queue any op built by ``strategy.store.ops``; the named methods below use it."""
        self._writer.put(op)

    def insert_position(self, rec: PositionRecord) -> None:
        self._writer.put(_ops.position_insert(rec))

    def close_position(
        self,
        position_id: str,
        closed_at: datetime,
        close_reason: str,
        long_exit_price: Decimal,
        short_exit_price: Decimal,
        exit_fees: Decimal,
        realized_pnl: Decimal,
    ) -> None:
        """Mark an open position closed; a second close of the same id changes nothing."""
        self._writer.put(
            _ops.position_close(
                position_id,
                closed_at,
                close_reason,
                long_exit_price,
                short_exit_price,
                exit_fees,
                realized_pnl,
            )
        )

    def record_funding(self, rec: FundingPaymentRecord) -> None:
        """INSERT OR IGNORE: a (position, venue, funding_time) already stored is kept as is."""
        self._writer.put(_ops.funding_insert(rec))

    def record_alert(self, rec: AlertRecord) -> None:
        self._writer.put(_ops.alert_insert(rec))

    def record_command(self, rec: CommandRecord) -> None:
        self._writer.put(_ops.command_insert(rec))

    def update_command(
        self,
        command_id: str,
        status: str,
        outcome_json: str | None,
        completed_at: datetime | None,
    ) -> None:
        self._writer.put(_ops.command_update(command_id, status, outcome_json, completed_at))

    def write_snapshot(
        self, strategy: str, seq: int, taken_at: datetime, reason: str, payload: bytes
    ) -> None:
        """The ``SnapshotWriter`` protocol of ``state/``."""
        self._writer.put(_ops.snapshot_insert(strategy, seq, taken_at, reason, payload))

    def set_runtime_clock(self, strategy: str, clock: datetime) -> None:
        """Remember the market time a run reached, so a restart can resume from it."""
        self._writer.put(_ops.runtime_clock_upsert(strategy, clock, datetime.now(UTC)))

    # ------------------------------------------------------------------ reads

    async def _fetch(self, sql: str, params: Sequence[SqlValue] = ()) -> list[sqlite3.Row]:
        if self._closed:
            raise StoreClosedError(f"Cannot read, as the store {self.path} is closed.")
        rows = await self._reader.execute_fetchall(sql, params)
        return list(rows)

    async def position(self, position_id: str) -> PositionRecord | None:
        rows = await self._fetch("SELECT * FROM strategy_positions WHERE id = ?", (position_id,))
        return position_from_row(rows[0]) if rows else None

    async def open_positions(self, strategy: str) -> list[PositionRecord]:
        """What a restart rebuilds from: positions of ``strategy`` not closed, oldest first."""
        rows = await self._fetch(
            "SELECT * FROM strategy_positions WHERE strategy = ? AND closed_at IS NULL "
            "ORDER BY opened_at_ms, id",
            (strategy,),
        )
        return [position_from_row(r) for r in rows]

    async def positions(
        self, strategy: str | None = None, include_closed: bool = True
    ) -> list[PositionRecord]:
        where, params = _where(("strategy = ?", strategy))
        if not include_closed:
            where = f"{where} AND closed_at IS NULL" if where else "WHERE closed_at IS NULL"
        rows = await self._fetch(
            f"SELECT * FROM strategy_positions {where} ORDER BY opened_at_ms, id", params
        )
        return [position_from_row(r) for r in rows]

    async def funding_payments(
        self, position_id: str | None = None, strategy: str | None = None
    ) -> list[FundingPaymentRecord]:
        where, params = _where(("position_id = ?", position_id), ("strategy = ?", strategy))
        rows = await self._fetch(
            f"SELECT * FROM funding_payments {where} ORDER BY funding_time_ms, position_id, venue",
            params,
        )
        return [funding_from_row(r) for r in rows]

    async def last_funding_times(self, strategy: str) -> dict[tuple[str, str], datetime]:
        """Latest recorded settlement per (position_id, venue): where a restart resumes."""
        rows = await self._fetch(
            "SELECT position_id, venue, MAX(funding_time) AS last FROM funding_payments "
            "WHERE strategy = ? GROUP BY position_id, venue",
            (strategy,),
        )
        return {(r["position_id"], r["venue"]): time_from_text(r["last"]) for r in rows}

    async def command_by_key(self, strategy: str, key: str) -> CommandRecord | None:
        rows = await self._fetch(
            "SELECT * FROM commands WHERE strategy = ? AND idempotency_key = ?", (strategy, key)
        )
        return command_from_row(rows[0]) if rows else None

    async def commands(self, strategy: str | None = None) -> list[CommandRecord]:
        where, params = _where(("strategy = ?", strategy))
        rows = await self._fetch(f"SELECT * FROM commands {where} ORDER BY ts_ms, rowid", params)
        return [command_from_row(r) for r in rows]

    async def alerts(
        self,
        strategy: str | None = None,
        *,
        position_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AlertRecord]:
        """Alerts in the order raised; ``since``/``until`` are inclusive."""
        where, params = _where(
            ("strategy = ?", strategy),
            ("position_id = ?", position_id),
            ("ts_ms >= ?", None if since is None else time_to_ms(since)),
            ("ts_ms <= ?", None if until is None else time_to_ms(until)),
        )
        rows = await self._fetch(f"SELECT * FROM alerts {where} ORDER BY ts_ms, seq", params)
        return [alert_from_row(r) for r in rows]

    async def latest_snapshot(self, strategy: str) -> SnapshotRow | None:
        """The snapshot written last (not the one with the latest market time)."""
        rows = await self._fetch(
            "SELECT seq, taken_at, reason, payload FROM dashboard_snapshots "
            "WHERE strategy = ? ORDER BY id DESC LIMIT 1",
            (strategy,),
        )
        return snapshot_from_row(rows[0]) if rows else None

    async def snapshots(
        self, strategy: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[SnapshotRow]:
        """Snapshots by market time, ``since <= taken_at <= until``, in write order."""
        where, params = _where(
            ("strategy = ?", strategy),
            ("taken_at_ms >= ?", None if since is None else time_to_ms(since)),
            ("taken_at_ms <= ?", None if until is None else time_to_ms(until)),
        )
        rows = await self._fetch(
            f"SELECT seq, taken_at, reason, payload FROM dashboard_snapshots {where} "
            "ORDER BY taken_at_ms, id",
            params,
        )
        return [snapshot_from_row(r) for r in rows]

    async def runtime_clock(self, strategy: str) -> datetime | None:
        rows = await self._fetch(
            "SELECT clock FROM strategy_runtime WHERE strategy = ?", (strategy,)
        )
        return time_from_text(rows[0]["clock"]) if rows else None

    async def table_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in TABLES:
            rows = await self._fetch(f"SELECT COUNT(*) AS n FROM {table}")
            counts[table] = int(rows[0]["n"])
        return counts


def _where(*conditions: tuple[str, SqlValue]) -> tuple[str, list[SqlValue]]:
    """``WHERE a = ? AND b = ?`` from the conditions whose value is not None."""
    clauses = [clause for clause, value in conditions if value is not None]
    params: list[SqlValue] = [value for _, value in conditions if value is not None]
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params
