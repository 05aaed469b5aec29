"""EventBus: fan-out, filters, the overflow/resync rule, and stalled subscribers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from state import (
    Change,
    DashboardState,
    EventBus,
    Notice,
    Resync,
    Subscription,
    SubscriptionClosed,
    apply_merge_patch,
)
from tests.state._helpers import StepClock


async def _bump(state: DashboardState, n: int) -> None:
    async with state.transaction("bump") as tx:
        tx.put_position("p-1", {"n": n})


def _drain(sub: Subscription) -> list[Any]:
    items = []
    while sub.qsize():
        items.append(sub.get_nowait())
    return items


async def test_every_subscriber_gets_the_same_change_object() -> None:
    bus = EventBus()
    state = DashboardState("s", bus=bus)
    subs = [bus.subscribe(f"s{n}") for n in range(3)]
    await _bump(state, 1)
    items = [sub.get_nowait() for sub in subs]
    assert isinstance(items[0], Change)
    # serialised once: one Change, one patch_bytes, shared by all subscribers
    assert all(item is items[0] for item in items)


async def test_filters_by_strategy_and_kind() -> None:
    bus = EventBus()
    a = DashboardState("a", bus=bus)
    b = DashboardState("b", bus=bus)
    everything = bus.subscribe("all")
    only_b = bus.subscribe("b", strategy="b")
    changes = bus.subscribe("changes", kinds=("change",))
    notices = bus.subscribe("notices", kinds=("notice",))
    alerts = bus.subscribe("alerts", kinds=("alert", "command"))
    await _bump(a, 1)
    await _bump(b, 1)
    bus.publish(Notice("a", "alert", {"id": "a-1", "level": "warn", "position": None}))
    bus.publish(Notice("b", "feed_lost", {"venue": "okx", "symbol": None}))

    def kinds(sub: Subscription) -> list[str]:
        return [f"{i.strategy}:{i.kind if isinstance(i, Notice) else 'change'}"
                for i in _drain(sub)]

    assert kinds(everything) == ["a:change", "b:change", "a:alert", "b:feed_lost"]
    assert kinds(only_b) == ["b:change", "b:feed_lost"]
    assert kinds(changes) == ["a:change", "b:change"]
    assert kinds(notices) == ["a:alert", "b:feed_lost"]
    assert kinds(alerts) == ["a:alert"]
    with pytest.raises(TypeError):
        bus.subscribe("bad", kinds="alert")


def test_notice_data_is_made_json_ready() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    notice = Notice("s", "position_closed",
                    {"realized_pnl": Decimal("1.50"), "at": datetime(2024, 1, 1, tzinfo=UTC),
                     "position": None, "legs": [Decimal("1")]})
    assert notice.data == {"realized_pnl": "1.50", "at": "2024-01-01T00:00:00.000Z",
                           "position": None, "legs": ["1"]}
    assert notice.ts.tzinfo is not None


async def test_get_waits_and_close_ends_iteration_after_draining() -> None:
    bus = EventBus()
    state = DashboardState("s", bus=bus)
    sub = bus.subscribe("t")
    waiter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    await _bump(state, 1)
    item = await asyncio.wait_for(waiter, 1)
    assert isinstance(item, Change) and item.seq == 1
    with pytest.raises(asyncio.QueueEmpty):
        sub.get_nowait()

    await _bump(state, 2)
    await _bump(state, 3)
    sub.close()
    await _bump(state, 4)  # after close: not delivered
    assert [i.seq async for i in sub if isinstance(i, Change)] == [2, 3]
    with pytest.raises(SubscriptionClosed):
        await sub.get()
    assert sub not in bus.subscriptions

    # a get() parked on an empty queue is woken by close()
    other = bus.subscribe("u")
    parked = asyncio.create_task(other.get())
    await asyncio.sleep(0)
    other.close()
    with pytest.raises(SubscriptionClosed):
        await asyncio.wait_for(parked, 1)


async def test_overflow_drops_changes_keeps_notices_and_queues_one_resync() -> None:
    bus = EventBus()
    state = DashboardState("s", bus=bus)
    sub = bus.subscribe("slow", maxsize=4)
    await _bump(state, 1)
    bus.publish(Notice("s", "command", {"n": 1}))
    await _bump(state, 2)
    await _bump(state, 3)
    await _bump(state, 4)  # fifth item: overflow
    assert sub.dropped == 4 and sub.resyncs == 1
    assert sub.qsize() == 2
    # while the resync waits, later changes fold into it
    await _bump(state, 5)
    bus.publish(Notice("s", "command", {"n": 2}))
    items = _drain(sub)
    assert [type(i).__name__ for i in items] == ["Notice", "Resync", "Notice"]
    resync = items[1]
    assert isinstance(resync, Resync)
    assert resync.seq == 5 and resync.snapshot is state.snapshot()
    assert sub.dropped == 5
    # once handed out, the resync is final and changes flow again
    await _bump(state, 6)
    (after,) = _drain(sub)
    assert isinstance(after, Change) and after.seq == 6
    assert resync.seq == 5


async def test_notices_alone_are_bounded_oldest_first() -> None:
    bus = EventBus()
    sub = bus.subscribe("slow", maxsize=3)
    for n in range(5):
        bus.publish(Notice("s", "command", {"n": n}))
    assert [i.data["n"] for i in _drain(sub)] == [2, 3, 4]
    assert sub.dropped == 2


async def test_overflow_resyncs_each_strategy_that_lost_changes() -> None:
    bus = EventBus()
    a = DashboardState("a", bus=bus)
    b = DashboardState("b", bus=bus)
    sub = bus.subscribe("slow", maxsize=2)
    await _bump(a, 1)
    await _bump(b, 1)
    await _bump(a, 2)
    items = _drain(sub)
    assert {(i.strategy, i.seq) for i in items} == {("a", 2), ("b", 1)}
    assert all(isinstance(i, Resync) for i in items)


async def test_a_stalled_subscriber_never_slows_the_strategy() -> None:
    """10,000 changes with one subscriber that never drains: the run stays fast, and the
    others (one keeping up, one too slow for its queue) each get every change or a resync
    that lets them rebuild the final document exactly."""
    clock = StepClock()
    bus = EventBus()
    state = DashboardState("s", bus=bus, now=clock)
    stalled = bus.subscribe("stalled", maxsize=64)
    first = state.snapshot().to_dict()
    results: dict[str, dict[str, Any]] = {}

    async def consume(sub: Subscription, pause_every: int) -> None:
        doc: dict[str, Any] = first
        expected = 1
        count = 0
        async for item in sub:
            if isinstance(item, Resync):
                doc = item.snapshot.to_dict()
                expected = item.seq + 1
            else:
                assert isinstance(item, Change)
                assert item.seq == expected, f"{sub.name}: gap before {item.seq}"
                doc = apply_merge_patch(doc, item.patch)
                expected += 1
            count += 1
            if pause_every and count % pause_every == 0:
                await asyncio.sleep(0.001)
        results[sub.name] = {"doc": doc, "last": expected - 1, "resyncs": sub.resyncs}

    fast = bus.subscribe("fast", maxsize=64)
    slow = bus.subscribe("slow", maxsize=64)
    consumers = [asyncio.create_task(consume(fast, 0)), asyncio.create_task(consume(slow, 10))]

    started = time.perf_counter()
    worst = 0.0
    for n in range(10_000):
        clock.advance(1)
        t0 = time.perf_counter()
        async with state.transaction("cycle") as tx:
            tx.set_clock(clock.t)
            tx.put_position(f"p-{n % 20}", {"n": n, "mark": str(n * 3)})
            if n % 50 == 0:
                tx.remove_position(f"p-{(n + 7) % 20}")
        worst = max(worst, time.perf_counter() - t0)
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.05)
    fast.close()
    slow.close()
    await asyncio.gather(*consumers)

    final = state.snapshot().to_dict()
    assert state.seq == 10_000
    assert elapsed < 10.0, f"10,000 commits took {elapsed:.1f}s"
    assert worst < 0.1, f"one commit took {worst * 1000:.1f} ms"
    # the stalled one holds a single resync carrying the newest snapshot
    assert stalled.qsize() == 1 and stalled.dropped >= 10_000 - 64
    (pending,) = _drain(stalled)
    assert isinstance(pending, Resync) and pending.seq == 10_000
    for name in ("fast", "slow"):
        assert results[name]["last"] == 10_000
        assert results[name]["doc"] == final, name
    assert results["fast"]["resyncs"] == 0
    assert results["slow"]["resyncs"] >= 1, "the slow reader should have overflowed"
