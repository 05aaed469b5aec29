"""Text for numbers, times and one-line summaries of the snapshot document.

The one home of these primitives for every front end: the Rich views, the plain lines of
``dash watch`` and the TUI (``tui.view`` re-exports them), so a figure reads the same
wherever it is shown. Imports no Rich, Typer or Textual, so plain output and the fast
path stay light. Every function takes the document's own strings (Decimals travel as
strings) and never raises on a missing or odd value: a dashboard shows ``-`` rather than
dying on one bad cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
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
    "sign_style",
]

DASH: Final = "-"
_CENT: Final = Decimal("0.01")


def decimal(value: Any) -> Decimal | None:
    """A document amount as a Decimal, or None when absent or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def money(value: Any, *, signed: bool = False) -> str:
    """``1,234.50``; with ``signed``, ``+1,234.50`` / ``-0.10`` (PnL reads at a glance).

    Rounded before the sign is chosen, so a dust amount reads ``0.00``, never ``+0.00``
    or ``-0.00``.
    """
    amount = decimal(value)
    if amount is None:
        return DASH
    amount = amount.quantize(_CENT)
    if amount == 0:
        amount = amount.copy_abs()
    text = f"{amount:,.2f}"
    if signed and amount > 0:
        text = "+" + text
    return text


def number(value: Any, places: int | None = None) -> str:
    """A quantity or bps figure as sent (what was traded, unrounded), or rounded to
    ``places``."""
    amount = decimal(value)
    if amount is None:
        return DASH
    if places is None:
        return f"{amount.normalize():f}" if amount == amount.to_integral() else str(amount)
    return f"{amount:,.{places}f}"


def percent(value: Any, places: int = 2, *, signed: bool = False) -> str:
    """A fraction as a percentage: ``0.1095`` -> ``10.95%`` (``+10.95%`` when
    ``signed``)."""
    amount = decimal(value)
    if amount is None:
        return DASH
    text = f"{amount * 100:.{places}f}%"
    if signed and amount > 0:
        text = "+" + text
    return text


def sign_style(value: Any, positive: str = "green", negative: str = "red") -> str:
    """The style name of an amount by its sign ("" for zero or unknown): gains and losses
    are coloured alike in ``dash watch`` and the TUI. A name, not a Rich style, so this
    module stays free of Rich."""
    amount = decimal(value)
    if amount is None or amount == 0:
        return ""
    return positive if amount > 0 else negative


@lru_cache(maxsize=4096)
def _parse_iso(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 document time (``...Z``) as an aware UTC datetime.

    Memoised: the same funding and opening times come back in every patch, and the TUI
    parses them for every row it redraws.
    """
    if not isinstance(value, str) or not value:
        return None
    return _parse_iso(value)


def short_time(value: Any, *, year: bool = True) -> str:
    """``2023-06-01 08:00`` (UTC): enough for an operator, short enough for a header;
    ``06-01 08:00`` without the ``year``, for log lines and narrow panes."""
    parsed = parse_time(value)
    if parsed is None:
        return DASH
    return parsed.strftime("%Y-%m-%d %H:%M" if year else "%m-%d %H:%M")


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


def next_funding_seconds(position: Mapping[str, Any], clock: datetime | str | None) -> float | None:
    """Market seconds from ``clock`` (the document's ``clock`` string, or it already
    parsed) to the position's next settlement, the earlier of its legs.

    Market time, not wall time: at ``--speed 3600`` an hour of countdown passes in a
    second, and the clock is what the strategy itself sees.
    """
    now = clock if isinstance(clock, datetime) else parse_time(clock)
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
