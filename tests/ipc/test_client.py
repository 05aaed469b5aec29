"""The asyncio client, the subscription iterator and the blocking one-shot client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ipc import (
    BlockingClient,
    Client,
    ConnectFailed,
    ConnectionLost,
    RequestFailed,
    RequestTimeout,
    SocketServer,
    Subscription,
    one_shot,
)
from tests.conftest import REPO_ROOT
from tests.ipc._double import STRATEGY, StrategyDouble, tick
from tests.ipc.conftest import ServerFactory

# -- asyncio client --


async def test_requests_and_replies(server: SocketServer, target: StrategyDouble) -> None:
    async with Client(server.path) as client:
        assert client.session == server.session
        assert client.hello["strategies"] == [STRATEGY]
        snap = await client.snapshot()
        assert snap["seq"] == 1 and len(snap["snapshot"]["positions"]) == 50
        assert (await client.strategies())[0]["strategy"] == STRATEGY
        assert (await client.ping())["seq"] == {STRATEGY: 1}
        results = await asyncio.gather(*(client.ping() for _ in range(20)))
        assert len(results) == 20
        with pytest.raises(RequestFailed) as info:
            await client.snapshot("nope")
        assert info.value.code == "unknown_strategy"
        with pytest.raises(RequestFailed) as info:
            await client.request("reboot")
        assert info.value.code == "unknown_op"


async def test_close_position_and_wait_for_its_outcome(
    server: SocketServer, target: StrategyDouble
) -> None:
    async with Client(server.path) as client:
        ticket = await client.close_position("p-0007", idempotency_key="k-7")
        assert ticket["status"] == "accepted"
        outcome = await client.wait_command(ticket["command_id"], timeout_s=2)
        assert outcome["data"]["status"] == "completed"
        again = await client.close_position("p-0007", idempotency_key="k-7")
        assert again["duplicate"] is True and again["command_id"] == ticket["command_id"]
        assert target.legs_closed["p-0007"] == 2


async def test_connect_failures(short_tmp: Path, make_server: ServerFactory) -> None:
    with pytest.raises(ConnectFailed, match="no dash server"):
        await Client(short_tmp / "missing.sock").connect()
    server = await make_server(server_uid=os.getuid() + 7)
    with pytest.raises(RequestFailed) as info:
        await Client(server.path).connect()
    assert info.value.code == "forbidden"


ScriptedServer = Callable[
    [Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]], Awaitable[Path]
]


@pytest.fixture
async def scripted(short_tmp: Path) -> AsyncIterator[ScriptedServer]:
    """A hand-written server for cases the real one never produces (gaps, silence)."""
    servers: list[asyncio.AbstractServer] = []

    async def start(
        handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> Path:
        path = short_tmp / f"scripted{len(servers)}.sock"
        servers.append(await asyncio.start_unix_server(handler, str(path)))
        return path

    yield start
    for srv in servers:
        srv.close()


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


HELLO = {
    "type": "hello",
    "protocol": 1,
    "server": "scripted",
    "session": "s-1",
    "strategies": ["x"],
    "limits": {"heartbeat_s": 0.2},
}


async def test_request_timeout(scripted: ScriptedServer) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_line(HELLO))
        await reader.read()

    path = await scripted(mute)
    async with Client(path, timeout=0.2) as client:
        with pytest.raises(RequestTimeout):
            await client.ping()


async def test_no_hello_is_a_connect_failure(scripted: ScriptedServer) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    path = await scripted(silent)
    with pytest.raises(ConnectFailed, match="no hello"):
        await Client(path, timeout=0.2).connect()


async def test_subscription_detects_a_gap_and_resubscribes(scripted: ScriptedServer) -> None:
    subscribes: list[dict[str, Any]] = []

    async def gappy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_line(HELLO))
        while line := await reader.readline():
            request = json.loads(line)
            subscribes.append(request)
            writer.write(_line({"type": "response", "id": request["id"], "ok": True, "result": {}}))
            if len(subscribes) == 1:
                writer.write(
                    _line(
                        {
                            "type": "event",
                            "event": "snapshot",
                            "strategy": "x",
                            "seq": 1,
                            "resync": False,
                            "snapshot": {"a": 1},
                        }
                    )
                )
                writer.write(
                    _line(
                        {
                            "type": "event",
                            "event": "patch",
                            "strategy": "x",
                            "seq": 2,
                            "prev": 1,
                            "patch": {"b": 2},
                        }
                    )
                )
                # seq 3 is lost: a gap the client must notice.
                writer.write(
                    _line(
                        {
                            "type": "event",
                            "event": "patch",
                            "strategy": "x",
                            "seq": 4,
                            "prev": 3,
                            "patch": {"c": 4},
                        }
                    )
                )
            else:
                writer.write(
                    _line(
                        {
                            "type": "event",
                            "event": "snapshot",
                            "strategy": "x",
                            "seq": 4,
                            "resync": False,
                            "snapshot": {"a": 1, "b": 2, "c": 4, "d": 3},
                        }
                    )
                )

    path = await scripted(gappy)
    sub = Subscription(path, reconnect=False)
    updates = [await anext(sub) for _ in range(3)]
    await sub.close()
    assert [(u.kind, u.seq, u.resync) for u in updates] == [
        ("snapshot", 1, False),
        ("patch", 2, False),
        ("snapshot", 4, True),
    ]
    assert updates[1].doc == {"a": 1, "b": 2}
    assert updates[2].doc == {"a": 1, "b": 2, "c": 4, "d": 3}
    assert sub.gaps == 1
    assert [r["op"] for r in subscribes] == ["subscribe", "subscribe"]
    assert subscribes[1]["strategy"] == "x"


async def test_silence_means_a_dead_server(scripted: ScriptedServer) -> None:
    async def hangs(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_line(HELLO))
        line = await reader.readline()
        writer.write(
            _line({"type": "response", "id": json.loads(line)["id"], "ok": True, "result": {}})
        )
        await reader.read()

    path = await scripted(hangs)
    sub = Subscription(path, reconnect=False, idle_timeout=0.2)
    with pytest.raises(ConnectionLost):
        await asyncio.wait_for(anext(sub), 2)
    await sub.close()


async def test_subscription_tracks_the_live_document(
    server: SocketServer, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    async with Subscription(server.path) as sub:
        first = await anext(sub)
        assert (first.kind, first.seq, first.resync) == ("snapshot", 1, False)
        for n in range(10):
            await tick(state, n, 50)
        last = first
        while last.seq != state.seq:
            last = await anext(sub)
            assert last.kind == "patch"
        assert last.doc == state.snapshot().to_dict()
        assert sub.docs[STRATEGY] is last.doc
        target.bus.publish(
            __import__("state").Notice(STRATEGY, "alert", {"id": "a-1", "level": "warn"})
        )
        event = await anext(sub)
        assert (event.kind, event.event["event"], event.seq) == ("event", "alert", state.seq)


async def test_subscription_applies_a_resync(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    server = await make_server()
    sub = Subscription(server.path, max_rate=None)
    await anext(sub)
    assert sub.client is not None
    # Fill the client's own queue and the server's: the client stops reading the socket.
    for n in range(1500):
        await tick(state, n, 50, touched=50)
        if n % 100 == 0:
            await asyncio.sleep(0)
    resynced = False
    while True:
        update = await asyncio.wait_for(anext(sub), 5)
        resynced = resynced or update.resync
        if update.seq == state.seq:
            break
    assert resynced and sub.resyncs >= 1
    assert update.doc == state.snapshot().to_dict()
    await sub.close()


async def test_subscription_reconnects_to_a_new_session(
    short_tmp: Path, target: StrategyDouble
) -> None:
    path = short_tmp / "dash.sock"
    first_server = SocketServer(target, path)
    await first_server.start()
    sub = Subscription(path, backoff=(0.02, 0.1))
    try:
        first = await anext(sub)
        assert first.session == first_server.session
        await first_server.stop()
        await asyncio.sleep(0.2)  # the client retries against a missing socket meanwhile
        await tick(target.registry[STRATEGY], 1, 50)
        second_server = SocketServer(target, path)
        await second_server.start()
        try:
            again = await asyncio.wait_for(anext(sub), 5)
            assert again.kind == "snapshot"
            assert again.session == second_server.session != first_server.session
            assert again.seq == target.registry[STRATEGY].seq
            assert sub.connects == 2
        finally:
            await sub.close()
            await second_server.stop()
    finally:
        await sub.close()


async def test_without_reconnect_the_loss_is_raised(server: SocketServer) -> None:
    sub = Subscription(server.path, reconnect=False)
    await anext(sub)
    await server.stop()
    with pytest.raises(ConnectionLost) as info:
        await asyncio.wait_for(anext(sub), 3)
    assert info.value.reason == "shutdown"
    await sub.close()


# -- blocking client --


async def test_blocking_one_shot(server: SocketServer, target: StrategyDouble) -> None:
    snap = await asyncio.to_thread(one_shot, "snapshot", path=server.path)
    assert snap["snapshot"] == target.registry[STRATEGY].snapshot().to_dict()
    with pytest.raises(RequestFailed) as info:
        await asyncio.to_thread(one_shot, "snapshot", path=server.path, strategy="zz")
    assert info.value.code == "unknown_strategy"


async def test_blocking_close_waits_for_the_command_event(
    server: SocketServer, target: StrategyDouble
) -> None:
    def close() -> tuple[dict[str, Any], dict[str, Any]]:
        with BlockingClient(server.path, timeout=3) as client:
            ticket = client.request("close_position", position="p-0010")
            event = client.wait_event(
                lambda e: (
                    e.get("event") == "command" and e["data"]["command_id"] == ticket["command_id"]
                )
            )
            return ticket, event

    ticket, event = await asyncio.to_thread(close)
    assert ticket["status"] == "accepted"
    assert event["data"]["status"] == "completed"
    assert target.legs_closed["p-0010"] == 2


async def test_blocking_errors(
    short_tmp: Path, make_server: ServerFactory, scripted: ScriptedServer
) -> None:
    with pytest.raises(ConnectFailed):
        await asyncio.to_thread(one_shot, "ping", path=short_tmp / "none.sock")
    refused = await make_server(server_uid=os.getuid() + 3)
    with pytest.raises(RequestFailed) as info:
        await asyncio.to_thread(one_shot, "ping", path=refused.path)
    assert info.value.code == "forbidden"

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_line(HELLO))
        await reader.read()

    path = await scripted(mute)
    with pytest.raises(RequestTimeout):
        await asyncio.to_thread(one_shot, "ping", path=path, timeout=0.2)


def test_blocking_client_imports_nothing_heavy() -> None:
    code = (
        "import sys; from ipc import BlockingClient, one_shot, discover_socket; "
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    modules = set(done.stdout.split())
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    for heavy in ("asyncio", "state", "rich", "typer", "textual", "ipc._server", "ipc._client"):
        assert heavy not in modules, heavy
        assert heavy not in imported, heavy
    assert {"socket", "orjson", "ipc._blocking"} <= modules
