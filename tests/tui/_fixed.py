"""A real dash server over fixed documents, in its own thread and event loop.

Snapshot tests run the app synchronously (``snap_compare``) and Pilot tests run it in
the test's loop; a server on its own thread serves both the same way: real
``DashboardState`` s, a real ``ipc.SocketServer``, a real Unix socket. Every document
time comes from a fixed clock, so what the app draws is the same on every run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ipc import CommandRejected, CommandTicket, Peer, SocketServer
from state import DashboardState, EventBus, Notice, StateRegistry, Tx
from tests.tui._docs import NOW, STRATEGY, alerts, markets, position, totals


@dataclass
class FixedTarget:
    """The strategy side: closes positions (removing them in a patch) and publishes the
    ``command`` outcome, as strategy/control.py does."""

    registry: StateRegistry
    bus: EventBus
    read_only: bool = False
    closed: list[str] = field(default_factory=list)

    async def close_position(
        self,
        strategy: str,
        position_id: str,
        reason: str,
        idempotency_key: str | None,
        peer: Peer,
    ) -> CommandTicket:
        state = self.registry.get(strategy)
        if state is None:
            raise CommandRejected("unknown_strategy", f"no strategy {strategy!r}")
        if position_id not in state.snapshot().doc["positions"]:
            raise CommandRejected("not_found", f"no open position {position_id!r}")
        command_id = f"c-{len(self.closed) + 1}"
        self.closed.append(position_id)
        asyncio.get_running_loop().create_task(self._close(state, command_id, position_id))
        return CommandTicket(command_id)

    async def _close(self, state: DashboardState, command_id: str, pid: str) -> None:
        async with state.transaction("close") as tx:
            tx.remove_position(pid)
        self.bus.publish(
            Notice(
                state.strategy_id,
                "command",
                {
                    "command_id": command_id,
                    "op": "close_position",
                    "position": pid,
                    "status": "completed",
                    "result": {"realized_pnl": "1.25"},
                },
            )
        )


class FixedServer:
    """Serves ``positions`` fixed positions per strategy on ``path``.

    Args:
        path: the socket.
        strategies: strategy ids served. Defaults to ("funding-arb",).
        positions: open positions each. Defaults to 6.
        read_only: the server refuses control ops. Defaults to False.
    """

    def __init__(
        self,
        path: Path,
        strategies: tuple[str, ...] = (STRATEGY,),
        positions: int = 6,
        read_only: bool = False,
    ) -> None:
        self.path = path
        self.strategies = strategies
        self.positions = positions
        self.read_only = read_only
        self.ticks = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.target: FixedTarget | None = None
        self.server: SocketServer | None = None

    def __enter__(self) -> FixedServer:
        self._thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def stop(self) -> None:
        """Stop serving (clients see ``bye``, then nothing)."""
        self.run(self._stop())

    def start(self) -> None:
        """Serve again: a new server process, as far as clients can tell (new session,
        states rebuilt from the fixed documents)."""
        self.ticks = 0
        self.run(self._start())

    def state(self, strategy: str = STRATEGY) -> DashboardState:
        assert self.target is not None
        return self.target.registry[strategy]

    def seq(self, strategy: str = STRATEGY) -> int:
        return self.state(strategy).seq

    def commit(self, edit: Callable[[Tx], None], strategy: str = STRATEGY) -> int:
        """One transaction on the server's loop; returns the new seq."""

        async def go() -> int:
            state = self.state(strategy)
            async with state.transaction("test") as tx:
                edit(tx)
            return state.seq

        return int(self.run(go()))

    def tick(self, pids: list[int] | None = None, strategy: str = STRATEGY) -> int:
        """A monitoring cycle: positions ``pids`` (default all) move one tick."""
        self.ticks += 1
        tick = self.ticks

        def edit(tx: Tx) -> None:
            for i in range(self.positions) if pids is None else pids:
                if f"p-{i:04d}" in tx.doc["positions"]:
                    tx.put_position(f"p-{i:04d}", position(i, tick))

        return self.commit(edit, strategy)

    async def _start(self) -> None:
        bus = EventBus()
        states = []
        for n, strategy in enumerate(self.strategies):
            state = DashboardState(strategy, bus=bus, now=lambda: NOW + timedelta(milliseconds=120))
            async with state.transaction("seed") as tx:
                tx.set_status("running")
                tx.set_clock(NOW)
                count = self.positions if n == 0 else max(self.positions // 2, 1)
                for i in range(count):
                    tx.put_position(f"p-{i + 100 * n:04d}", position(i))
                for symbol, doc in markets().items():
                    tx.put_market(symbol, doc)
                for aid, doc in alerts().items():
                    tx.put_alert(aid, doc)
                tx.set_totals(totals(count))
            states.append(state)
        self.target = FixedTarget(StateRegistry(states), bus, read_only=self.read_only)
        self.server = SocketServer(self.target, self.path, version="dash test", heartbeat_s=0.5)
        await self.server.start()

    async def _stop(self) -> None:
        if self.server is not None:
            await self.server.stop(grace_s=0.5)
