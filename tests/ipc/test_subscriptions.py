"""Subscriptions over time: heartbeats, rate limits, resync on overflow, stalled peers."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from ipc import CommandTicket, Peer
from state import Notice, apply_merge_patch
from tests.ipc._double import STRATEGY, StrategyDouble, tick
from tests.ipc.conftest import RawConn, ServerFactory, SilentPeer


async def _subscribed(server_path: Any, **args: Any) -> tuple[RawConn, dict[str, Any]]:
    conn = await RawConn.open(server_path)
    await conn.line()
    await conn.send({"id": "sub", "op": "subscribe", **args})
    assert (await conn.line())["ok"] is True
    first = await conn.line()
    assert first["event"] == "snapshot"
    return conn, first


async def test_idle_subscriber_gets_heartbeats(make_server: ServerFactory) -> None:
    server = await make_server(heartbeat_s=0.2)
    conn, first = await _subscribed(server.path)
    started = time.monotonic()
    beats = [await conn.line(timeout_s=1.0) for _ in range(3)]
    elapsed = time.monotonic() - started
    assert [b["event"] for b in beats] == ["heartbeat"] * 3
    assert beats[0]["seq"] == {STRATEGY: first["seq"]}
    assert beats[0]["time"].endswith("Z")
    assert 0.45 < elapsed < 1.5
    await conn.close()


async def test_no_heartbeat_without_a_subscription(make_server: ServerFactory) -> None:
    server = await make_server(heartbeat_s=0.1)
    conn = await RawConn.open(server.path)
    await conn.line()
    await asyncio.sleep(0.35)
    await conn.send({"id": 1, "op": "ping"})
    assert (await conn.line())["id"] == 1
    await conn.close()


async def test_busy_subscriber_gets_no_heartbeat(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server(heartbeat_s=0.15)
    conn, _ = await _subscribed(server.path)
    for n in range(12):
        await tick(target.registry[STRATEGY], n, 50)
        await asyncio.sleep(0.05)
    events = [(await conn.line())["event"] for _ in range(12)]
    assert events == ["patch"] * 12
    await conn.close()


async def test_max_rate_coalesces_patches(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    server = await make_server()
    conn, first = await _subscribed(server.path, max_rate=5)
    received: list[tuple[float, dict[str, Any]]] = []

    async def read() -> None:
        while True:
            event = await conn.line(timeout_s=2.0)
            received.append((time.monotonic(), event))
            if event["seq"] == final_seq:
                return

    final_seq = -1
    reader = asyncio.create_task(read())
    for n in range(30):  # 30 changes in ~0.6 s
        await tick(state, n, 50)
        await asyncio.sleep(0.02)
    final_seq = state.seq
    if not any(e["seq"] == final_seq for _, e in received):
        await asyncio.wait_for(reader, 2.0)
    reader.cancel()
    doc, seq = first["snapshot"], first["seq"]
    for _, event in received:
        assert event["event"] == "patch"
        assert event["prev"] == seq
        doc = apply_merge_patch(doc, event["patch"])
        seq = event["seq"]
    assert doc == state.snapshot().to_dict()
    assert len(received) <= 6  # 5/s over ~0.8 s, not 30
    times = [t for t, _ in received]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap > 0.15 for gap in gaps), gaps
    await conn.close()


async def test_full_mode_with_max_rate_sends_the_latest(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    server = await make_server()
    conn, _ = await _subscribed(server.path, mode="full", max_rate=4)
    for n in range(10):
        await tick(state, n, 50)
    event = await conn.line(timeout_s=1.0)
    assert event["event"] == "snapshot" and event["seq"] == state.seq
    assert event["snapshot"] == state.snapshot().to_dict()
    await conn.close()


async def _flood(target: StrategyDouble, changes: int) -> None:
    state = target.registry[STRATEGY]
    for n in range(changes):
        await tick(state, n, 50, touched=50)
        if n % 50 == 0:
            await asyncio.sleep(0)  # let senders run, as a strategy loop would


async def _silent_subscriber(path: Any) -> SilentPeer:
    peer = SilentPeer(path)
    peer.send({"id": "sub", "op": "subscribe"})
    return peer


async def test_overflow_resyncs_then_patches_continue(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server()
    silent = await _silent_subscriber(server.path)
    await asyncio.sleep(0.05)
    await _flood(target, 700)  # far more than the socket, buffer and queue can hold
    state = target.registry[STRATEGY]
    conn = await silent.wake()
    assert (await conn.line())["type"] == "hello"
    assert (await conn.line())["id"] == "sub"
    first = await conn.line()
    doc, seq, resyncs = first["snapshot"], first["seq"], 0
    while seq != state.seq:
        event = await conn.line()
        if event["event"] == "snapshot":
            assert event["resync"] is True
            resyncs += 1
            doc, seq = event["snapshot"], event["seq"]
            continue
        assert event["event"] == "patch" and event["prev"] == seq
        doc = apply_merge_patch(doc, event["patch"])
        seq = event["seq"]
    assert resyncs >= 1 and server.counters["resyncs"] >= 1
    assert doc == state.snapshot().to_dict()
    await tick(state, 9999, 50)  # and the live stream goes on
    event = await conn.line()
    assert (event["event"], event["prev"]) == ("patch", seq)
    await conn.close()


async def test_a_stalled_reader_gets_bye_and_is_dropped(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server(stall_timeout_s=0.4, heartbeat_s=0.1)
    silent = await _silent_subscriber(server.path)
    healthy, _ = await _subscribed(server.path)
    reader = asyncio.create_task(_read_all(healthy))
    await _flood(target, 400)
    for _ in range(300):
        if server.counters["stalled"]:
            break
        await asyncio.sleep(0.01)
    assert server.counters["stalled"] == 1
    stalled = await silent.wake()
    lines = await asyncio.wait_for(_read_all(stalled), 5)
    assert lines[-1]["event"] == "bye"
    assert lines[-1]["reason"] == "stalled"
    for _ in range(200):
        if server.connection_count == 1:
            break
        await asyncio.sleep(0.01)
    assert server.connection_count == 1
    await tick(target.registry[STRATEGY], 1, 50)
    await asyncio.sleep(0.1)
    reader.cancel()
    await healthy.close()
    await stalled.close()


async def _read_all(conn: RawConn) -> list[dict[str, Any]]:
    import json

    lines: list[dict[str, Any]] = []
    while True:
        raw = await conn.reader.readline()
        if not raw:
            return lines
        lines.append(json.loads(raw))


async def test_resubscribe_restarts_from_a_fresh_snapshot(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    server = await make_server()
    conn, _ = await _subscribed(server.path)
    await tick(state, 1, 50)
    assert (await conn.line())["event"] == "patch"
    await conn.send({"id": 2, "op": "subscribe", "mode": "patch"})
    assert (await conn.line())["id"] == 2
    again = await conn.line()
    assert (again["event"], again["seq"], again["resync"]) == ("snapshot", state.seq, False)
    await tick(state, 2, 50)
    patch = await conn.line()
    assert patch["prev"] == again["seq"]
    await conn.close()


class _InstantTarget(StrategyDouble):
    """Finishes (and publishes the outcome) before returning the ticket."""

    async def close_position(
        self, strategy: str, position_id: str, reason: str, key: str | None, peer: Peer
    ) -> CommandTicket:
        self.bus.publish(
            Notice(strategy, "command", {"command_id": "c-now", "status": "completed"})
        )
        await asyncio.sleep(0.01)
        return CommandTicket("c-now")


async def test_the_reply_precedes_its_command_event(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server(target=_InstantTarget(target.registry, target.bus))
    conn, _ = await _subscribed(server.path)
    await conn.send({"id": 7, "op": "close_position", "position": "p-0001"})
    first, second = await conn.line(), await conn.line()
    assert (first["type"], first["id"]) == ("response", 7)
    assert (second["event"], second["data"]["command_id"]) == ("command", "c-now")
    await conn.close()


async def test_notices_reach_subscribers_of_their_strategy(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server()
    conn, _ = await _subscribed(server.path)
    target.bus.publish(
        Notice(STRATEGY, "alert", {"id": "a-1", "level": "warn", "code": "divergence"})
    )
    target.bus.publish(Notice("other", "alert", {"id": "a-2"}))
    event = await conn.line()
    assert event["event"] == "alert" and event["strategy"] == STRATEGY
    assert event["data"] == {"id": "a-1", "level": "warn", "code": "divergence"}
    await conn.send({"id": 1, "op": "ping"})
    assert (await conn.line())["id"] == 1  # the other strategy's alert was not sent
    await conn.close()


async def test_each_change_is_encoded_once_for_all_subscribers(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server()
    conns = [(await _subscribed(server.path))[0] for _ in range(20)]
    misses = server.lines.misses
    for n in range(5):
        await tick(target.registry[STRATEGY], n, 50)
    for conn in conns:
        for _ in range(5):
            assert (await conn.line())["event"] == "patch"
    assert server.lines.misses - misses == 5
    for conn in conns:
        await conn.close()
