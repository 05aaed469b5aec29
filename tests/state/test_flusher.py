"""SnapshotFlusher: timer rows on simulated time, significant rows, shutdown, real SQLite."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import sqlite3
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import orjson
import pytest

from state import DashboardState, EventBus, SnapshotFlusher, iso_utc
from tests.state._helpers import T0, position_doc


class Row(NamedTuple):
    strategy: str
    seq: int
    taken_at: datetime
    reason: str
    payload: bytes


class ListWriter:
    """A SnapshotWriter keeping rows in memory (for counting)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def write_snapshot(
        self, strategy: str, seq: int, taken_at: datetime, reason: str, payload: bytes
    ) -> None:
        self.rows.append(Row(strategy, seq, taken_at, reason, payload))


class SqliteWriter:
    """A SnapshotWriter inserting into a real SQLite file, shaped like the store's table."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE dashboard_snapshots (id INTEGER PRIMARY KEY, strategy TEXT NOT NULL,"
            " seq INTEGER NOT NULL, taken_at TEXT NOT NULL, reason TEXT NOT NULL,"
            " payload BLOB NOT NULL)"
        )

    def write_snapshot(
        self, strategy: str, seq: int, taken_at: datetime, reason: str, payload: bytes
    ) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO dashboard_snapshots (strategy, seq, taken_at, reason, payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (strategy, seq, iso_utc(taken_at), reason, payload),
            )


class SimTime:
    """Simulated time: ``now`` only moves in ``advance``; ``sleep`` waits for it."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers,
                       (self.t + timedelta(seconds=seconds), next(self._ids), future))
        await future

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= self.t:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def _setup(interval_s: float = 60.0) -> tuple[SimTime, DashboardState, ListWriter,
                                               SnapshotFlusher]:
    sim = SimTime(T0)
    state = DashboardState("fa", bus=EventBus(), now=sim.now)
    writer = ListWriter()
    flusher = SnapshotFlusher(state, writer, interval_s=interval_s, sleep=sim.sleep)
    return sim, state, writer, flusher


async def test_a_simulated_hour_writes_timer_ticks_plus_significant_events() -> None:
    sim, state, writer, flusher = _setup(interval_s=60)
    flusher.start()
    opens = {100, 700, 1500, 2222}
    closes = {400, 1900}
    criticals = {1000, 3000}
    for second in range(1, 3601):
        sim.advance(1)
        async with state.transaction("cycle") as tx:
            tx.set_clock(sim.t)
            tx.put_market("BTC/USDT", {"binance": {"mark": str(60000 + second)}})
            if second in opens:
                tx.put_position(f"p-{second}", position_doc())
                tx.significant("position_opened")
            if second in closes:
                tx.remove_position(f"p-{second - 300}")
                tx.significant("position_closed")
            if second in criticals:
                tx.put_alert(f"a-{second}", {"level": "critical", "code": "divergence",
                                             "message": "x"})
                tx.significant("critical_alert")
        await _settle()

    reasons = Counter(row.reason for row in writer.rows)
    assert reasons == {"timer": 60, "position_opened": 4, "position_closed": 2,
                       "critical_alert": 2}
    assert len(writer.rows) == 60 + 8
    # one row per seq, in order, each holding the document of that seq
    seqs = [row.seq for row in writer.rows]
    assert seqs == sorted(set(seqs))
    by_reason = {row.seq: row for row in writer.rows if row.reason != "timer"}
    assert sorted(by_reason) == sorted(opens | closes | criticals)
    for row in writer.rows:
        doc = orjson.loads(row.payload)
        assert doc["seq"] == row.seq and doc["strategy"] == "fa"
        assert row.taken_at == T0 + timedelta(seconds=row.seq)
    # timer rows land one per minute of simulated time
    timer_times = [row.taken_at for row in writer.rows if row.reason == "timer"]
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(timer_times)}
    assert gaps == {60.0}

    # shutdown: the strategy's last change is flagged, stop() adds no duplicate
    async with state.transaction("stop") as tx:
        tx.set_status("stopped")
        tx.significant("shutdown")
    await flusher.stop()
    assert [r.reason for r in writer.rows[-1:]] == ["shutdown"]
    assert len(writer.rows) == 60 + 8 + 1
    assert writer.rows[-1].seq == state.seq


async def test_stop_writes_a_final_shutdown_row_once() -> None:
    _sim, state, writer, flusher = _setup()
    flusher.start()
    async with state.transaction() as tx:
        tx.set_status("running")
    await _settle()
    assert writer.rows == []
    await flusher.stop()
    await flusher.stop()
    assert [(r.seq, r.reason) for r in writer.rows] == [(1, "shutdown")]
    assert not flusher.running


async def test_changes_still_queued_at_stop_are_handled_first() -> None:
    _sim, state, writer, flusher = _setup()
    flusher.start()
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc())
        tx.significant("position_opened")
    async with state.transaction() as tx:
        tx.set_status("stopping")
    await flusher.stop()  # no _settle(): both changes are still in the queue
    assert [(r.seq, r.reason) for r in writer.rows] == [(1, "position_opened"),
                                                         (2, "shutdown")]


async def test_a_tick_on_an_already_written_seq_writes_nothing() -> None:
    sim, state, writer, flusher = _setup(interval_s=10)
    flusher.start()
    sim.advance(5)
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc())
        tx.significant("position_opened")
    await _settle()
    sim.advance(5)  # tick due, nothing changed since the significant row
    await _settle()
    sim.advance(10)  # still nothing changed
    await _settle()
    assert [(r.seq, r.reason) for r in writer.rows] == [(1, "position_opened")]
    async with state.transaction() as tx:
        tx.set_status("running")
    await _settle()
    sim.advance(10)
    await _settle()
    assert [(r.seq, r.reason) for r in writer.rows] == [(1, "position_opened"), (2, "timer")]
    await flusher.stop()
    assert len(writer.rows) == 2  # seq 2 already written: no shutdown duplicate


async def test_missed_ticks_collapse_into_one_row() -> None:
    sim, state, writer, flusher = _setup(interval_s=60)
    flusher.start()
    async with state.transaction() as tx:
        tx.set_status("running")
    await _settle()
    sim.advance(3600)
    await _settle()
    assert [r.reason for r in writer.rows] == ["timer"]
    # the schedule stays aligned to start(): next tick at +3660 s
    async with state.transaction() as tx:
        tx.set_status("paused")
    sim.advance(59)
    await _settle()
    assert len(writer.rows) == 1
    sim.advance(1)
    await _settle()
    assert len(writer.rows) == 2
    await flusher.stop()


async def test_interval_zero_disables_the_timer() -> None:
    sim, state, writer, flusher = _setup(interval_s=0)
    flusher.start()
    for second in range(1, 601):
        sim.advance(1)
        async with state.transaction() as tx:
            tx.set_clock(sim.t)
            if second == 300:
                tx.put_position("p-1", position_doc())
                tx.significant("position_opened")
        await asyncio.sleep(0)
    await flusher.stop()
    assert [(r.seq, r.reason) for r in writer.rows] == [(300, "position_opened"),
                                                         (600, "shutdown")]


async def test_timer_checks_ride_on_changes_when_sleep_lags_market_time() -> None:
    """With market time racing ahead (--speed max) the timer task's wall sleep has not
    returned yet; the tick is still taken when a change arrives."""
    sim = SimTime(T0)
    state = DashboardState("fa", bus=EventBus(), now=sim.now)
    writer = ListWriter()
    never = asyncio.Event()

    async def wall_sleep(seconds: float) -> None:
        await never.wait()

    flusher = SnapshotFlusher(state, writer, interval_s=60, sleep=wall_sleep)
    flusher.start()
    for _ in range(200):
        sim.t += timedelta(seconds=1)
        async with state.transaction() as tx:
            tx.set_clock(sim.t)
        await asyncio.sleep(0)
    await flusher.stop()
    assert [(r.seq, r.reason) for r in writer.rows] == [
        (60, "timer"), (120, "timer"), (180, "timer"), (200, "shutdown")]


async def test_overflowing_the_flusher_queue_writes_a_resync_row() -> None:
    sim = SimTime(T0)
    state = DashboardState("fa", bus=EventBus(), now=sim.now)
    writer = ListWriter()
    flusher = SnapshotFlusher(state, writer, interval_s=0, sleep=sim.sleep, queue_size=4)
    flusher.start()
    for n in range(10):  # the flusher task never runs in between
        async with state.transaction() as tx:
            tx.put_position("p-1", {"n": n})
            if n == 2:
                tx.significant("position_opened")
    await _settle()
    assert [(r.seq, r.reason) for r in writer.rows] == [(10, "resync")]
    await flusher.stop()


async def test_a_failing_writer_does_not_stop_the_flusher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = SimTime(T0)
    state = DashboardState("fa", bus=EventBus(), now=sim.now)
    rows: list[tuple[int, str]] = []

    class Flaky:
        def write_snapshot(self, strategy: str, seq: int, taken_at: datetime, reason: str,
                           payload: bytes) -> None:
            if seq == 1:
                raise OSError("disk full")
            rows.append((seq, reason))

    flusher = SnapshotFlusher(state, Flaky(), interval_s=0, sleep=sim.sleep)
    flusher.start()
    for n in range(2):
        async with state.transaction() as tx:
            tx.put_position(f"p-{n}", position_doc())
            tx.significant("position_opened")
        await _settle()
    await flusher.stop()
    assert rows == [(2, "position_opened"), ]
    assert "snapshot write failed" in caplog.text
    assert flusher.running is False


async def test_rows_land_in_a_real_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "dash.db"
    sim = SimTime(T0)
    state = DashboardState("fa", bus=EventBus(), now=sim.now)
    writer = SqliteWriter(path)
    flusher = SnapshotFlusher(state, writer, interval_s=30, sleep=sim.sleep)
    flusher.start()
    for second in range(1, 91):
        sim.advance(1)
        async with state.transaction() as tx:
            tx.set_clock(sim.t)
            if second == 45:
                tx.put_position("p-1", position_doc())
                tx.significant("position_opened")
        await _settle()
    await flusher.stop()
    writer.db.close()

    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT strategy, seq, taken_at, reason, payload FROM dashboard_snapshots ORDER BY id"
        ).fetchall()
    assert [(r[0], r[3]) for r in rows] == [
        ("fa", "timer"), ("fa", "position_opened"), ("fa", "timer"), ("fa", "timer"),
        ("fa", "shutdown"),
    ]
    opened = next(r for r in rows if r[3] == "position_opened")
    assert opened[1] == 45 and opened[2] == "2024-03-01T08:00:45.000Z"
    doc = orjson.loads(opened[4])
    assert doc["positions"]["p-1"]["qty"] == "0.1"
    assert orjson.loads(rows[-1][4]) == state.snapshot().to_dict()


def test_the_flusher_needs_a_bus() -> None:
    with pytest.raises(ValueError, match="bus"):
        SnapshotFlusher(DashboardState("x"), ListWriter())
    with pytest.raises(ValueError, match="interval"):
        SnapshotFlusher(DashboardState("x", bus=EventBus()), ListWriter(), interval_s=-1)
