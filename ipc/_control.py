"""The seam between the socket server and whatever it controls.

ipc/ must not import strategy/, so it states what it needs as a Protocol and the strategy
side (``strategy/control.py``) implements it, as Freqtrade's front ends call one RPC core.
A control method returns a :class:`CommandTicket` at once or raises
:class:`ipc.CommandRejected`; the outcome comes later as a ``command`` Notice on the bus,
which the server forwards as a ``command`` event. Auditing (the ``commands`` table, with
the :class:`Peer`) is the implementer's job, because only it knows the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from state import EventBus, StateRegistry

__all__ = ["CommandTicket", "ControlTarget", "Peer"]


@dataclass(frozen=True, slots=True)
class Peer:
    """The process on the other end of a connection, as the kernel reports it
    (SO_PEERCRED); it cannot be forged by the client."""

    uid: int
    pid: int
    gid: int


@dataclass(frozen=True, slots=True)
class CommandTicket:
    """The immediate answer to a control command.

    ``status`` is ``"accepted"`` for a new command. For a repeated idempotency key,
    ``duplicate`` is true and ``command_id``/``status`` are the first command's (its
    outcome so far: ``accepted`` while running, then ``completed`` or ``failed``), with
    ``outcome`` holding what its ``command`` event reported, if it has finished.
    """

    command_id: str
    status: str = "accepted"
    duplicate: bool = False
    outcome: Mapping[str, Any] | None = field(default=None)


class ControlTarget(Protocol):
    """What :class:`ipc.SocketServer` serves and controls.

    Optional members, looked up with ``getattr``: ``mode`` (a string the hello carries,
    ``"replay"`` for ``dash replay``), ``ping_info()`` (a dict merged into every ``ping``
    reply), ``audit(...)`` (see the server's ``ping``) and ``async replay(action, *, to,
    by)`` (the ``replay`` op, its arguments checked: ``action`` one of
    ``REPLAY_ACTIONS``, ``to`` an aware datetime or None, ``by`` seconds or None; returns
    the replay's state or raises :class:`ipc.CommandRejected`). Without ``replay`` the
    op is answered ``unknown_op``.
    """

    @property
    def registry(self) -> StateRegistry:
        """The states to serve, by strategy id."""

    @property
    def bus(self) -> EventBus:
        """Where the states publish changes and the strategy publishes notices."""

    @property
    def read_only(self) -> bool:
        """True refuses every control op with ``forbidden`` (as ``--read-only``)."""

    async def close_position(
        self,
        strategy: str,
        position_id: str,
        reason: str,
        idempotency_key: str | None,
        peer: Peer,
    ) -> CommandTicket:
        """Start closing both legs of a position; return without waiting for fills.

        Raises:
            CommandRejected: ``unknown_strategy``, ``not_found`` (no such open
                position) or ``conflict`` (say, the key was used for another position).
        """
        ...
