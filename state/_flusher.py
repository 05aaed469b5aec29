"""SnapshotFlusher: persists full snapshots on a timer and on significant changes.

It replaces per-cycle DB writes: the strategy loop only commits to its DashboardState;
this task, fed by its own bus subscription, decides when a row is worth writing and hands
it to a :class:`SnapshotWriter` (the store), which queues it without blocking.

Rules:

* a change flagged significant is written at once; the row's ``reason`` is the first
  reason the transaction flagged (``position_opened``, ``position_closed``,
  ``critical_alert``, ``shutdown``, or any other label the strategy uses);
* every ``interval_s`` of ``now`` time a ``timer`` row is written, on a fixed schedule
  from ``start()``; missed ticks collapse into one. The tick is checked whenever a change
  arrives and by a timer task that waits with ``sleep``;
* ``stop()`` drains what is queued and writes a final ``shutdown`` row;
* never two rows for one ``seq``: a tick or shutdown that finds the newest seq already
  written writes nothing (the tick still counts as done);
* if the flusher's own queue overflows it gets a resync and writes a ``resync`` row, as
  a significant change may have been among those dropped.

``sleep`` must wait without moving ``now`` forward (``asyncio.sleep``, or a scaled clock's
sleep; not ``ManualClock.sleep``, which advances market time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from state._bus import Subscription
from state._records import Change, Resync, Snapshot
from state._state import DashboardState

__all__ = ["FLUSHER_QUEUE_SIZE", "REASONS", "SnapshotFlusher", "SnapshotWriter"]

log = logging.getLogger("dash.state.flusher")

REASONS = ("position_opened", "position_closed", "critical_alert", "shutdown", "timer")
"""Row reasons the strategy and the flusher use (plus ``resync`` after an overflow)."""

FLUSHER_QUEUE_SIZE = 4096
"""The flusher only hands bytes to a non-blocking writer, so it keeps up unless the loop
itself is starved; a deep queue makes a lost significant change (and a resync row)
practically impossible even then."""


class SnapshotWriter(Protocol):
    """Where snapshot rows go (``dashboard_snapshots``); implemented by the store."""

    def write_snapshot(
        self, strategy: str, seq: int, taken_at: datetime, reason: str, payload: bytes
    ) -> None:
        """Queue one row; must not block or await the disk."""


class SnapshotFlusher:
    """Writes ``state``'s snapshots through ``writer``, off the strategy loop.

    Args:
        state: the state to persist; it must publish on a bus.
        writer: receives the rows.
        interval_s: seconds of ``now`` time between timer rows; 0 disables the timer.
            Defaults to 60.
        now: the clock the schedule follows. Defaults to the state's ``now``.
        sleep: how the timer task waits. Defaults to ``asyncio.sleep``.
        queue_size: bound of the flusher's bus subscription. Defaults to 4096.
    """

    def __init__(
        self,
        state: DashboardState,
        writer: SnapshotWriter,
        *,
        interval_s: float = 60.0,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        queue_size: int = FLUSHER_QUEUE_SIZE,
    ) -> None:
        if state.bus is None:
            raise ValueError("the flusher is fed by the state's bus; create the state with one")
        if interval_s < 0:
            raise ValueError("interval_s must be >= 0 (0 disables the timer)")
        self.state = state
        self.writer = writer
        self.interval_s = float(interval_s)
        self.rows_written = 0
        self.last_seq: int | None = None
        self._now = now or state.now
        self._sleep = sleep
        self._queue_size = queue_size
        self._interval = timedelta(seconds=interval_s)
        self._next_due: datetime | None = None
        self._seen: Snapshot = state.snapshot()
        self._sub: Subscription | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._consumer is not None and not self._stopped

    def start(self) -> None:
        """Subscribe and start the tasks; call from inside the running loop."""
        if self._sub is not None:
            raise RuntimeError("flusher already started")
        bus = self.state.bus
        assert bus is not None
        self._sub = bus.subscribe(
            f"flusher:{self.state.strategy_id}",
            maxsize=self._queue_size,
            strategy=self.state.strategy_id,
            kinds=("change",),
        )
        self._seen = self.state.snapshot()
        if self._interval:
            self._next_due = self._now() + self._interval
            self._timer = asyncio.create_task(self._run_timer(), name="flusher-timer")
        self._consumer = asyncio.create_task(self._consume(), name="flusher")

    async def stop(self) -> None:
        """Drain queued changes, write the ``shutdown`` row, end the tasks. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        if self._sub is not None:
            self._sub.close()
        if self._consumer is not None:
            await self._consumer
        latest = self.state.snapshot()
        if latest.seq > self._seen.seq:
            self._seen = latest
        self._write(self._seen, "shutdown")

    def check_timer(self) -> bool:
        """Write a ``timer`` row if a tick is due; returns whether one was written."""
        due = self._next_due
        if due is None:
            return False
        now = self._now()
        if now < due:
            return False
        missed = (now - due) // self._interval
        self._next_due = due + self._interval * (missed + 1)
        return self._write(self._seen, "timer")

    def handle(self, item: Change | Resync) -> None:
        """Process one bus item (the consumer task calls this; tests may too)."""
        if type(item) is Change:
            if item.seq > self._seen.seq:
                self._seen = item.snapshot
            if item.significant:
                self._write(item.snapshot, item.significant[0])
        elif type(item) is Resync:
            if item.snapshot.seq > self._seen.seq:
                self._seen = item.snapshot
            self._write(item.snapshot, "resync")
        self.check_timer()

    async def _consume(self) -> None:
        assert self._sub is not None
        async for item in self._sub:
            if type(item) is Change or type(item) is Resync:
                self.handle(item)

    async def _run_timer(self) -> None:
        while True:
            due = self._next_due
            assert due is not None
            delay = (due - self._now()).total_seconds()
            await self._sleep(max(delay, 0.0))
            self.check_timer()

    def _write(self, snapshot: Snapshot, reason: str) -> bool:
        if self.last_seq is not None and snapshot.seq <= self.last_seq:
            return False
        try:
            self.writer.write_snapshot(
                snapshot.strategy, snapshot.seq, snapshot.ts, reason, snapshot.payload
            )
        except Exception:
            log.exception("snapshot write failed (strategy %s, seq %d)", snapshot.strategy,
                          snapshot.seq)
            return False
        self.last_seq = snapshot.seq
        self.rows_written += 1
        return True
