"""The strategy side of the control plane: what ``ipc.SocketServer`` calls.

ipc/ states what it needs as ``ipc.ControlTarget``; this class implements it for one or
more strategies hosted by this process, so ipc/ never imports strategy/. A command is
answered at once with a ticket; the close itself runs as its own task, and its outcome
travels as a ``command`` Notice on the bus (which the server forwards as a ``command``
event) and as the ``commands`` audit row. Idempotency keys are remembered in memory for
the life of the process and looked up in the audit table after a restart, so a repeated
key returns the first command's result and never trades twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from ipc import CommandRejected, CommandTicket, Peer
from state import EventBus, Notice, StateRegistry
from strategy.engine import FundingArbitrageStrategy
from strategy.errors import CommandError
from strategy.store import CommandRecord, Store

__all__ = ["StrategyControl"]

log = logging.getLogger("dash.control")


class _Command:
    """One accepted command: its ticket and, once finished, its outcome."""

    __slots__ = ("command_id", "outcome", "position_id", "status")

    def __init__(self, command_id: str, position_id: str) -> None:
        self.command_id = command_id
        self.position_id = position_id
        self.status = "accepted"
        self.outcome: dict[str, Any] | None = None

    def ticket(self, *, duplicate: bool) -> CommandTicket:
        return CommandTicket(self.command_id, self.status, duplicate, self.outcome)


class StrategyControl:
    """Serves the strategies of this process to the socket server.

    Args:
        strategies: the running strategies by id.
        registry: their live states, by the same ids.
        bus: where states publish changes and command notices go.
        store: where commands are audited (the same DB as the points of record).
        read_only: refuse every control op (``dash run --read-only``).
        now: wall clock for audit timestamps. Defaults to UTC now.
    """

    def __init__(
        self,
        strategies: Mapping[str, FundingArbitrageStrategy],
        registry: StateRegistry,
        bus: EventBus,
        store: Store,
        *,
        read_only: bool = False,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._strategies = dict(strategies)
        self._registry = registry
        self._bus = bus
        self._store = store
        self._read_only = read_only
        self._now = now or (lambda: datetime.now(UTC))
        self._by_key: dict[tuple[str, str], _Command] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def registry(self) -> StateRegistry:
        return self._registry

    @property
    def bus(self) -> EventBus:
        return self._bus

    @property
    def read_only(self) -> bool:
        return self._read_only

    async def close_position(
        self,
        strategy: str,
        position_id: str,
        reason: str,
        idempotency_key: str | None,
        peer: Peer,
    ) -> CommandTicket:
        engine = self._strategies.get(strategy)
        if engine is None:
            raise CommandRejected("unknown_strategy", f"no strategy {strategy!r} here")
        if idempotency_key:
            known = await self._known_key(strategy, idempotency_key)
            if known is not None:
                if known.position_id != position_id:
                    raise CommandRejected(
                        "conflict",
                        f"idempotency key already used for position {known.position_id}",
                    )
                return known.ticket(duplicate=True)
        if engine.positions.get(position_id) is None:
            raise CommandRejected("not_found", f"no position {position_id!r} in {strategy}")
        command = _Command(f"c-{uuid.uuid4().hex[:12]}", position_id)
        if idempotency_key:
            self._by_key[(strategy, idempotency_key)] = command
        args = {"position": position_id, "reason": reason}
        self._store.record_command(
            CommandRecord(
                id=command.command_id,
                strategy=strategy,
                ts=self._now(),
                op="close_position",
                args_json=orjson.dumps(args).decode(),
                peer_uid=peer.uid,
                peer_pid=peer.pid,
                idempotency_key=idempotency_key,
                status="accepted",
            )
        )
        task = asyncio.create_task(
            self._run_close(engine, command, reason, peer), name=f"close-{position_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return command.ticket(duplicate=False)

    def audit(
        self,
        op: str,
        strategy: str | None,
        args: Mapping[str, Any],
        peer: Peer,
        outcome: Mapping[str, Any],
    ) -> None:
        """Record a command the server answered itself (``ping``) in the audit table."""
        now = self._now()
        self._store.record_command(
            CommandRecord(
                id=f"c-{uuid.uuid4().hex[:12]}",
                strategy=strategy or ",".join(self._strategies),
                ts=now,
                op=op,
                args_json=orjson.dumps(dict(args)).decode(),
                peer_uid=peer.uid,
                peer_pid=peer.pid,
                idempotency_key=None,
                status="completed",
                outcome_json=orjson.dumps(dict(outcome)).decode(),
                completed_at=now,
            )
        )

    async def drain(self) -> None:
        """Wait for commands in flight, so a clean shutdown audits every outcome."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _known_key(self, strategy: str, key: str) -> _Command | None:
        command = self._by_key.get((strategy, key))
        if command is not None:
            return command
        record = await self._store.command_by_key(strategy, key)
        if record is None:
            return None
        args = orjson.loads(record.args_json)
        command = _Command(record.id, str(args.get("position", "")))
        command.status = record.status
        if record.outcome_json:
            command.outcome = orjson.loads(record.outcome_json)
        self._by_key[(strategy, key)] = command
        return command

    async def _run_close(
        self, engine: FundingArbitrageStrategy, command: _Command, reason: str, peer: Peer
    ) -> None:
        outcome: dict[str, Any] = {
            "command_id": command.command_id,
            "op": "close_position",
            "position": command.position_id,
            "peer_uid": peer.uid,
        }
        try:
            result = await engine.close_position(
                command.position_id, reason, requested_by=f"uid {peer.uid}"
            )
        except CommandError as exc:
            outcome |= {"status": "failed", "error": {"code": exc.code, "message": str(exc)}}
        except Exception as exc:  # the audit must record every outcome
            log.exception("close of %s failed", command.position_id)
            outcome |= {"status": "failed", "error": {"code": "internal", "message": str(exc)}}
        else:
            outcome |= {"status": "completed", "result": result.to_dict(), "reason": reason}
        notice = Notice(engine.config.id, "command", outcome, engine.clock.now())
        command.status = outcome["status"]
        command.outcome = notice.data
        self._store.update_command(
            command.command_id,
            command.status,
            orjson.dumps(notice.data).decode(),
            self._now(),
        )
        self._bus.publish(notice)
