"""``dash replay`` wiring: a replay player served on a socket like a running strategy.

:class:`ReplayControl` is the ``ipc.ControlTarget`` of a replay: it serves the player's
states and bus, says ``mode: replay`` in the hello, adds the replay clock to ``ping``,
refuses every control op (``forbidden``: history cannot be traded) and answers the
``replay`` op (pause, resume, seek), which moves the replay clock for every client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipc import CommandRejected, CommandTicket, Peer
from state import EventBus, StateRegistry
from state.replay import ReplayPlayer, SnapshotSource

if TYPE_CHECKING:
    from ipc import SocketServer

__all__ = ["ReplayControl", "serve_replay"]


class ReplayControl:
    """What the socket server serves during a replay."""

    mode = "replay"

    def __init__(self, player: ReplayPlayer) -> None:
        self.player = player

    @property
    def registry(self) -> StateRegistry:
        return self.player.registry

    @property
    def bus(self) -> EventBus:
        return self.player.bus

    @property
    def read_only(self) -> bool:
        return True

    def ping_info(self) -> dict[str, Any]:
        """Merged into every ``ping`` reply: the replay clock and progress."""
        return self.player.info()

    async def replay(
        self, action: str, *, to: datetime | None = None, by: float | None = None
    ) -> dict[str, Any]:
        """The ``replay`` op: ``pause``, ``resume`` or ``seek`` (``to`` a time, or ``by``
        seconds of market time from the clock); returns the replay's state after it."""
        player = self.player
        if action == "pause":
            player.pause()
        elif action == "resume":
            player.resume()
        elif action == "seek":
            if to is None:
                try:
                    to = player.clock() + timedelta(seconds=by or 0.0)
                except OverflowError:
                    raise CommandRejected("bad_request", "'by' goes past the calendar") from None
            await player.seek(to)
        else:
            raise CommandRejected("bad_request", f"unknown replay action {action!r}")
        return player.state()

    async def close_position(
        self,
        strategy: str,
        position_id: str,
        reason: str,
        idempotency_key: str | None,
        peer: Peer,
    ) -> CommandTicket:
        raise CommandRejected("forbidden", "this is a replay of stored snapshots; it cannot trade")


async def serve_replay(
    source: SnapshotSource,
    socket_path: Path,
    stop: asyncio.Event,
    *,
    speed: float | None = 1.0,
    loop: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    version: str = "dash",
    ready: Callable[[SocketServer, ReplayPlayer], object] | None = None,
) -> ReplayPlayer:
    """Serve a replay of ``source`` on ``socket_path`` until ``stop`` is set.

    The state at the start is loaded before the socket opens, so the first client
    already sees it. ``ready`` is called once the socket accepts connections.

    Raises:
        ServerStartError: the socket path is taken or unusable.
    """
    from ipc import SocketServer

    player = ReplayPlayer(source, speed=speed, loop=loop, since=since, until=until)
    await player.prime()
    server = SocketServer(ReplayControl(player), socket_path, read_only=True, version=version)
    await server.start()
    try:
        if ready is not None:
            ready(server, player)
        await player.run(stop)
    finally:
        await server.stop()
    return player
