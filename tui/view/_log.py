"""The alerts log: the document's alerts plus the notices seen on the stream.

Alerts live in the document (``alerts``, by id), so they survive a reconnect; the other
notices (positions opened and closed, command outcomes, feed lost) are events only, so
the dashboard keeps the ones it saw. Both become :class:`LogEntry` and are shown newest
first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from tui.view._format import money

__all__ = ["LEVELS", "LogEntry", "alert_entries", "command_outcome", "merge", "notice_entry"]

# level -> rank; unknown levels rank as warn.
LEVELS: Final[Mapping[str, int]] = {"info": 0, "warn": 1, "error": 2, "critical": 2}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the log; ``ts`` is market time (ISO ``Z``), ``key`` unique."""

    key: str
    ts: str
    level: str
    code: str
    message: str
    position: str | None = None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def alert_entries(alerts: Mapping[str, Any]) -> list[LogEntry]:
    """The document's ``alerts`` collection as entries."""
    entries = []
    for aid, doc in alerts.items():
        if not isinstance(doc, Mapping):
            continue
        position = doc.get("position")
        entries.append(
            LogEntry(
                f"alert:{aid}",
                _str(doc.get("ts")),
                _str(doc.get("level"), "warn"),
                _str(doc.get("code"), "alert"),
                _str(doc.get("message")),
                position if isinstance(position, str) else None,
            )
        )
    return entries


def command_outcome(data: Mapping[str, Any]) -> tuple[str, str]:
    """The words and severity (``information`` or ``error``) for a ``command`` event."""
    position = _str(data.get("position"), "?")
    status = _str(data.get("status"), "?")
    if status == "completed":
        result = data.get("result")
        pnl = result.get("realized_pnl") if isinstance(result, Mapping) else None
        pnl = pnl if pnl is not None else data.get("realized_pnl")
        tail = f" · realised PnL {money(pnl, signed=True)}" if pnl is not None else ""
        return f"Close of {position} completed{tail}", "information"
    error = _str(data.get("error")) or _str(data.get("reason")) or "no reason given"
    return f"Close of {position} {status}: {error}", "error"


def notice_entry(event: Mapping[str, Any], counter: int) -> LogEntry | None:
    """A notice event as an entry; None for kinds the log does not show (``alert`` is
    already in the document)."""
    kind = _str(event.get("event"))
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    ts = _str(event.get("ts"))
    key = f"{kind}:{counter}"
    position = data.get("position") if isinstance(data.get("position"), str) else None
    if kind == "command":
        text, severity = command_outcome(data)
        level = "info" if severity == "information" else "error"
        return LogEntry(key, ts, level, "command", text, position)
    if kind == "position_opened":
        text = (
            f"Opened {_str(data.get('symbol'), '?')} long {_str(data.get('long_venue'), '?')}"
            f" / short {_str(data.get('short_venue'), '?')}, notional "
            f"{money(data.get('notional'))}"
        )
        return LogEntry(key, ts, "info", "opened", text, position)
    if kind == "position_closed":
        text = (
            f"Closed {_str(data.get('symbol'), '?')} ({_str(data.get('reason'), '?')}), "
            f"PnL {money(data.get('realized_pnl'), signed=True)}"
        )
        return LogEntry(key, ts, "info", "closed", text, position)
    if kind in ("feed_lost", "feed_restored"):
        where = " ".join(_str(data.get(k)) for k in ("venue", "symbol") if data.get(k))
        lost = kind == "feed_lost"
        text = f"Market data {'lost' if lost else 'restored'}: {where or 'all venues'}"
        return LogEntry(key, ts, "warn" if lost else "info", kind, text)
    if kind in ("strategy_started", "strategy_stopped"):
        verb = "started" if kind == "strategy_started" else "stopped"
        reason = _str(data.get("reason"))
        return LogEntry(key, ts, "info", kind, f"Strategy {verb}{f' ({reason})' if reason else ''}")
    if kind == "alert_delivery_failed":
        text = f"Alert delivery to {_str(data.get('sink'), '?')} failed: {_str(data.get('error'))}"
        return LogEntry(key, ts, "warn", kind, text)
    return None


def merge(alerts: Iterable[LogEntry], notices: Iterable[LogEntry], limit: int) -> list[LogEntry]:
    """Newest first (by market time; later arrivals first among equal times)."""
    entries = [*alerts, *notices]
    order = {entry.key: i for i, entry in enumerate(entries)}
    entries.sort(key=lambda e: (e.ts, order[e.key]), reverse=True)
    return entries[:limit]
