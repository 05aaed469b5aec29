"""Who may connect, what a read-only server allows, file modes, and no TCP."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ipc import SocketServer
from tests.ipc._double import StrategyDouble
from tests.ipc.conftest import RawConn, ServerFactory


async def test_a_foreign_uid_is_refused(make_server: ServerFactory, target: StrategyDouble) -> None:
    # Pretend the server runs as another user; the test process is then a stranger.
    server = await make_server(server_uid=os.getuid() + 4242)
    conn = await RawConn.open(server.path)
    refusal = await conn.line()
    assert refusal["type"] == "response" and refusal["id"] is None
    assert refusal["ok"] is False
    assert refusal["error"]["code"] == "forbidden"
    assert f"uid {os.getuid()}" in refusal["error"]["message"]
    assert await conn.at_eof()
    assert server.counters["refused"] == 1
    assert target.legs_closed == {}


async def test_allow_uids_admits_a_listed_uid(make_server: ServerFactory) -> None:
    server = await make_server(server_uid=os.getuid() + 4242, allow_uids=[os.getuid()])
    conn = await RawConn.open(server.path)
    assert (await conn.line())["type"] == "hello"
    assert (await conn.request(1, "ping"))["ok"] is True
    await conn.close()


async def test_allow_uids_without_ours_still_refuses(make_server: ServerFactory) -> None:
    server = await make_server(server_uid=os.getuid() + 1, allow_uids=[os.getuid() + 2])
    conn = await RawConn.open(server.path)
    assert (await conn.line())["error"]["code"] == "forbidden"
    await conn.close()


async def test_read_only_forbids_control_ops(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server = await make_server(read_only=True)
    conn = await RawConn.open(server.path)
    hello = await conn.line()
    assert hello["read_only"] is True
    reply = await conn.request(1, "close_position", position="p-0001")
    assert reply["error"]["code"] == "forbidden"
    assert "read-only" in reply["error"]["message"]
    assert target.legs_closed == {} and target.audit == []
    for request_id, op in enumerate(("ping", "snapshot", "strategies", "hello"), start=2):
        assert (await conn.request(request_id, op))["ok"] is True
    await conn.close()


async def test_a_read_only_target_is_honoured(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    target.read_only = True
    server = await make_server()
    conn = await RawConn.open(server.path)
    await conn.line()
    reply = await conn.request(1, "close_position", position="p-0001")
    assert reply["error"]["code"] == "forbidden"
    await conn.close()


async def test_default_location_modes(
    short_tmp: Path, target: StrategyDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipc import default_socket_path

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_tmp))
    path = default_socket_path("funding-arb")
    server = SocketServer(target, path)
    await server.start()
    try:
        assert path == short_tmp / "dash" / "funding-arb.sock"
        assert stat.S_IMODE(os.lstat(path.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        await server.stop()
    assert not path.exists()


def _inet_inodes() -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        inodes.update(line.split()[9] for line in lines if len(line.split()) > 9)
    return inodes


async def test_nothing_listens_on_tcp(server: SocketServer, raw: RawConn) -> None:
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            ours.add(link[len("socket:[") : -1])
    assert ours, "the server's own Unix sockets should be visible"
    assert not ours & _inet_inodes()
