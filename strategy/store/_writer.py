"""The store's single writer: a queue of ops, committed in batches on one connection.

Callers append and return (``put`` never awaits); one task takes everything queued, up to
``max_batch`` ops, and runs it in ONE transaction, so a backtest writing thousands of rows
costs a handful of commits. ``flush()`` is a barrier in the queue, resolved once everything
ahead of it is committed.

A failing op never takes the others down: a failed batch is rolled back and replayed op by
op under savepoints, and each op that still fails is logged with its parameters and
dropped. Transient errors ("database is locked", I/O) are first retried as a batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import aiosqlite

from strategy.store.errors import StoreClosedError, StoreError
from strategy.store.ops import SqlValue, WriteOp

__all__ = ["DEFAULT_LINGER_S", "DEFAULT_MAX_BATCH", "QUEUE_WARN_AT", "BatchWriter", "StoreStats"]

log = logging.getLogger("strategy.store")

# Ops per transaction: big enough that a backtest at --speed max commits rarely, small
# enough that one transaction never holds the write lock for long.
DEFAULT_MAX_BATCH: Final = 1_000
# After the first op of a quiet spell the writer waits this long for company, so a loop
# that writes one op per tick still commits in groups. A flush() skips the wait.
DEFAULT_LINGER_S: Final = 0.002
# The write queue is unbounded on purpose: dropping a point of record or blocking the
# strategy are both worse than memory. Past this many pending ops the store logs an error
# (the disk cannot keep up) and doubles the threshold, so the log stays readable.
QUEUE_WARN_AT: Final = 100_000
# Transient errors (locked, busy, I/O) are retried as a whole batch this many times, with
# the delay doubling from _RETRY_DELAY_S, before ops are replayed one by one.
_BATCH_RETRIES: Final = 3
_RETRY_DELAY_S: Final = 0.05


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Writer counters since open; ``ops`` counts ops in committed transactions."""

    enqueued: int = 0
    ops: int = 0
    commits: int = 0
    failed_ops: int = 0
    unchanged_ops: int = 0
    retries: int = 0
    largest_batch: int = 0
    queue_high_water: int = 0
    pending: int = 0


@dataclass(slots=True)
class _Counters:
    enqueued: int = 0
    ops: int = 0
    commits: int = 0
    failed_ops: int = 0
    unchanged_ops: int = 0
    retries: int = 0
    largest_batch: int = 0
    queue_high_water: int = 0


class _Stop:
    """Queue sentinel: everything before it is written, then the writer ends."""


_STOP: Final = _Stop()
_QueueItem = WriteOp | asyncio.Future[None] | _Stop


class BatchWriter:
    """Owns the write connection while open; must be used from one event loop."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        path: str,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        linger: float = DEFAULT_LINGER_S,
        queue_warn_at: int = QUEUE_WARN_AT,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.path = path
        self._conn = conn
        self._max_batch = max_batch
        self._linger = linger
        self._queue_warn_at = queue_warn_at
        self._queue: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._counters = _Counters()
        self._closing = False
        self._flushes_queued = 0
        self._task = asyncio.get_running_loop().create_task(
            self._run_writer(), name=f"store-writer:{path}"
        )

    @property
    def stats(self) -> StoreStats:
        c = self._counters
        return StoreStats(
            enqueued=c.enqueued,
            ops=c.ops,
            commits=c.commits,
            failed_ops=c.failed_ops,
            unchanged_ops=c.unchanged_ops,
            retries=c.retries,
            largest_batch=c.largest_batch,
            queue_high_water=c.queue_high_water,
            pending=self._queue.qsize(),
        )

    def put(self, op: WriteOp) -> None:
        if self._closing:
            raise StoreClosedError(f"Cannot queue a write, as the store {self.path} is closed.")
        self._enqueue(op)
        self._counters.enqueued += 1

    async def flush(self) -> None:
        if self._closing:  # close() drains everything; wait for it rather than race it
            await asyncio.shield(self._task)
            return
        barrier: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(barrier)
        self._flushes_queued += 1
        try:
            await barrier
        finally:
            self._flushes_queued -= 1

    async def close(self) -> None:
        """Commit everything queued, then stop; the caller closes the connection."""
        if not self._closing:
            self._closing = True
            if not self._task.done():
                self._queue.put_nowait(_STOP)
        await asyncio.shield(self._task)

    def _enqueue(self, item: _QueueItem) -> None:
        if self._task.done():
            raise StoreError(f"Cannot queue a write, as the writer of {self.path} has stopped.")
        self._queue.put_nowait(item)
        size = self._queue.qsize()
        if size > self._counters.queue_high_water:
            self._counters.queue_high_water = size
        if size >= self._queue_warn_at:
            log.error(
                "store %s: %d writes pending, the disk is not keeping up; "
                "nothing is dropped, memory grows (next warning at %d)",
                self.path,
                size,
                self._queue_warn_at * 2,
            )
            self._queue_warn_at *= 2

    async def _run_writer(self) -> None:
        barriers: list[asyncio.Future[None]] = []
        try:
            stop = False
            while not stop:
                batch, barriers, stop = await self._next_batch()
                if batch:
                    try:
                        await self._commit(batch)
                    except Exception:  # a bug here must not stop the writer for good
                        log.exception("store %s: lost a batch of %d ops", self.path, len(batch))
                        self._counters.failed_ops += len(batch)
                for barrier in barriers:
                    if not barrier.done():
                        barrier.set_result(None)
                barriers = []
        finally:
            self._fail_waiters(barriers)

    async def _next_batch(self) -> tuple[list[WriteOp], list[asyncio.Future[None]], bool]:
        first = await self._queue.get()
        if (
            isinstance(first, WriteOp)
            and self._linger > 0
            and not self._flushes_queued  # someone is waiting: commit now
            and self._queue.qsize() < self._max_batch - 1
        ):
            await asyncio.sleep(self._linger)
        batch: list[WriteOp] = []
        barriers: list[asyncio.Future[None]] = []
        stop = False
        item: _QueueItem = first
        while True:
            if isinstance(item, WriteOp):
                batch.append(item)
            elif isinstance(item, _Stop):
                stop = True
                break
            else:
                barriers.append(item)
            if len(batch) >= self._max_batch:
                break
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
        return batch, barriers, stop

    async def _commit(self, batch: list[WriteOp]) -> None:
        delay = _RETRY_DELAY_S
        for attempt in range(_BATCH_RETRIES + 1):
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                unchanged = await self._execute_all(batch)
                await self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                await self._rollback()
                if attempt == _BATCH_RETRIES:
                    break
                log.warning(
                    "store %s: batch of %d ops failed (%s); retrying in %.2fs",
                    self.path,
                    len(batch),
                    exc,
                    delay,
                )
                self._counters.retries += 1
                await asyncio.sleep(delay)
                delay *= 2
            except Exception as exc:
                await self._rollback()
                log.warning(
                    "store %s: batch of %d ops failed (%s); replaying them one by one",
                    self.path,
                    len(batch),
                    exc,
                )
                break
            else:
                self._committed(batch, unchanged)
                return
        await self._commit_isolated(batch)

    async def _execute_all(self, batch: Sequence[WriteOp]) -> list[WriteOp]:
        """Run ``batch`` in order; runs of one statement go as a single ``executemany``."""
        unchanged: list[WriteOp] = []
        i = 0
        while i < len(batch):
            op = batch[i]
            if op.must_change:
                cursor = await self._conn.execute(op.sql, op.params)
                if cursor.rowcount == 0:
                    unchanged.append(op)
                i += 1
                continue
            j = i + 1
            while j < len(batch) and batch[j].sql == op.sql and not batch[j].must_change:
                j += 1
            if j == i + 1:
                await self._conn.execute(op.sql, op.params)
            else:
                params: Iterable[tuple[SqlValue, ...]] = [o.params for o in batch[i:j]]
                await self._conn.executemany(op.sql, params)
            i = j
        return unchanged

    async def _commit_isolated(self, batch: list[WriteOp]) -> None:
        """Replay ops one by one under savepoints; drop and log only the ones that fail."""
        good: list[WriteOp] = []
        unchanged: list[WriteOp] = []
        bad: list[tuple[WriteOp, Exception]] = []
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                await self._conn.execute("SAVEPOINT op")
                try:
                    cursor = await self._conn.execute(op.sql, op.params)
                except Exception as exc:
                    await self._conn.execute("ROLLBACK TO op")
                    bad.append((op, exc))
                else:
                    good.append(op)
                    if op.must_change and cursor.rowcount == 0:
                        unchanged.append(op)
                await self._conn.execute("RELEASE op")
            await self._conn.execute("COMMIT")
        except Exception as exc:
            await self._rollback()
            log.error(
                "store %s: could not commit %d ops (%s); lost: %s",
                self.path,
                len(batch),
                exc,
                "; ".join(op.describe() for op in batch),
            )
            self._counters.failed_ops += len(batch)
            return
        for op, error in bad:
            log.error(
                "store %s: write failed and was dropped: %s: %s", self.path, op.describe(), error
            )
        self._counters.failed_ops += len(bad)
        self._committed(good, unchanged)

    def _committed(self, batch: list[WriteOp], unchanged: list[WriteOp]) -> None:
        for op in unchanged:
            log.warning(
                "store %s: %s matched no row (unknown id, or already closed); nothing changed",
                self.path,
                op.describe(),
            )
        c = self._counters
        c.ops += len(batch)
        c.commits += 1
        c.unchanged_ops += len(unchanged)
        c.largest_batch = max(c.largest_batch, len(batch))

    async def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self._conn.in_transaction:
                await self._conn.execute("ROLLBACK")

    def _fail_waiters(self, barriers: list[asyncio.Future[None]]) -> None:
        """The writer is gone: nobody may wait forever on a flush()."""
        error = StoreError(f"The writer of {self.path} stopped before committing.")
        pending = list(barriers)
        while True:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if isinstance(item, asyncio.Future):
                pending.append(item)
            elif isinstance(item, WriteOp):
                log.error("store %s: write lost at shutdown: %s", self.path, item.describe())
        for barrier in pending:
            if not barrier.done():
                barrier.set_exception(error)
