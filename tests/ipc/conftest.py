"""Fixtures for the socket tests: a real state behind a real server on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ipc import SocketServer
from tests.ipc._double import STRATEGY, StrategyDouble, make_target, seed


class RawConn:
    """A foreign client: plain asyncio streams and the stdlib json module, no ipc code."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: Path) -> RawConn:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=8 * 1024 * 1024)
        return cls(reader, writer)

    async def send(self, message: Any) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.writer.write(data)
        await self.writer.drain()

    async def line(self, timeout_s: float = 3.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.reader.readline(), timeout_s)
        assert raw.endswith(b"\n"), f"connection closed (got {raw[:80]!r})"
        message: dict[str, Any] = json.loads(raw)
        return message

    async def until(
        self, match: Callable[[dict[str, Any]], bool], timeout_s: float = 3.0
    ) -> dict[str, Any]:
        async def scan() -> dict[str, Any]:
            while True:
                message = await self.line(timeout_s)
                if match(message):
                    return message

        return await asyncio.wait_for(scan(), timeout_s)

    async def response(self, request_id: Any, timeout_s: float = 3.0) -> dict[str, Any]:
        return await self.until(
            lambda m: m.get("type") == "response" and m.get("id") == request_id, timeout_s
        )

    async def request(self, request_id: Any, op: str, **args: Any) -> dict[str, Any]:
        await self.send({"id": request_id, "op": op, **args})
        return await self.response(request_id)

    async def at_eof(self, timeout_s: float = 3.0) -> bool:
        """Read (and discard) until EOF; True if the server closed the connection."""

        async def drain() -> None:
            while await self.reader.read(65536):
                pass

        await asyncio.wait_for(drain(), timeout_s)
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


class SilentPeer:
    """A client that sends but never reads: a plain socket nobody calls recv on.

    (An asyncio stream would not do: its transport keeps reading into the StreamReader's
    buffer whether or not the test reads from it.) ``wake()`` turns it into a
    :class:`RawConn` over the same socket, to read what the server sent meanwhile.
    """

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))

    def send(self, message: Any) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    async def wake(self) -> RawConn:
        self.sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=self.sock, limit=8 * 1024 * 1024)
        return RawConn(reader, writer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
async def target() -> StrategyDouble:
    target = make_target()
    await seed(target.registry[STRATEGY], 50)
    return target


ServerFactory = Callable[..., Awaitable[SocketServer]]


@pytest.fixture
async def make_server(short_tmp: Path, target: StrategyDouble) -> AsyncIterator[ServerFactory]:
    servers: list[SocketServer] = []

    async def factory(**options: Any) -> SocketServer:
        options.setdefault("version", "dash test")
        path = options.pop("path", short_tmp / "dash.sock")
        server = SocketServer(options.pop("target", target), path, **options)
        await server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.stop(grace_s=0.5)


@pytest.fixture
async def server(make_server: ServerFactory) -> SocketServer:
    return await make_server()


@pytest.fixture
async def raw(server: SocketServer) -> AsyncIterator[RawConn]:
    """A connected foreign client with the hello already read."""
    conn = await RawConn.open(server.path)
    hello = await conn.line()
    assert hello["type"] == "hello"
    yield conn
    await conn.close()
