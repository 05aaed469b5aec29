"""Crash recovery: a killed strategy's positions and funding come back from its database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from decimal import Decimal as D

from strategy.clock import ManualClock
from strategy.engine import FundingArbitrageStrategy
from strategy.exchanges import PaperExchange
from strategy.store import Store
from tests.conftest import REPO_ROOT
from tests.strategy.markets import CRASH_CONFIG, crash_market


async def restart(db, feed):
    """What the runner does on start: resume the clock, build, restore."""
    store = await Store.open(db)
    resumed = await store.runtime_clock(CRASH_CONFIG.id)
    assert resumed is not None
    clock = ManualClock(resumed)
    exchanges = {v: PaperExchange(v, feed, clock) for v in CRASH_CONFIG.venues}
    strategy = FundingArbitrageStrategy(CRASH_CONFIG, exchanges, clock, store)
    return store, clock, strategy


async def assert_every_settlement_paid_once(store, strategy, feed, now):
    payments = await store.funding_payments(strategy=CRASH_CONFIG.id)
    keys = Counter((p.position_id, p.venue, p.funding_time) for p in payments)
    assert max(keys.values()) == 1
    for position in strategy.positions:
        for leg in position.legs:
            expected = feed.settlements(leg.venue, position.symbol, position.opened_at, now)
            rows = [p for p in payments if (p.position_id, p.venue) == (position.id, leg.venue)]
            assert [r.funding_time for r in rows] == [e.funding_time for e in expected]
            # the book agrees with the database, so nothing was counted twice in memory
            assert leg.funding == sum((r.amount for r in rows), D(0))


async def test_restart_after_kill_9_restores_positions_and_never_pays_twice(tmp_path):
    db = tmp_path / "crash.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.strategy._crash_child",
        str(db),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        assert line.strip() == b"ready"
        child.send_signal(signal.SIGKILL)  # mid-run, with writes in flight
    finally:
        await asyncio.wait_for(child.wait(), timeout=30)
    assert child.returncode == -signal.SIGKILL

    feed = crash_market()
    store, clock, strategy = await restart(db, feed)
    try:
        records = await store.open_positions(CRASH_CONFIG.id)
        assert {r.symbol for r in records} == {"BTC/USDT", "ETH/USDT"}
        paid_before = {
            r.id: sum((p.amount for p in await store.funding_payments(position_id=r.id)), D(0))
            for r in records
        }
        assert all(v > 0 for v in paid_before.values())
        restored = await strategy.restore()
        assert {p.id for p in restored} == {r.id for r in records}
        for position in restored:
            assert position.funding_collected == paid_before[position.id]
            assert position.status == "open"
        # the clock resumed where the run got to, and the next cycles go on from there
        resumed_at = clock.now()
        for _ in range(20):
            await strategy.run_cycle()
            clock.advance(CRASH_CONFIG.cycle_s)
        await store.flush()
        assert len(strategy.positions) == 2 and strategy.positions.opened_count == 0
        await assert_every_settlement_paid_once(store, strategy, feed, clock.now())
        assert clock.now() > resumed_at
    finally:
        await store.close()


async def test_restore_rewound_clock_does_not_repay(tmp_path):
    """Even restarted from an earlier time than the last payment, nothing is paid twice."""
    feed = crash_market()
    db = tmp_path / "rewind.db"
    store = await Store.open(db)
    clock = ManualClock(feed.start)
    exchanges = {v: PaperExchange(v, feed, clock) for v in CRASH_CONFIG.venues}
    first = FundingArbitrageStrategy(CRASH_CONFIG, exchanges, clock, store)
    for _ in range(40):
        await first.run_cycle()
        clock.advance(3600)
    await store.close()

    store = await Store.open(db)
    try:
        clock = ManualClock(feed.start + (40 - 20) * (clock.now() - feed.start) / 40)
        exchanges = {v: PaperExchange(v, feed, clock) for v in CRASH_CONFIG.venues}
        second = FundingArbitrageStrategy(CRASH_CONFIG, exchanges, clock, store)
        await second.restore()
        before = {p.id: p.funding_collected for p in second.positions}
        for _ in range(20):  # replays hours whose settlements are already paid
            await second.run_cycle()
            clock.advance(3600)
        assert {p.id: p.funding_collected for p in second.positions} == before
        await second.run_cycle()
        await store.flush()
        await assert_every_settlement_paid_once(store, second, feed, clock.now())
        totals = second.summary()
        assert totals["positions_opened"] == 0 and totals["open_positions"] == 2
    finally:
        await store.close()
