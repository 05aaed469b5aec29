"""The close commands this dashboard sent, matched with their outcomes.

A ``close_position`` reply (the ticket) and its ``command`` event travel separately: the
server sends the reply first, but the app may handle the event before the task awaiting
the reply resumes. Whichever comes second produces the notification, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["MAX_EARLY", "CommandTracker"]

# Outcomes kept while their ticket has not come back (anyone's commands land here too).
MAX_EARLY: Final = 32


class CommandTracker:
    """Ticket first or outcome first, each command's outcome is reported once."""

    def __init__(self) -> None:
        self._waiting: dict[str, str] = {}  # command id -> position
        self._early: dict[str, Mapping[str, Any]] = {}  # command id -> outcome

    @property
    def waiting(self) -> dict[str, str]:
        """Commands sent whose outcome has not arrived, by command id."""
        return dict(self._waiting)

    def sent(self, ticket: Mapping[str, Any], position: str) -> Mapping[str, Any] | None:
        """Note a ticket; returns the outcome if it is already known (a repeated
        idempotency key, or the event came first)."""
        command_id = str(ticket.get("command_id"))
        outcome = ticket.get("outcome") if ticket.get("duplicate") else None
        if not isinstance(outcome, Mapping):
            outcome = self._early.pop(command_id, None)
        if outcome is not None:
            return outcome
        self._waiting[command_id] = position
        return None

    def finished(self, data: Any) -> Mapping[str, Any] | None:
        """Note a ``command`` event's data; returns it if it answers a command we sent
        and are waiting for."""
        if not isinstance(data, Mapping):
            return None
        command_id = data.get("command_id")
        if not isinstance(command_id, str):
            return None
        if self._waiting.pop(command_id, None) is not None:
            return data
        self._early[command_id] = data
        while len(self._early) > MAX_EARLY:
            self._early.pop(next(iter(self._early)))
        return None
