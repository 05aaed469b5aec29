"""Control commands end to end against the real paper strategy on a real socket.

The strategy runs in-process (so the test can count the paper exchange's fills), but
everything the client sees goes through the Unix socket, and everything recorded goes
through the real SQLite writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from ipc import Client, RequestFailed
from state import apply_merge_patch
from strategy.runner import StrategyProcess

from ._process import running as run_process


@contextlib.asynccontextmanager
async def running(short_tmp: Path, **kw: object) -> AsyncIterator[StrategyProcess]:
    sock = kw.pop("socket", short_tmp / "s.sock")
    async with run_process(short_tmp / "c.db", sock, **kw) as proc:  # type: ignore[arg-type]
        yield proc


async def first_position(client: Client) -> tuple[str, dict]:
    """Subscribe and return (position id, document) once a position is open."""
    await client.subscribe()
    doc: dict = {}
    async with asyncio.timeout(20):
        while True:
            event = await client.next_event()
            if event["event"] == "snapshot":
                doc = event["snapshot"]
            elif event["event"] == "patch":
                assert event["prev"] == doc["seq"]
                doc = apply_merge_patch(doc, event["patch"])
            if doc.get("positions"):
                return next(iter(doc["positions"])), doc


def fills(proc: StrategyProcess, pid: str) -> int:
    assert proc.strategy is not None
    return sum(
        1
        for exchange in proc.strategy.exchanges.values()
        for fill in exchange.fills  # type: ignore[attr-defined]
        if fill.client_order_id.startswith(pid)
    )


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


async def test_close_position_flow_accept_event_patch_db_and_audit(short_tmp: Path) -> None:
    async with running(short_tmp) as proc:
        client = Client(short_tmp / "s.sock")
        await client.connect()
        pid, doc = await first_position(client)
        assert fills(proc, pid) == 2  # one per leg at entry

        ticket = await client.close_position(pid, reason="operator test", idempotency_key="k-1")
        assert ticket["status"] == "accepted"
        command_id = ticket["command_id"]

        event = await client.wait_command(command_id, timeout_s=10)
        assert event["strategy"] == "funding-arb"
        assert event["data"]["status"] == "completed"
        assert event["data"]["position"] == pid
        assert event["data"]["peer_uid"] == os.getuid()

        # the state change arrives as a patch deleting the position
        async with asyncio.timeout(10):
            while pid in doc["positions"]:
                patch_event = await client.wait_event(lambda e: e["event"] == "patch")
                doc = apply_merge_patch(doc, patch_event["patch"])
        assert fills(proc, pid) == 4  # both legs closed once

        # repeating the key returns the first result and never trades again
        again = await client.close_position(pid, reason="operator test", idempotency_key="k-1")
        assert again["command_id"] == command_id
        assert again["duplicate"] is True
        assert again["status"] == "completed"
        await asyncio.sleep(0.2)
        assert fills(proc, pid) == 4

        # unknown position
        with pytest.raises(RequestFailed) as info:
            await client.close_position("p-nope", idempotency_key="k-2")
        assert info.value.code == "not_found"

        await client.ping()
        await client.close()
        assert proc.store is not None
        await proc.store.flush()

    db = short_tmp / "c.db"
    closed = rows(db, "SELECT closed_at, close_reason FROM strategy_positions WHERE id = ?", (pid,))
    assert closed[0][0] is not None and closed[0][1] == "operator test"
    audit = rows(
        db,
        "SELECT op, peer_uid, peer_pid, args_json, status, outcome_json, idempotency_key "
        "FROM commands ORDER BY ts",
    )
    closes = [r for r in audit if r[0] == "close_position"]
    assert len(closes) == 1, "a repeated key must not create a second command"
    _op, uid, peer_pid, args, status, outcome, key = closes[0]
    assert (uid, peer_pid, status, key) == (os.getuid(), os.getpid(), "completed", "k-1")
    assert orjson.loads(args) == {"position": pid, "reason": "operator test"}
    assert orjson.loads(outcome)["result"]["position"] == pid
    pings = [r for r in audit if r[0] == "ping"]
    assert len(pings) == 1 and pings[0][1] == os.getuid() and pings[0][4] == "completed"


async def test_read_only_refuses_control_but_serves_state(short_tmp: Path) -> None:
    async with running(short_tmp, read_only=True) as proc:
        client = Client(short_tmp / "s.sock")
        await client.connect()
        pid, _ = await first_position(client)
        with pytest.raises(RequestFailed) as info:
            await client.close_position(pid, idempotency_key="k-ro")
        assert info.value.code == "forbidden"
        assert (await client.request("snapshot"))["seq"] > 0
        await client.close()
        assert fills(proc, pid) == 2


async def test_socket_lives_in_a_private_directory(short_tmp: Path, monkeypatch) -> None:
    """The default path: $XDG_RUNTIME_DIR/dash/<strategy>.sock, dir 0700, socket 0600."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_tmp))
    async with running(short_tmp, socket=None):
        sock = short_tmp / "dash" / "funding-arb.sock"
        assert sock.exists()
        assert (sock.parent.stat().st_mode & 0o777) == 0o700
        assert (sock.stat().st_mode & 0o777) == 0o600
    assert not sock.exists()
