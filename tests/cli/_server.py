"""A real ipc.SocketServer in a background thread, for cases `dash run` cannot produce.

Used for the refusal path: the server is told its uid is someone else's
(``server_uid``, the hook ipc provides for this), so it answers every connection with a
``forbidden`` error line, exactly as it would for another user.
"""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from ipc import CommandRejected, CommandTicket, Peer, SocketServer
from state import DashboardState, EventBus, StateRegistry


class _Target:
    """Serves one empty state; refuses every command (never reached when refusing)."""

    def __init__(self) -> None:
        self.bus = EventBus()
        self.registry = StateRegistry(
            [
                DashboardState(
                    "funding-arb", mode="paper", bus=self.bus, now=lambda: datetime.now(UTC)
                )
            ]
        )
        self.read_only = False

    async def close_position(
        self, strategy: str, position_id: str, reason: str, idempotency_key: str | None, peer: Peer
    ) -> CommandTicket:
        raise CommandRejected("not_found", f"no position {position_id!r}")


class ThreadServer:
    def __init__(self, path: Path, *, server_uid: int | None = None) -> None:
        self.path = path
        self.server_uid = server_uid
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: SocketServer | None = None

    def __enter__(self) -> ThreadServer:
        self._thread.start()

        async def start() -> SocketServer:
            server = SocketServer(_Target(), self.path, server_uid=self.server_uid)
            await server.start()
            return server

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def other_uid() -> int:
    return os.getuid() + 1
