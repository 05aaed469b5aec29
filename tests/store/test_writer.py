"""The writer task: batching, surviving bad ops, flush/close, reads beside a long queue."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from strategy.store import AlertRecord, Store, StoreClosedError
from tests.store.factories import T0, funding, position


async def test_many_ops_are_committed_in_few_transactions(db_path: Path) -> None:
    store = await Store.open(db_path, max_batch=500)
    try:
        store.insert_position(position())
        for hour in range(4_999):
            store.record_funding(funding(hours=hour))
        await store.flush()
        stats = store.stats
        assert stats.ops == stats.enqueued == 5_000
        assert stats.commits <= 11  # 5_000 / 500, plus one lone early op at most
        assert stats.largest_batch == 500
        assert stats.pending == 0
        assert (await store.table_counts())["funding_payments"] == 4_999
    finally:
        await store.close()


async def test_a_trickle_of_ops_is_grouped_by_the_linger(db_path: Path) -> None:
    store = await Store.open(db_path, linger=0.05)
    try:
        store.insert_position(position())
        for hour in range(20):  # one op per loop turn, as a strategy tick would
            store.record_funding(funding(hours=hour))
            await asyncio.sleep(0)
        await store.flush()
        assert store.stats.ops == 21
        assert store.stats.commits <= 2
    finally:
        await store.close()


async def test_bad_ops_are_logged_and_dropped_without_losing_the_batch(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="strategy.store")
    store.insert_position(position("p-1"))
    store.record_funding(funding("p-1", hours=0))
    store.insert_position(position("p-1", symbol="DUPLICATE/ID"))  # primary key clash
    store.record_funding(funding("p-missing", hours=0))  # foreign key violation
    store.record_funding(funding("p-1", hours=8))
    store.insert_position(position("p-2"))
    await store.flush()

    assert store.stats.failed_ops == 2
    assert store.stats.ops == 4
    assert [p.id for p in await store.positions()] == ["p-1", "p-2"]
    assert (await store.position("p-1")).symbol == "BTC/USDT"  # type: ignore[union-attr]
    assert len(await store.funding_payments("p-1")) == 2
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 2
    assert "insert_position p-1 ('p-1'" in dropped[0] and "UNIQUE" in dropped[0]
    assert "record_funding p-missing/binance" in dropped[1] and "FOREIGN KEY" in dropped[1]

    # The writer is still alive and keeps writing.
    store.insert_position(position("p-3"))
    await store.flush()
    assert await store.position("p-3") is not None


async def test_unknown_ids_in_updates_are_logged_not_failed(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="strategy.store")
    store.close_position("p-none", T0, "operator", Decimal(1), Decimal(1), Decimal(0), Decimal(0))
    await store.flush()
    assert store.stats.failed_ops == 0 and store.stats.unchanged_ops == 1
    assert any("close_position p-none (" in r.getMessage() for r in caplog.records)


async def test_bad_values_fail_at_the_call_site(store: Store) -> None:
    with pytest.raises(TypeError, match="exit_fees must be a Decimal"):
        store.close_position("p-1", T0, "x", Decimal(1), Decimal(1), 0.5, Decimal(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="taken_at must be timezone-aware"):
        store.write_snapshot("s", 1, T0.replace(tzinfo=None), "timer", b"{}")
    with pytest.raises(TypeError, match="payload must be bytes"):
        store.write_snapshot("s", 1, T0, "timer", "{}")  # type: ignore[arg-type]
    assert store.stats.enqueued == 0


async def test_close_drains_then_refuses_writes_and_flush_is_harmless(db_path: Path) -> None:
    store = await Store.open(db_path)
    store.insert_position(position())
    for hour in range(2_000):
        store.record_funding(funding(hours=hour))
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0)
    await store.flush()  # during close: waits for the drain instead of failing
    await closing
    with pytest.raises(StoreClosedError, match="Cannot queue a write"):
        store.record_alert(AlertRecord("a", "s", T0, "warn", "c", "m"))
    with pytest.raises(StoreClosedError, match="Cannot read"):
        await store.positions()
    await store.flush()
    await store.close()  # twice is fine
    async with await Store.open(db_path) as again:
        assert (await again.table_counts())["funding_payments"] == 2_000


async def test_reads_do_not_wait_behind_the_write_queue(store: Store) -> None:
    store.insert_position(position("p-early"))
    await store.flush()
    for hour in range(60_000):
        store.record_funding(funding("p-early", hours=hour))
    # The queue holds 60k ops (seconds of work); a read must answer from committed data now.
    [early] = await store.open_positions("funding-arb")
    assert early.id == "p-early"
    assert store.stats.pending > 10_000
    await store.flush()
    assert store.stats.pending == 0


async def test_a_long_queue_is_logged_and_the_threshold_grows(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="strategy.store")
    store = await Store.open(db_path, queue_warn_at=100)
    try:
        store.insert_position(position())
        for hour in range(399):  # no await: the writer cannot run meanwhile
            store.record_funding(funding(hours=hour))
        warnings = [r.getMessage() for r in caplog.records if "writes pending" in r.getMessage()]
        assert len(warnings) == 3  # at 100, 200 and 400 pending: none dropped, none blocked
        assert "next warning at 200" in warnings[0]
        assert store.stats.queue_high_water == 400
        await store.flush()
        assert store.stats.ops == 400
    finally:
        await store.close()


async def test_a_write_from_another_process_does_not_lose_ops(db_path: Path) -> None:
    # Another connection holding the write lock briefly makes the batch wait (busy_timeout),
    # not fail.
    import sqlite3

    store = await Store.open(db_path)
    try:
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        store.insert_position(position())
        flushed = asyncio.create_task(store.flush())
        await asyncio.sleep(0.2)
        assert not flushed.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(flushed, 5)
        assert store.stats.failed_ops == 0 and await store.position("p-1") is not None
    finally:
        await store.close()


def test_datetimes_in_ops_are_utc_text() -> None:
    from strategy.store.ops import funding_insert

    op = funding_insert(funding(hours=1))
    assert op.params[3] == "2023-06-01T09:00:00.000Z"
    assert op.params[4] == int((T0 + timedelta(hours=1)).timestamp() * 1000)
    assert "record_funding p-1/binance ('p-1', 'funding-arb', 'binance'" in op.describe()
