"""``dash replay``: stored snapshots served with the live protocol, paced by their times."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from cli._replay import serve_replay
from ipc import Client, RequestFailed
from state import Change, apply_merge_patch
from state.replay import ReplayPlayer, SnapshotSource, StoredSnapshot
from strategy.store._codec import time_from_text
from strategy.store.maintenance import ArchiveSnapshotSource, DbSnapshotSource, prune
from tests.persistence._cli import DASH, REPO

HOUR = 3600


def stored(db: Path) -> list[tuple[int, datetime, bytes]]:
    """(seq, taken_at, payload) of every snapshot row, in write order."""
    conn = sqlite3.connect(db)
    try:
        return [
            (seq, time_from_text(taken), bytes(payload))
            for seq, taken, payload in conn.execute(
                "SELECT seq, taken_at, payload FROM dashboard_snapshots ORDER BY id"
            )
        ]
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def replaying(
    source: SnapshotSource, sock: Path, **options: Any
) -> AsyncIterator[ReplayPlayer]:
    stop = asyncio.Event()
    started: asyncio.Future[ReplayPlayer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve_replay(source, sock, stop, ready=lambda _, p: started.set_result(p), **options)
    )
    done, _ = await asyncio.wait({task, started}, timeout=10, return_when="FIRST_COMPLETED")
    assert started in done, task.exception() if task.done() else "replay did not start"
    try:
        yield started.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def dash(*args: object) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        *DASH, *map(str, args), cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out, err


async def test_snapshot_json_equals_the_stored_payload_at_that_time(backtest_db, short_tmp):
    rows = stored(backtest_db)
    at = datetime(2023, 1, 10, 5, 30, tzinfo=UTC)
    seq, taken, payload = [r for r in rows if r[1] <= at][-1]
    assert at - timedelta(hours=3) < taken < at  # the row in force at that time
    sock = short_tmp / "r.sock"
    async with replaying(DbSnapshotSource(backtest_db), sock, speed=1.0, since=at):
        code, out, err = await dash("snapshot", "--json", "--socket", sock)
        assert code == 0, err
        assert out == payload + b"\n"
        async with Client(sock) as client:
            assert client.hello["mode"] == "replay"
            assert client.hello["read_only"] is True
            reply = await client.snapshot()
            assert reply["seq"] == seq == orjson.loads(payload)["seq"]


async def test_a_subscriber_sees_the_stored_seqs_in_order(backtest_db, short_tmp):
    since = datetime(2023, 1, 15, tzinfo=UTC)
    until = since + timedelta(hours=12)
    rows = stored(backtest_db)
    expected = [r for r in rows if since < r[1] <= until]
    start = [r for r in rows if r[1] <= since][-1]
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=200 * HOUR, since=since,
                  until=until) as player,
        Client(sock) as client,
    ):
        await client.subscribe()
        first = await client.next_event(timeout_s=5)
        assert first["event"] == "snapshot" and first["seq"] == start[0]
        doc = first["snapshot"]
        seen = []
        while len(seen) < len(expected):
            event = await client.next_event(timeout_s=5)
            if event["event"] != "patch":
                continue
            assert event["prev"] == (seen[-1] if seen else start[0])
            doc = apply_merge_patch(doc, event["patch"])
            seen.append(event["seq"])
            assert doc == orjson.loads(expected[len(seen) - 1][2])  # the stored document
        assert seen == [r[0] for r in expected]
        assert all(b - a > 1 for a, b in itertools.pairwise(seen))  # served as stored
        assert player.served == len(expected) + 1


async def _pacing(db: Path, sock: Path, speed: float, n: int) -> list[tuple[float, float]]:
    """(measured, expected) wall seconds from the first of ``n`` patches to each later one."""
    since = datetime(2023, 1, 12, tzinfo=UTC)
    times = [r[1] for r in stored(db) if r[1] > since][:n]
    async with (
        replaying(DbSnapshotSource(db), sock, speed=speed, since=since),
        Client(sock) as client,
    ):
        await client.subscribe()
        await client.next_event(timeout_s=5)
        arrivals = []
        while len(arrivals) < n:
            event = await client.next_event(timeout_s=5)
            if event["event"] == "patch":
                arrivals.append(time.monotonic())
    return [
        (arrival - arrivals[0], (taken - times[0]).total_seconds() / speed)
        for arrival, taken in zip(arrivals[1:], times[1:], strict=True)
    ]


async def test_speed_scales_the_pacing(backtest_db, short_tmp):
    """Patch k arrives (t_k - t_0) / speed after the first: the clock is anchored once, so
    delivery jitter does not add up."""
    slow = await _pacing(backtest_db, short_tmp / "a.sock", 30 * HOUR, 7)
    fast = await _pacing(backtest_db, short_tmp / "b.sock", 60 * HOUR, 7)
    for measured, expected in (*slow, *fast):
        assert abs(measured - expected) < 0.05 + 0.1 * expected, (slow, fast)
    assert slow[-1][1] == pytest.approx(2 * fast[-1][1]) and slow[-1][1] > 0.4
    assert slow[-1][0] > 1.5 * fast[-1][0]


async def test_control_is_refused_and_ping_reports_the_replay_clock(backtest_db, short_tmp):
    since = datetime(2023, 1, 16, 0, 30, tzinfo=UTC)
    sock = short_tmp / "r.sock"
    async with (
        replaying(DbSnapshotSource(backtest_db), sock, speed=float(HOUR), since=since),
        Client(sock) as client,
    ):
        doc = (await client.snapshot())["snapshot"]
        position = next(iter(doc["positions"]))
        with pytest.raises(RequestFailed) as refused:
            await client.close_position(position, reason="test")
        assert refused.value.code == "forbidden"

        first = await client.ping()
        await asyncio.sleep(0.3)
        second = await client.ping()
        clock = [time_from_text(p["replay"]["clock"]) for p in (first, second)]
        assert since <= clock[0] < clock[1] < since + timedelta(hours=1)  # 3600x: an hour a second
        assert 0.2 * HOUR < (clock[1] - clock[0]).total_seconds() < 0.6 * HOUR
        assert first["replay"]["speed"] == HOUR and first["replay"]["ended"] is False
        # the document being served is the last one taken before the clock
        taken = [r[1] for r in stored(backtest_db) if r[1] <= clock[0]][-1]
        assert time_from_text(first["replay"]["taken_at"]) == taken
        assert first["clock"] == {"funding-arb": first["replay"]["clock"]}
    code, _, err = await dash("snapshot", "--json", "--socket", sock)
    assert code == 69, err  # stopped: the socket is gone


async def _collect(source: SnapshotSource, **options: Any) -> list[Change]:
    """Every change a player publishes, playing as fast as possible."""
    player = ReplayPlayer(source, speed=None, **options)
    sub = player.bus.subscribe("test", maxsize=100_000)
    stop = asyncio.Event()
    task = asyncio.create_task(player.run(stop))
    while not player.ended:
        await asyncio.sleep(0.01)
        assert not task.done()
    stop.set()
    await task
    changes = []
    while sub.qsize():
        item = sub.get_nowait()
        if isinstance(item, Change):
            changes.append(item)
    return changes


async def test_an_archive_replays_like_the_database(backtest_db, tmp_path):
    since = datetime(2023, 1, 3, tzinfo=UTC)
    before = [(c.seq, c.snapshot.payload) for c in await _collect(DbSnapshotSource(backtest_db),
                                                                   since=since)]
    archive = tmp_path / "all.ndjson.gz"
    far = datetime(2030, 1, 1, tzinfo=UTC)
    count = len(stored(backtest_db))
    assert prune(backtest_db, older_than=far, archive=archive).deleted == count
    assert stored(backtest_db) == []
    source = ArchiveSnapshotSource(archive)
    assert source.strategies() == ["funding-arb"]
    after = [(c.seq, c.snapshot.payload) for c in await _collect(source, since=since)]
    assert after == before
    assert len(before) > 100


class _Rows:
    """A three-row source, to watch what a player does with seqs at the edges."""

    def __init__(self, rows: list[StoredSnapshot]) -> None:
        self._rows = rows

    def describe(self) -> str:
        return "test rows"

    def strategies(self) -> list[str]:
        return ["s"]

    def rows(self, since: datetime | None, until: datetime | None) -> Any:
        return iter(self._rows)


def _row(seq: int, minute: int) -> StoredSnapshot:
    when = datetime(2024, 3, 1, 0, minute, tzinfo=UTC)
    doc = {"schema": 1, "strategy": "s", "seq": seq, "ts": f"2024-03-01T00:{minute:02d}:00.000Z",
           "status": "running", "totals": {"n": str(seq)}}
    return StoredSnapshot("s", seq, when, "timer", orjson.dumps(doc))


async def test_loop_and_a_restarted_run_keep_seqs_increasing():
    # seqs 10, 20 from one run, then 3 from a restarted one (its seqs start over)
    rows = [_row(10, 0), _row(20, 1), _row(3, 2)]
    player = ReplayPlayer(_Rows(rows), speed=None, loop=True)
    sub = player.bus.subscribe("test", maxsize=1000)
    stop = asyncio.Event()
    task = asyncio.create_task(player.run(stop))
    for _ in range(5000):
        if player.passes >= 2:
            break
        await asyncio.sleep(0.001)
    stop.set()
    await task
    seqs = []
    while sub.qsize():
        item = sub.get_nowait()
        if isinstance(item, Change):
            seqs.append(item.seq)
            assert item.snapshot.doc["seq"] == item.seq
    assert seqs[:3] == [10, 20, 21]  # as stored, then shifted up to stay increasing
    second = seqs[3:6]  # the next pass: higher still, with the same jumps as stored
    assert second[0] > seqs[2] and [b - a for a, b in itertools.pairwise(second)] == [10, 1]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_dash_replay_end_to_end(backtest_db, short_tmp):
    sock = short_tmp / "cli.sock"
    rows = stored(backtest_db)
    seq, _, payload = [r for r in rows if r[1] <= datetime(2023, 1, 8, tzinfo=UTC)][-1]
    proc = await asyncio.create_subprocess_exec(
        *DASH, "replay", "--db", str(backtest_db), "--from", "2023-01-08T00:00:00Z",
        "--speed", "60", "--socket", str(sock), cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.05)
        code, out, err = await dash("snapshot", "--json", "--socket", sock)
        assert code == 0, err
        assert out == payload + b"\n"
        code, out, err = await dash("ping", "--json", "--socket", sock)
        assert code == 0, err
        assert orjson.loads(out)["seq"] == {"funding-arb": seq}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, err
    assert b"replaying funding-arb from db" in err
    assert not sock.exists()


async def test_dash_replay_refuses_bad_options(backtest_db, tmp_path):
    code, _, err = await dash("replay", "--db", backtest_db, "--archive", tmp_path / "x.gz")
    assert code == 2 and b"cannot be used together" in err
    code, _, err = await dash("replay", "--db", backtest_db, "--speed", "fast")
    assert code == 2 and b"--speed" in err
    code, _, err = await dash("replay", "--db", tmp_path / "none.db")
    assert code == 1 and b"no database at" in err
    code, _, err = await dash("replay", "--db", backtest_db, "--strategy", "nope")
    assert code == 1 and b"no snapshots of 'nope'" in err
