"""A test double of the *strategy* side: a ControlTarget over a real DashboardState.

It behaves as the contract in docs/architecture.md asks of strategy/control.py: returns a
ticket at once, closes "both legs" later through an idempotent close (counted, so a test
can prove nothing trades twice), mutates the real state (the position disappears in a
patch), publishes the ``command`` notice and keeps an audit row per command with the
peer's uid and pid.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ipc import CommandRejected, CommandTicket, Peer
from state import DashboardState, EventBus, Notice, StateRegistry

STRATEGY = "funding-arb"


def position_doc(i: int, tick: int = 0) -> dict[str, Any]:
    mark = Decimal("30000") + i + Decimal(tick) / 10
    return {
        "symbol": "BTC/USDT" if i % 2 else "ETH/USDT",
        "long": {"venue": "binance", "mark": mark, "entry": Decimal("30000")},
        "short": {"venue": "bybit", "mark": mark + 5, "entry": Decimal("30004")},
        "qty": Decimal("0.1"),
        "entry_spread_apr": Decimal("0.21"),
        "spread_apr": Decimal("0.18") + Decimal(tick % 7) / 1000,
        "pnl": {"net": Decimal(tick) / 100},
    }


async def seed(state: DashboardState, positions: int) -> None:
    async with state.transaction("seed") as tx:
        tx.set_status("running")
        for i in range(positions):
            tx.put_position(f"p-{i:04d}", position_doc(i))


async def tick(state: DashboardState, n: int, positions: int, touched: int = 5) -> None:
    """One monitoring cycle: refresh ``touched`` positions (a real, non-empty change)."""
    async with state.transaction("cycle") as tx:
        for k in range(touched):
            i = (n * touched + k) % max(positions, 1)
            if state.snapshot().doc["positions"].get(f"p-{i:04d}") is not None:
                tx.put_position(f"p-{i:04d}", position_doc(i, n + 1))
        tx.set_totals({"cycle": n})


@dataclass
class _Command:
    command_id: str
    strategy: str
    position: str
    key: str | None
    peer: Peer
    status: str = "accepted"
    outcome: dict[str, Any] | None = None


@dataclass
class StrategyDouble:
    registry: StateRegistry
    bus: EventBus
    read_only: bool = False
    close_delay_s: float = 0.02
    legs_closed: Counter[str] = field(default_factory=Counter)
    audit: list[dict[str, Any]] = field(default_factory=list)
    _by_key: dict[str, _Command] = field(default_factory=dict)
    _closing: dict[tuple[str, str], _Command] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def close_position(
        self,
        strategy: str,
        position_id: str,
        reason: str,
        idempotency_key: str | None,
        peer: Peer,
    ) -> CommandTicket:
        if strategy not in self.registry:
            raise CommandRejected("unknown_strategy", f"no strategy {strategy!r}")
        if idempotency_key is not None and idempotency_key in self._by_key:
            first = self._by_key[idempotency_key]
            if first.position != position_id:
                raise CommandRejected(
                    "conflict", f"key {idempotency_key!r} was used for {first.position}"
                )
            return CommandTicket(first.command_id, first.status, True, first.outcome)
        in_flight = self._closing.get((strategy, position_id))
        if in_flight is not None:
            return CommandTicket(in_flight.command_id, in_flight.status, True, None)
        state = self.registry[strategy]
        if position_id not in state.snapshot().doc["positions"]:
            raise CommandRejected("not_found", f"no open position {position_id!r}")
        command = _Command(f"c-{next(self._ids)}", strategy, position_id, idempotency_key, peer)
        if idempotency_key is not None:
            self._by_key[idempotency_key] = command
        self._closing[(strategy, position_id)] = command
        task = asyncio.create_task(self._close(command, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return CommandTicket(command.command_id)

    async def _close(self, command: _Command, reason: str) -> None:
        await asyncio.sleep(self.close_delay_s)
        state = self.registry[command.strategy]
        data: dict[str, Any] = {
            "command_id": command.command_id,
            "op": "close_position",
            "position": command.position,
            "peer_uid": command.peer.uid,
        }
        if command.position.startswith("p-fail"):
            command.status = "failed"
            data.update(status="failed", error="exchange rejected the order")
        else:
            async with state.transaction("close") as tx:
                tx.remove_position(command.position)
            self.legs_closed[command.position] += 2
            command.status = "completed"
            data.update(status="completed", reason=reason, realized_pnl=Decimal("1.50"))
        command.outcome = dict(data)
        del self._closing[(command.strategy, command.position)]
        self.audit.append(
            {
                "command_id": command.command_id,
                "op": "close_position",
                "args": {"position": command.position, "reason": reason},
                "peer_uid": command.peer.uid,
                "peer_pid": command.peer.pid,
                "idempotency_key": command.key,
                "status": command.status,
            }
        )
        self.bus.publish(Notice(command.strategy, "command", data))


def make_target(positions: int = 50, strategies: tuple[str, ...] = (STRATEGY,)) -> StrategyDouble:
    bus = EventBus()
    registry = StateRegistry([DashboardState(s, bus=bus) for s in strategies])
    return StrategyDouble(registry, bus)
