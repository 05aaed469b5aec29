"""The ``replay`` op: pause, resume and seek a real ``dash replay`` server (real socket,
real SQLite file), and what clients then see."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ipc import Client, RequestFailed
from state import apply_merge_patch
from strategy.store._codec import time_from_text
from strategy.store.maintenance import DbSnapshotSource
from tests.persistence.test_replay import HOUR, dash, replaying, stored

SINCE = datetime(2023, 1, 15, 0, 30, tzinfo=UTC)
EARLY = datetime(2023, 1, 5, tzinfo=UTC)  # a --from that leaves room to seek back
DAY = 24 * HOUR


def _clock(reply: dict[str, Any]) -> datetime:
    return time_from_text(reply["clock"])


async def _ping_clock(client: Client) -> datetime:
    return time_from_text((await client.ping())["replay"]["clock"])


def _in_force(db: Any, at: datetime) -> tuple[int, datetime, bytes]:
    """The stored row a replay must serve at ``at``: the last taken at or before it."""
    return [r for r in stored(db) if r[1] <= at][-1]


def _without_seq(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "seq"}


async def test_pause_freezes_the_clock_and_resume_goes_on_from_there(backtest_db, short_tmp):
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=float(HOUR), since=SINCE) as player,
        Client(sock) as client,
    ):
        paused = await client.replay("pause")
        assert paused["paused"] is True and paused["speed"] == HOUR
        assert paused["from"] == "2023-01-15T00:30:00.000Z" and paused["to"] is None
        frozen = _clock(paused)
        assert SINCE < frozen < SINCE + timedelta(hours=1)
        await asyncio.sleep(0.5)  # half an hour of market time, were it running
        ping = await client.ping()
        assert time_from_text(ping["replay"]["clock"]) == frozen
        assert ping["replay"]["paused"] is True
        assert ping["clock"] == {"funding-arb": ping["replay"]["clock"]}
        served = player.served
        assert (await client.replay("pause"))["clock"] == paused["clock"]  # idempotent

        resumed = await client.replay("resume")
        assert resumed["paused"] is False
        await asyncio.sleep(0.3)
        moved = (await _ping_clock(client) - frozen).total_seconds()
        # Re-anchored at the frozen time: 0.3 s at 3600x is ~0.3 h, not the 0.8 h+ that
        # counting the paused time would give.
        assert 0.2 * HOUR < moved < 0.6 * HOUR, moved
        assert player.served >= served


async def test_seek_to_a_time_serves_the_stored_payload_of_that_time(backtest_db, short_tmp):
    at = datetime(2023, 1, 10, 5, 30, tzinfo=UTC)  # before SINCE: a seek backwards
    seq_then, taken, payload = _in_force(backtest_db, at)
    start_seq, _, start_payload = _in_force(backtest_db, SINCE)
    assert taken < at and seq_then < start_seq
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=float(HOUR), since=EARLY),
        Client(sock) as client,
    ):
        await client.replay("pause")  # so the clock reads exactly where it was sent
        state = await client.replay("seek", to="2023-01-15T00:30:00Z")  # forwards first
        assert _clock(state) == SINCE
        assert (await client.snapshot())["snapshot"] == orjson.loads(start_payload)
        await client.subscribe()
        first = await client.next_event(timeout_s=5)
        assert first["event"] == "snapshot" and first["seq"] == start_seq

        state = await client.replay("seek", to="2023-01-10T05:30:00Z")
        assert _clock(state) == at and state["paused"] is True
        assert await _ping_clock(client) == at

        # Subscribers get it like any change: a patch whose seq still increases.
        event = await client.next_event(timeout_s=5)
        while event["event"] != "patch":
            event = await client.next_event(timeout_s=5)
        assert event["prev"] == start_seq and event["seq"] > start_seq
        doc = apply_merge_patch(first["snapshot"], event["patch"])
        expected = orjson.loads(payload)
        assert doc["seq"] == event["seq"]  # the stored seq, shifted up (it went back)
        assert _without_seq(doc) == _without_seq(expected)

        code, out, err = await dash("snapshot", "--json", "--socket", sock)
        assert code == 0, err
        assert _without_seq(orjson.loads(out)) == _without_seq(expected)
        assert (await client.snapshot())["seq"] == event["seq"]

        # A seek inside the row in force changes nothing but the clock.
        state = await client.replay("seek", by=60)
        assert _clock(state) == at + timedelta(minutes=1)
        assert (await client.snapshot())["seq"] == event["seq"]

        # Paced at `speed` from the new position once resumed.
        await client.replay("resume")
        await asyncio.sleep(0.3)
        moved = (await _ping_clock(client) - at).total_seconds() - 60
        assert 0.2 * HOUR < moved < 0.6 * HOUR, moved


async def test_seek_by_negative_seconds_goes_back_in_market_time(backtest_db, short_tmp):
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=float(HOUR), since=EARLY),
        Client(sock) as client,
    ):
        await client.replay("seek", to="2023-01-15T00:30:00Z")
        frozen = _clock(await client.replay("pause"))
        assert SINCE <= frozen < SINCE + timedelta(hours=1)
        state = await client.replay("seek", by=-DAY)
        target = frozen - timedelta(days=1)
        assert _clock(state) == target
        stored_seq, taken, payload = _in_force(backtest_db, target)
        assert taken <= target < taken + timedelta(hours=3)
        doc = (await client.snapshot())["snapshot"]
        assert _without_seq(doc) == _without_seq(orjson.loads(payload))
        info = (await client.ping())["replay"]
        assert time_from_text(info["taken_at"]) == taken

        # Forward again, by a day and a half: the row of that time, seq still higher.
        before = (await client.snapshot())["seq"]
        state = await client.replay("seek", by=1.5 * DAY)
        later = target + timedelta(days=1.5)
        assert _clock(state) == later
        reply = await client.snapshot()
        later_seq, _, later_payload = _in_force(backtest_db, later)
        assert reply["seq"] > before
        assert reply["seq"] - later_seq == before - stored_seq  # the same shift, jumps kept
        assert _without_seq(reply["snapshot"]) == _without_seq(orjson.loads(later_payload))


async def test_seeks_stay_within_the_replay(backtest_db, short_tmp):
    until = datetime(2023, 1, 16, tzinfo=UTC)
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=float(HOUR), since=SINCE,
                  until=until),
        Client(sock) as client,
    ):
        await client.replay("pause")
        state = await client.replay("seek", to="2022-06-01T00:00:00Z")
        assert _clock(state) == SINCE  # not before --from
        assert (await client.snapshot())["snapshot"]["ts"] == orjson.loads(
            _in_force(backtest_db, SINCE)[2]
        )["ts"]
        state = await client.replay("seek", to="2023-03-01T00:00:00Z")
        last = _in_force(backtest_db, until)
        assert state["ended"] is True and _clock(state) == last[1]  # held at the last row
        state = await client.replay("seek", by=-HOUR * 6)
        assert state["ended"] is False and _clock(state) == last[1] - timedelta(hours=6)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({}, "'action' must be one of"),
        ({"action": "rewind"}, "'action' must be one of"),
        ({"action": 1}, "'action' must be one of"),
        ({"action": "seek"}, "seek takes one of 'to'"),
        ({"action": "seek", "to": "2023-01-10T00:00:00Z", "by": 60}, "seek takes one of"),
        ({"action": "seek", "to": "yesterday"}, "'to' must be an ISO-8601 time"),
        ({"action": "seek", "to": 1673308800}, "'to' must be an ISO-8601 time"),
        ({"action": "seek", "to": None}, "'to' must be an ISO-8601 time"),
        ({"action": "seek", "by": "1h"}, "'by' must be a number of seconds"),
        ({"action": "seek", "by": True}, "'by' must be a number of seconds"),
        ({"action": "seek", "by": 1e300}, "'by' must be a number of seconds"),
        ({"action": "pause", "by": 60}, "'to' and 'by' go with action 'seek'"),
    ],
)
async def test_bad_arguments_are_bad_requests(backtest_db, short_tmp, args, words):
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=float(HOUR), since=SINCE),
        Client(sock) as client,
    ):
        before = (await client.snapshot())["seq"]
        with pytest.raises(RequestFailed) as refused:
            await client.request("replay", **args)
        assert refused.value.code == "bad_request"
        assert words in refused.value.message
        assert (await client.ping())["replay"]["paused"] is False  # nothing happened
        assert (await client.snapshot())["seq"] == before
