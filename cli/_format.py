"""Text for numbers, times and one-line summaries of the snapshot document.

Shared by the Rich views and the plain-line output of ``dash watch``; imports no Rich so
plain output and the field printer stay light. Every function takes the document's own
strings (Decimals travel as strings) and never raises on a missing or odd value: a
dashboard shows ``-`` rather than dying on one bad cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "DASH",
    "age",
    "countdown",
    "decimal",
    "event_line",
    "event_text",
    "money",
    "next_funding_seconds",
    "number",
    "parse_time",
    "percent",
    "plain_line",
    "short_time",
]

DASH: Final = "-"
_CENT: Final = Decimal("0.01")


def decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def money(value: Any, *, signed: bool = False) -> str:
    """``1,234.50``; with ``signed``, ``+1,234.50`` / ``-0.10`` (PnL reads at a glance)."""
    amount = decimal(value)
    if amount is None:
        return DASH
    amount = amount.quantize(_CENT)
    text = f"{amount:,.2f}"
    if signed and amount > 0:
        text = "+" + text
    return text


def number(value: Any, places: int | None = None) -> str:
    """A quantity or bps figure as sent, or rounded to ``places``."""
    amount = decimal(value)
    if amount is None:
        return DASH
    if places is None:
        return f"{amount.normalize():f}" if amount == amount.to_integral() else str(amount)
    return f"{amount:,.{places}f}"


def percent(value: Any, places: int = 2) -> str:
    """A fraction as a percentage: ``0.1095`` -> ``10.95%``."""
    amount = decimal(value)
    if amount is None:
        return DASH
    return f"{amount * 100:.{places}f}%"


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 document time (``...Z``) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def short_time(value: Any) -> str:
    """``2023-06-01 08:00`` (UTC): enough for an operator, short enough for a header."""
    parsed = parse_time(value)
    return parsed.strftime("%Y-%m-%d %H:%M") if parsed else DASH


def countdown(seconds: float | None) -> str:
    """A time to go: ``45s``, ``12m``, ``7h59m``, ``2d3h``; ``due`` when it has passed."""
    if seconds is None:
        return DASH
    if seconds <= 0:
        return "due"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def age(seconds: float | None) -> str:
    """How long ago: ``0.4s``, ``12s``, ``3m10s``, ``2h05m``."""
    if seconds is None:
        return DASH
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def next_funding_seconds(position: Mapping[str, Any], clock: Any) -> float | None:
    """Market seconds from the document's ``clock`` to the position's next settlement.

    Market time, not wall time: at ``--speed 3600`` an hour of countdown passes in a
    second, and the clock is what the strategy itself sees.
    """
    now = parse_time(clock)
    upcoming = position.get("next_funding")
    if now is None or not isinstance(upcoming, Mapping):
        return None
    times = [t for t in (parse_time(v) for v in upcoming.values()) if t is not None]
    if not times:
        return None
    return (min(times) - now).total_seconds()


def plain_line(doc: Mapping[str, Any]) -> str:
    """One line per update for pipes and dumb terminals: stable ``key=value`` words, so
    ``grep``/``awk`` can pick fields without parsing JSON."""
    totals = doc.get("totals")
    totals = totals if isinstance(totals, Mapping) else {}
    words = [
        str(doc.get("clock") or DASH),
        f"strategy={doc.get('strategy', DASH)}",
        f"seq={doc.get('seq', DASH)}",
        f"status={doc.get('status', DASH)}",
        f"mode={doc.get('mode', DASH)}",
        f"open={totals.get('open_positions', 0)}",
        f"funding={totals.get('funding_collected', '0')}",
        f"fees={totals.get('fees', '0')}",
        f"net_pnl={totals.get('net_pnl', '0')}",
    ]
    alerts = doc.get("alerts")
    if isinstance(alerts, Mapping) and alerts:
        words.append(f"alerts={len(alerts)}")
    return " ".join(words)


def event_text(event: Mapping[str, Any]) -> str | None:
    """A notice from the feed in a few words (``None`` for events not worth a line)."""
    name = event.get("event")
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    position = data.get("position") or ""
    if name == "position_opened":
        text = (
            f"opened {position} {data.get('symbol', '')} "
            f"{data.get('long_venue', '?')}/{data.get('short_venue', '?')} "
            f"qty {data.get('qty', '?')}"
        )
    elif name == "position_closed":
        text = (
            f"closed {position} {data.get('symbol', '')} ({data.get('reason', '?')}) "
            f"PnL {money(data.get('realized_pnl'), signed=True)}"
        )
    elif name == "alert":
        text = f"alert {str(data.get('level', '?')).upper()} {data.get('code', '?')} {position}"
        text = f"{text.rstrip()}: {data.get('message', '')}"
    elif name == "command":
        text = f"command {data.get('command_id', '?')} {data.get('op', '')} {position}: "
        text += str(data.get("status", "?"))
    elif name in ("strategy_started", "strategy_stopped"):
        text = f"{str(name).replace('_', ' ')} ({data.get('reason') or data.get('mode') or '-'})"
    elif name in ("feed_lost", "feed_restored"):
        text = f"{str(name).replace('_', ' ')}: {data.get('venue', '?')} {data.get('symbol') or ''}"
    else:
        return None
    return text.rstrip()


def event_line(event: Mapping[str, Any]) -> str | None:
    """A notice as a plain line: its market time, ``event=NAME``, then the words."""
    text = event_text(event)
    if text is None:
        return None
    words = (
        event.get("ts", DASH),
        f"event={event.get('event')}",
        f"strategy={event.get('strategy')}",
    )
    return " ".join((*map(str, words), text))
